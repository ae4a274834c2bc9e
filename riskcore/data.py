"""Price data: CSV ingestion, validation, data-quality reports, samples and the store.

A price file becomes a :class:`PriceSeries` through :func:`load_prices`, which
detects the layout, validates every row and records what it had to fix in a
:class:`DataQualityReport`. Anything it cannot accept raises
:class:`~riskcore.errors.InputError` naming the row and the column; nothing is
written anywhere when a file is rejected (saving is a separate, explicit
:meth:`PriceSeries.save`).

Decisions (where the specification is silent)
---------------------------------------------
* **Layouts.** The date column is the first column named like ``date``,
  ``datetime``, ``timestamp``, ``time``, ``ts`` or ``day`` (case, spaces and
  underscores ignored), else the first column. The price column is, in order of
  preference, ``adj close`` (dividend/split adjusted, the right input for
  returns), ``close``, ``price``, ``close price``, ``last``, ``value``,
  ``px_last``; a file with exactly two columns uses the second. Optional columns:
  ``volume`` and ``fiat_flow`` (also ``fiat flow``, ``fiat_activity``).
* **Separators** ``,`` ``;`` ``\\t`` ``|`` are sniffed from the header line. With
  ``;`` a decimal comma (``1,0021``) is accepted.
* **Encodings.** UTF-8 (with or without BOM), UTF-16/32 with BOM, else Windows-1252
  (Latin-1 for the bytes it leaves undefined). A NUL byte without a UTF-16/32 BOM,
  or more than 5 % control characters in the first 1 Mi characters, is "binary data"
  and rejected.
* **Ragged rows.** A row with more fields than the header is rejected, naming the
  row (a shifted row would put another column's value in the price). Leading blank
  lines are skipped; rows whose date, price, volume and fiat flow cells are all
  empty count as blank lines.
* **Speed.** Unquoted files read only the used columns, numbers straight to float64;
  a file with quotes or a cell that is not a plain number is read as text and every
  cell checked (which is how a bad cell gets its row and column in the message).
* **Dates.** ISO 8601 first (``2024-01-31``, ``2024-01-31T00:00:00Z``; time zones
  are converted to UTC and dropped), then common formats (``31/01/2024``,
  ``01/31/2024``, ``31.01.2024``, ``20240131``, ``Jan 31, 2024`` ...), then Unix
  epoch numbers (seconds, milliseconds or microseconds by magnitude). When both
  day-first and month-first read every row (all days <= 12), the reading with the
  more nearly sorted dates wins, ties going to month-first, and a warning says so.
* **Missing prices** (empty, ``NaN``, ``null``, ``N/A``, ``-``) drop the row; the
  count is reported. A row with a price but no readable date is rejected.
* **Gaps** are spacings longer than 5x the median spacing (a weekend in daily
  business data is 3x, so it is not a gap); they are listed and warned about.
* **Header.** A first line whose second cell is a number is data, not a header:
  the file is read as ``date, price[, ...]`` without one.
* **Rows** in messages are 1-based data rows as in the file (the header, when there
  is one, is not counted; blank lines are).
* ``checksum`` is the sha256 the store computes for the same values, so a series
  and its stored copy carry the same checksum; ``report.file_sha256`` is that of
  the raw file.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import os
import re
import warnings as _warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from riskcore.errors import InputError
from riskcore.returns import simple_returns

__all__ = [
    "PriceSeries",
    "DataQualityReport",
    "ReturnKind",
    "load_prices",
    "gap_positions",
    "sample_datasets",
    "load_sample",
    "MAX_FILE_BYTES",
    "MIN_ROWS",
    "SAMPLES_DIR",
    "TableLayout",  # column mapping (end of the module)
    "ValueKind",
    "inspect_table",
    "load_mapped",
    "prices_from_returns",
]

#: largest accepted file (bytes)
MAX_FILE_BYTES: int = 50 * 1024 * 1024
#: most columns accepted (a wider first line is rejected before parsing: the work stays bounded)
MAX_COLUMNS: int = 1_000
#: fewest price rows accepted (after dropping rows without a price)
MIN_ROWS: int = 30
#: a spacing longer than this multiple of the median spacing is a gap
GAP_FACTOR: float = 5.0
#: characters inspected for control characters (binary detection)
_BINARY_SAMPLE: int = 1 << 20
#: folder of the shipped sample files (``data/`` at the repository root)
SAMPLES_DIR: Path = Path(__file__).resolve().parents[1] / "data"

_SAMPLES: dict[str, str] = {"stable_token": "stable_token.csv", "sp500": "sp500.csv"}

_DATE_NAMES = ("date", "datetime", "timestamp", "time", "ts", "day", "tradedate")
_PRICE_NAMES = ("adjclose", "adjustedclose", "close", "price", "closeprice", "last", "value", "pxlast")
_VOLUME_NAMES = ("volume", "vol")
_FIAT_NAMES = ("fiatflow", "fiatactivity", "fiat")
_NA_VALUES = ["", "nan", "NaN", "NAN", "null", "NULL", "None", "NA", "N/A", "n/a", "#N/A", "-", "--", "."]
_DATE_FORMATS = (
    "%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d",
    "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%m-%d-%Y",
    "%d/%m/%y", "%m/%d/%y", "%d.%m.%y",
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M",
    "%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%d %B %Y", "%d-%b-%Y", "%d-%b-%y", "%b %d %Y",
)
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_NUMBER_RE = re.compile(r"^[+-]?(\d+([.]\d*)?|[.]\d+)([eE][+-]?\d+)?$")


class ReturnKind(StrEnum):
    """Kind of return computed by :meth:`PriceSeries.returns`."""

    SIMPLE = "simple"
    LOG = "log"


@dataclass(frozen=True)
class DataQualityReport:
    """What the loader found and fixed in a price file.

    Attributes
    ----------
    rows_read : int
        Data rows in the file (blank lines not counted).
    rows_kept : int
        Rows in the series.
    nan_rows_dropped : int
        Rows dropped because the price was missing.
    unsorted_fixed : bool
        The dates were not in increasing order and have been sorted.
    n_gaps : int
        Spacings longer than ``GAP_FACTOR`` x the median spacing.
    gaps : tuple of (str, str, float)
        (from date, to date, days) of the largest gaps, at most 20.
    median_spacing_days : float
        Median time between consecutive rows, in days.
    warnings : tuple of str
        Human-readable warnings (not rejections).
    date_column, price_column, volume_column, fiat_flow_column : str or None
        Columns used, as named in the file.
    separator, encoding, date_format : str
        How the file was read.
    file_sha256 : str or None
        sha256 of the raw bytes (None for a series not read from a file).
    """

    rows_read: int
    rows_kept: int
    nan_rows_dropped: int = 0
    unsorted_fixed: bool = False
    n_gaps: int = 0
    gaps: tuple[tuple[str, str, float], ...] = ()
    median_spacing_days: float = float("nan")
    warnings: tuple[str, ...] = ()
    date_column: str | None = None
    price_column: str | None = None
    volume_column: str | None = None
    fiat_flow_column: str | None = None
    separator: str | None = None
    encoding: str | None = None
    date_format: str | None = None
    file_sha256: str | None = None

    def summary(self) -> pd.DataFrame:
        """One row per check: ``item``, ``value``."""
        rows = [
            ("rows read", self.rows_read), ("rows kept", self.rows_kept),
            ("rows without price dropped", self.nan_rows_dropped),
            ("dates were unsorted (sorted)", self.unsorted_fixed),
            ("gaps", self.n_gaps), ("median spacing (days)", round(self.median_spacing_days, 4)),
            ("date column", self.date_column), ("price column", self.price_column),
            ("volume column", self.volume_column), ("fiat flow column", self.fiat_flow_column),
            ("separator", self.separator), ("encoding", self.encoding), ("date format", self.date_format),
        ]
        return pd.DataFrame({"item": [r[0] for r in rows], "value": [str(r[1]) for r in rows]})

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["gaps"] = [list(g) for g in self.gaps]
        d["warnings"] = list(self.warnings)
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DataQualityReport:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["gaps"] = tuple(tuple(g) for g in known.get("gaps", ()))
        known["warnings"] = tuple(known.get("warnings", ()))
        return cls(**known)


@dataclass(frozen=True, eq=False)
class PriceSeries:
    """A validated price series (and optional volume and fiat flow).

    Attributes
    ----------
    prices : pandas.Series
        float64 prices, strictly positive and finite, on a sorted, unique
        ``DatetimeIndex`` named ``"date"``.
    volume, fiat_flow : pandas.Series or None
        Optional columns on the same index (may contain NaN).
    name : str
        Dataset name.
    source_name : str or None
        File the series came from.
    checksum : str
        sha256 of the values, computed as :meth:`riskcore.store.Store.save_dataset` does.
    report : DataQualityReport

    Examples
    --------
    >>> s = load_sample("stable_token")       # doctest: +SKIP
    >>> len(s), s.returns("log").std()        # doctest: +SKIP
    """

    prices: pd.Series
    volume: pd.Series | None = None
    fiat_flow: pd.Series | None = None
    name: str = "series"
    source_name: str | None = None
    checksum: str = ""
    report: DataQualityReport = field(default_factory=lambda: DataQualityReport(0, 0))

    def __len__(self) -> int:
        return len(self.prices)

    def __repr__(self) -> str:
        if len(self.prices) == 0:
            return f"PriceSeries({self.name!r}, empty)"
        return (f"PriceSeries({self.name!r}, {len(self)} rows, {self.prices.index[0]:%Y-%m-%d} .. "
                f"{self.prices.index[-1]:%Y-%m-%d})")

    @property
    def start(self) -> pd.Timestamp:
        return self.prices.index[0]

    @property
    def end(self) -> pd.Timestamp:
        return self.prices.index[-1]

    def returns(self, kind: ReturnKind | str = ReturnKind.SIMPLE) -> pd.Series:
        """Returns between consecutive rows, indexed by the later date.

        Parameters
        ----------
        kind : {"simple", "log"}
            ``p_t / p_{t-1} - 1`` or ``log(p_t / p_{t-1})``.
        """
        try:
            kind = ReturnKind(kind)
        except ValueError:
            raise InputError("kind", "must be 'simple' or 'log'", value=kind) from None
        p = self.prices
        out = np.log(p).diff().iloc[1:] if kind is ReturnKind.LOG else simple_returns(p)
        return out.rename(f"{kind.value}_return")

    def to_frame(self) -> pd.DataFrame:
        """DataFrame indexed by date with ``price`` and, when present, ``volume`` and ``fiat_flow``."""
        cols: dict[str, pd.Series] = {"price": self.prices}
        if self.volume is not None:
            cols["volume"] = self.volume
        if self.fiat_flow is not None:
            cols["fiat_flow"] = self.fiat_flow
        frame = pd.DataFrame(cols)
        frame.index.name = "date"
        return frame

    # -- store -----------------------------------------------------------------------
    def save(self, store: Any, name: str | None = None) -> str:
        """Save in ``store`` (a :class:`riskcore.store.Store`); returns the dataset id."""
        meta = {"report": self.report.to_dict(), "checksum": self.checksum}
        return store.save_dataset(name or self.name, self.to_frame(), source_name=self.source_name, meta=meta)

    @classmethod
    def from_store(cls, store: Any, id_or_name: str) -> PriceSeries:
        """Load a dataset saved with :meth:`save` (or any dataset of the store)."""
        rec = store.load_dataset(id_or_name)
        frame = rec.frame
        report = rec.meta.get("report")
        rep = DataQualityReport.from_dict(report) if isinstance(report, Mapping) else None
        return _from_typed(
            pd.DatetimeIndex(frame.index), frame["price"].to_numpy(dtype="float64"),
            None if "volume" not in frame else frame["volume"].to_numpy(dtype="float64"),
            None if "fiat_flow" not in frame else frame["fiat_flow"].to_numpy(dtype="float64"),
            name=rec.name, source_name=rec.source_name, report=rep)

    @classmethod
    def from_series(
        cls,
        series: pd.Series,
        name: str = "series",
        *,
        volume: pd.Series | None = None,
        fiat_flow: pd.Series | None = None,
        source_name: str | None = None,
    ) -> PriceSeries:
        """Validate a pandas Series of prices with a DatetimeIndex (same rules as files)."""
        if not isinstance(series, pd.Series):
            raise InputError("prices", "must be a pandas Series with a DatetimeIndex", value=type(series).__name__)
        if not isinstance(series.index, pd.DatetimeIndex):
            raise InputError("prices", "index must be a DatetimeIndex", value=type(series.index).__name__)
        try:
            values = pd.to_numeric(series, errors="raise").to_numpy(dtype="float64")
        except (TypeError, ValueError):
            raise InputError("prices", "must be numeric") from None

        def align(s: pd.Series | None, field_name: str) -> np.ndarray | None:
            if s is None:
                return None
            try:
                return pd.to_numeric(s.reindex(series.index), errors="raise").to_numpy(dtype="float64")
            except (TypeError, ValueError):
                raise InputError(field_name, "must be numeric") from None

        idx = series.index.tz_convert(None) if series.index.tz is not None else series.index
        return _from_typed(idx, values, align(volume, "volume"), align(fiat_flow, "fiat_flow"),
                           name=name, source_name=source_name, report=None, rows_read=len(series))


# -- samples ------------------------------------------------------------------------------
def sample_datasets() -> dict[str, Path]:
    """Shipped sample files: ``{"stable_token": path, "sp500": path}`` (see ``data/README.md``)."""
    return {k: SAMPLES_DIR / v for k, v in _SAMPLES.items()}


def load_sample(name: str) -> PriceSeries:
    """Load a shipped sample by name (``"stable_token"`` or ``"sp500"``)."""
    paths = sample_datasets()
    if name not in paths:
        raise InputError("sample", f"unknown sample; available: {', '.join(paths)}", value=name)
    if not paths[name].exists():
        raise InputError("sample", f"sample file {paths[name]} is missing; run data/make_samples.py", value=name)
    return load_prices(paths[name], name=name)


# -- loading ------------------------------------------------------------------------------
def _spacing(index: pd.DatetimeIndex) -> tuple[np.ndarray, float, np.ndarray]:
    """Spacings in days, their median, and the positions ``i`` whose spacing to ``i + 1`` is a gap."""
    spacing = np.diff(index.asi8) / 86_400e9
    median = float(np.median(spacing)) if len(spacing) else float("nan")
    gap_pos = np.flatnonzero(spacing > GAP_FACTOR * median) if median > 0 else np.array([], dtype=int)
    return spacing, median, gap_pos


def gap_positions(index: pd.DatetimeIndex) -> np.ndarray:
    """Positions ``i`` of a sorted index where the step to row ``i + 1`` is a gap.

    A gap is a spacing longer than :data:`GAP_FACTOR` x the median spacing, the rule of the
    loader's data-quality report (whose ``gaps`` lists only the 20 largest). Returns an int array,
    empty when the index has fewer than two rows.
    """
    return _spacing(index)[2]


def load_prices(
    source: str | os.PathLike[str] | bytes | bytearray | BinaryIO | io.TextIOBase,
    name: str | None = None,
    *,
    source_name: str | None = None,
) -> PriceSeries:
    """Read and validate a price CSV.

    Parameters
    ----------
    source : path, bytes or file object
        A path (``str`` or ``PathLike``), the file's bytes, or an open binary/text
        file object (e.g. a Streamlit ``UploadedFile``; its ``.name`` is used).
    name : str, optional
        Dataset name; defaults to the file's stem (``"upload"`` for bare bytes).
    source_name : str, optional
        File name to record; defaults to the path's or file object's name.

    Returns
    -------
    PriceSeries

    Raises
    ------
    InputError
        Empty or binary file, no price column, fewer than ``MIN_ROWS`` rows,
        non-numeric / non-positive prices, unparseable or duplicated dates, file
        larger than ``MAX_FILE_BYTES``. The message names the row and column.

    Notes
    -----
    Layout detection, formats and warnings are described in the module docstring.
    """
    raw, src_name = _read_source(source)
    if source_name is None:
        source_name = src_name
    if name is None:
        name = Path(source_name).stem if source_name else "upload"
    text, encoding = _decode(raw)
    try:
        return _parse(text, name=name, source_name=source_name, encoding=encoding,
                      file_sha=hashlib.sha256(raw).hexdigest())
    except InputError:
        raise
    except (ValueError, TypeError, OverflowError, IndexError, KeyError, pd.errors.ParserError,
            pd.errors.EmptyDataError, _csv_error()) as exc:  # anything else the parser throws at odd input
        raise InputError("file", f"could not be read as a price CSV ({type(exc).__name__}: {exc})"[:300]) from None


def _csv_error() -> type[BaseException]:
    import csv

    return csv.Error


def _read_source(source: Any) -> tuple[bytes, str | None]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        raw = bytes(source)
        src_name = None
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise InputError("file", "no such file", value=str(path))
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError("file", f"is larger than {MAX_FILE_BYTES // 2**20} MB", value=f"{size / 2**20:.1f} MB")
        raw = path.read_bytes()
        src_name = path.name
    elif hasattr(source, "read"):
        data = source.read(MAX_FILE_BYTES + 1)
        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        nm = getattr(source, "name", None)
        src_name = Path(nm).name if isinstance(nm, str) and nm else None
    else:
        raise InputError("source", "must be a path, bytes or a file object", value=type(source).__name__)
    if len(raw) > MAX_FILE_BYTES:
        raise InputError("file", f"is larger than {MAX_FILE_BYTES // 2**20} MB", value=f"{len(raw) / 2**20:.1f} MB")
    if not raw.strip():
        raise InputError("file", "is empty; expected a CSV with a date and a price column")
    return raw, src_name


def _decode(raw: bytes) -> tuple[str, str]:
    boms = [(codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
            (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")]
    text = None
    encoding = ""
    for bom, enc in boms:
        if raw.startswith(bom):
            try:
                text, encoding = raw.decode(enc), enc
            except UnicodeDecodeError:
                raise InputError("file", f"starts with a {enc} byte-order mark but is not valid {enc}") from None
            break
    if text is None:
        if b"\x00" in raw:
            raise InputError("file", "looks like binary data (NUL bytes), not a CSV text file (save spreadsheets as "
                             "CSV; UTF-16 text needs a byte-order mark)")
        try:
            text, encoding = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text = raw.decode("cp1252", errors="replace")
            if "\ufffd" in text:
                text, encoding = raw.decode("latin-1"), "latin-1"
            else:
                encoding = "cp1252"
    if "\x00" in text:
        raise InputError("file", "looks like binary data (NUL characters), not a CSV text file")
    head = text[:_BINARY_SAMPLE]  # a prefix is enough to tell text from binary, and a 50 MB file stays fast
    control = len(head) - len(_CONTROL_RE.sub("", head))
    if control > 0.05 * len(head):
        raise InputError("file", "looks like binary data (control characters), not a CSV text file (save "
                         "spreadsheets as CSV)")
    if not text.strip():
        raise InputError("file", "is empty; expected a CSV with a date and a price column")
    return text, encoding


def _norm(col: str) -> str:
    return re.sub(r"[\s_\-\.\*\"']+", "", str(col)).lower()


def _sniff_sep(header: str) -> str:
    counts = {sep: header.count(sep) for sep in (",", ";", "\t", "|")}
    sep = max(counts, key=lambda s: counts[s])
    return sep if counts[sep] > 0 else ","


def _pick(norm_cols: list[str], names: tuple[str, ...]) -> int | None:
    for want in names:
        for i, c in enumerate(norm_cols):
            if c == want:
                return i
    return None


def _read_csv(text: str, sep: str, headerless: bool, **kw: Any) -> pd.DataFrame:
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        return pd.read_csv(io.StringIO(text), sep=sep, keep_default_na=False, na_values=_NA_VALUES,
                           skip_blank_lines=False, engine="c", skipinitialspace=True, on_bad_lines="error",
                           low_memory=False, header=None if headerless else "infer", **kw)


def _ragged(exc: BaseException, headerless: bool) -> InputError | None:
    """The parser's "Expected n fields in line k, saw m" as an InputError naming the data row."""
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
    if m is None:
        return None
    want, line, saw = (int(g) for g in m.groups())
    return InputError("file", f"has {saw} fields on this row where the header has {want} (check the separator "
                      "and quoting)", row=line if headerless else line - 1)


def _check_first_row(text: str, sep: str, n_columns: int, headerless: bool) -> None:
    """Reject a first data row with more fields than the header, before pandas sees it.

    pandas reads such a row as an index of one level per extra field (and its C parser
    allocates a column for each): seconds per kilobyte. The row is found by the ``csv``
    module, which follows the quotes; a field longer than its limit (128 KB) is rejected:
    no price file has one.
    """
    import csv

    reader = csv.reader(io.StringIO(text), delimiter=sep, skipinitialspace=True)
    try:
        records = [r for _, r in zip(range(1 if headerless else 2), reader, strict=False)]
    except csv.Error as exc:
        raise InputError("file", f"could not be read as a price CSV near its start ({exc})"[:300], row=1) from None
    row = records[-1] if len(records) == (1 if headerless else 2) else []
    if len(row) > n_columns:
        raise InputError("file", f"has {len(row)} fields on this row where the header has {n_columns} (check the "
                         "separator and quoting)", row=1)


def _parse(text: str, *, name: str, source_name: str | None, encoding: str, file_sha: str) -> PriceSeries:
    text = text.lstrip()  # leading blank lines are not part of the table
    first = next((ln for ln in text.split("\n", 5)[:5] if ln.strip()), "")
    sep = _sniff_sep(first)
    cells = [c.strip().strip('"') for c in first.split(sep)]
    # no header when the first line is data: a number in the second cell (``2024-01-02,1.0003``)
    headerless = len(cells) >= 2 and bool(_NUMBER_RE.match(cells[1].replace(",", ".") if sep == ";" else cells[1]))
    # bounded probe (issue 17): the header line alone, never the first data row, from which pandas
    # would infer an index of as many levels as the row has extra fields (minutes for a 60 KB file)
    n_fields = first.count(sep) + 1  # an upper bound: separators inside quotes count too
    if n_fields > MAX_COLUMNS:
        raise InputError("file", f"has {n_fields} fields in its first line; at most {MAX_COLUMNS} columns are "
                         "supported (check the separator)", value=n_fields)
    head_text = text.split("\n", 1)[0]
    if not headerless and not text[len(head_text):].strip():  # a header and blank lines: nothing to parse
        raise InputError("file", "has a header but no data rows")
    raw_cols = list(_read_csv(head_text, sep, headerless, nrows=0, dtype=str, index_col=False).columns)
    if headerless:
        columns = ["date", "price", *[f"column {i + 1}" for i in range(2, len(raw_cols))]]
    else:
        columns = [str(c).strip() for c in raw_cols]
    if len(columns) < 2:
        raise InputError("file", "needs at least two columns (a date and a price); found "
                         f"{len(columns)} with separator {sep!r}", value=[c[:40] for c in columns[:5]])
    norm = [_norm(c) for c in columns]
    date_i = _pick(norm, _DATE_NAMES)
    if date_i is None:
        date_i = 0
    price_i = _pick(norm, _PRICE_NAMES)
    if price_i is None and len(columns) == 2:
        price_i = 1 - date_i
    if price_i is None or price_i == date_i:
        raise InputError("price", "no price column found; name it one of Close, Adj Close, Price, Last, Value",
                         value=[c[:40] for c in columns[:10]])
    vol_i = _pick(norm, _VOLUME_NAMES)
    fiat_i = _pick(norm, _FIAT_NAMES)
    used = sorted({i for i in (date_i, price_i, vol_i, fiat_i) if i is not None})
    df = None
    if '"' not in text:
        # fast path for unquoted files: read only the used columns, numbers as float64; a row with more
        # fields than the header is found here because usecols would hide it
        n_lines = text.count("\n") + (0 if text.endswith("\n") else 1)
        if text.count(sep) != (len(columns) - 1) * n_lines:  # not every line full: find a line with too many
            # one regex pass in C (a Python loop over lines cost ~2 s per MB of blank lines)
            e = re.escape(sep)
            hit = re.compile(rf"^(?:[^\n{e}]*+{e}){{{len(columns)}}}", re.M).search(
                text, 0 if headerless else len(head_text) + 1)
            if hit is not None:
                line = text.count("\n", 0, hit.start())  # 0-based line of the file
                end = text.find("\n", hit.start())
                n_seps = text.count(sep, hit.start(), len(text) if end < 0 else end)
                raise InputError("file", f"has {n_seps + 1} fields on this row where the header has "
                                 f"{len(columns)} (check the separator and quoting)",
                                 row=line + 1 if headerless else line)
        numeric = {raw_cols[i]: "float64" for i in used if i != date_i}
        try:
            df = _read_csv(text, sep, headerless, usecols=used, dtype={raw_cols[date_i]: str, **numeric})
        except (ValueError, TypeError, OverflowError, pd.errors.ParserError):
            df = None  # a cell that is not a plain number: the careful path below names it
    if df is None:
        _check_first_row(text, sep, len(columns), headerless)
        try:
            df = _read_csv(text, sep, headerless, dtype=str).iloc[:, used]
        except pd.errors.ParserError as exc:
            err = _ragged(exc, headerless)
            if err is None:
                raise
            raise err from None
    df.columns = [columns[i] for i in used]
    pos = {i: k for k, i in enumerate(used)}
    date_i, price_i = pos[date_i], pos[price_i]
    vol_i = None if vol_i is None else pos[vol_i]
    fiat_i = None if fiat_i is None else pos[fiat_i]
    # 1-based data row numbers as in the file (blank lines count, header does not)
    df.index = pd.RangeIndex(1, len(df) + 1)
    df = df.dropna(how="all")
    if df.empty:
        raise InputError("file", "has a header but no data rows")
    date_col, price_col = df.columns[date_i], df.columns[price_i]
    rows_read = len(df)

    prices = _numbers(df.iloc[:, price_i], price_col, sep)
    keep = prices.notna()
    nan_dropped = int((~keep).sum())
    df, prices = df[keep], prices[keep]
    if len(df) < MIN_ROWS:
        raise InputError("rows", f"need at least {MIN_ROWS} rows with a price, found {len(df)}", value=len(df))
    bad = ~np.isfinite(prices.to_numpy()) | (prices.to_numpy() <= 0)
    if bad.any():
        row = prices.index[np.argmax(bad)]
        raise InputError(str(price_col), "prices must be finite numbers > 0", value=df.at[row, price_col], row=int(row))

    dates, date_format, date_warn = _parse_dates(df.iloc[:, date_i], str(date_col))
    volume = _numbers(df.iloc[:, vol_i], df.columns[vol_i], sep) if vol_i is not None else None
    if volume is not None:
        neg = volume.to_numpy() < 0
        if neg.any():
            row = volume.index[np.argmax(neg)]
            raise InputError(str(df.columns[vol_i]), "volume must be >= 0",
                             value=float(volume.iloc[int(np.argmax(neg))]), row=int(row))
    fiat = _numbers(df.iloc[:, fiat_i], df.columns[fiat_i], sep) if fiat_i is not None else None
    extra_warn = [date_warn] if date_warn else []
    if nan_dropped:
        extra_warn.append(f"{nan_dropped} row(s) without a price were dropped")
    base_report = DataQualityReport(
        rows_read=rows_read, rows_kept=0, nan_rows_dropped=nan_dropped, warnings=tuple(extra_warn),
        date_column=str(date_col), price_column=str(price_col),
        volume_column=None if vol_i is None else str(df.columns[vol_i]),
        fiat_flow_column=None if fiat_i is None else str(df.columns[fiat_i]),
        separator=sep, encoding=encoding, date_format=date_format, file_sha256=file_sha)
    return _from_typed(pd.DatetimeIndex(dates), prices.to_numpy(dtype="float64"),
                       None if volume is None else volume.to_numpy(dtype="float64"),
                       None if fiat is None else fiat.to_numpy(dtype="float64"),
                       name=name, source_name=source_name, report=base_report, rows_read=rows_read,
                       row_numbers=df.index.to_numpy(), field_names=(str(date_col), str(price_col)))


def _numbers(col: pd.Series, col_name: Any, sep: str) -> pd.Series:
    """Parse a text column to float; NaN stays NaN; anything else non-numeric is rejected.

    Plain numbers take the fast path; only cells that do not parse are cleaned (``$``,
    spaces, thousands separators, a decimal comma with ``;``) and checked.
    """
    if pd.api.types.is_float_dtype(col.dtype):  # already parsed by the fast reader
        return col.astype("float64")
    raw = col.astype("string")
    fast = pd.to_numeric(raw.where(raw.str.fullmatch(_NUMBER_RE.pattern).fillna(False)), errors="coerce")
    todo = fast.isna() & raw.notna()
    if not todo.any():
        return fast.astype("float64")
    s = raw[todo].str.strip().str.replace(r"^\$|\s", "", regex=True)
    if sep == ";":
        s = s.str.replace(",", ".", regex=False)
    else:  # thousands separators in quoted fields: 1,234.5
        s = s.str.replace(r"(?<=\d),(?=\d{3}(\D|$))", "", regex=True)
    ok = s.str.fullmatch(_NUMBER_RE.pattern).fillna(False) | s.str.lower().isin(["inf", "-inf", "+inf"])
    if not ok.all():
        pos = int(np.argmax(~ok.to_numpy()))
        label = s.index[pos]
        raise InputError(str(col_name), "not a number", value=str(col.loc[label])[:40], row=int(label))
    out = fast.astype("float64").copy()
    out.loc[s.index] = pd.to_numeric(s, errors="coerce").astype("float64").to_numpy()
    return out


def _parse_dates(col: pd.Series, col_name: str) -> tuple[pd.DatetimeIndex, str, str | None]:
    s = col.astype("string").str.strip()
    missing = s.isna() | (s == "")
    if missing.any():
        pos = int(np.argmax(missing.to_numpy()))
        raise InputError(col_name, "missing date", row=int(col.index[pos]))
    values = s.to_numpy(dtype=object)
    candidates: list[tuple[str, pd.DatetimeIndex]] = []
    best_fail: tuple[int, str] = (len(values) + 1, "")
    iso_bad: np.ndarray | None = None  # rows the ISO reading fails on, when it is the best failing reading
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        # ISO 8601 (with optional time and zone)
        try:
            iso = pd.to_datetime(pd.Series(values), format="ISO8601", utc=True, errors="coerce")
            bad_iso = iso.isna().to_numpy(dtype=bool) | ~s.str.match(r"^\d{4}-\d{2}-\d{2}").fillna(False).to_numpy(
                dtype=bool)
            n_bad = int(bad_iso.sum())
            if n_bad == 0:
                return _as_ns(iso.dt.tz_convert(None), col, col_name), "ISO 8601", None
            if n_bad < len(values):  # some rows are ISO: the first that is not is the row to report
                best_fail, iso_bad = (n_bad, "ISO 8601"), bad_iso
        except (ValueError, TypeError, OverflowError):  # e.g. OutOfBoundsDatetime despite errors="coerce"
            years = pd.to_numeric(s.str.extract(r"^(\d{4})-\d{2}-\d{2}", expand=False), errors="coerce")
            out = ((years <= pd.Timestamp.min.year) | (years >= pd.Timestamp.max.year)).fillna(False).to_numpy(bool)
            if out.any():
                pos = int(np.argmax(out))
                raise InputError(col_name, f"date out of range; dates from {pd.Timestamp.min:%Y-%m-%d} to "
                                 f"{pd.Timestamp.max:%Y-%m-%d} are supported", value=str(col.iloc[pos])[:40],
                                 row=int(col.index[pos])) from None
        head = pd.Series(values[:500])
        for fmt in _DATE_FORMATS:
            # formats that fail on the first 500 rows are not tried on the whole column
            if len(values) > 500 and pd.to_datetime(head, format=fmt, errors="coerce").isna().all():
                continue
            parsed = pd.to_datetime(pd.Series(values), format=fmt, errors="coerce")
            n_bad = int(parsed.isna().sum())
            if n_bad == 0:
                candidates.append((fmt, _as_ns(parsed, col, col_name)))
            elif n_bad < best_fail[0]:
                best_fail, iso_bad = (n_bad, fmt), None
        if not candidates and s.str.fullmatch(r"\d{9,17}(\.\d+)?").all():
            num = pd.to_numeric(s).to_numpy(dtype="float64")
            top = np.nanmax(np.abs(num))
            unit = "s" if top < 1e11 else "ms" if top < 1e14 else "us"
            return _as_ns(pd.to_datetime(num, unit=unit), col, col_name), f"unix epoch ({unit})", None
    if not candidates:
        if iso_bad is not None:  # e.g. ISO date-times with one bad row: report that row, not row 1
            pos = int(np.argmax(iso_bad))
        else:
            fmt = best_fail[1] or "%Y-%m-%d"
            parsed = pd.to_datetime(pd.Series(values), format=fmt, errors="coerce")
            pos = int(np.argmax(parsed.isna().to_numpy()))
        year = re.match(r"^\s*(\d{4})-\d{2}-\d{2}", str(col.iloc[pos]))
        if year and not pd.Timestamp.min.year < int(year.group(1)) < pd.Timestamp.max.year:
            raise InputError(col_name, f"date out of range; dates from {pd.Timestamp.min:%Y-%m-%d} to "
                             f"{pd.Timestamp.max:%Y-%m-%d} are supported", value=str(col.iloc[pos])[:40],
                             row=int(col.index[pos]))
        raise InputError(col_name, "unparseable date; use ISO 8601 (YYYY-MM-DD) or a common format such as "
                         "DD/MM/YYYY, MM/DD/YYYY, DD.MM.YYYY", value=str(col.iloc[pos])[:40], row=int(col.index[pos]))
    if len(candidates) == 1:
        return candidates[0][1], candidates[0][0], None

    def disorder(idx: pd.DatetimeIndex) -> int:
        return int((np.diff(idx.asi8) < 0).sum())

    ranked = sorted(candidates, key=lambda c: (disorder(c[1]), 0 if c[0].startswith("%m") else 1))
    fmt, idx = ranked[0]
    distinct = {tuple(c[1].asi8[: min(len(c[1]), 400)]) for c in candidates}
    warn = None
    if len(distinct) > 1:
        warn = (f"dates are ambiguous ({', '.join(c[0] for c in candidates)} all read every row); "
                f"used {fmt}, the reading with the most nearly sorted dates")
    return idx, fmt, warn


def _as_ns(parsed: Any, col: pd.Series, col_name: str) -> pd.DatetimeIndex:
    """Parsed dates at nanosecond resolution; a date outside its range is an InputError naming the row."""
    idx = pd.DatetimeIndex(parsed)
    out = np.asarray((idx < pd.Timestamp.min) | (idx > pd.Timestamp.max), dtype=bool)
    if out.any():
        pos = int(np.argmax(out))
        raise InputError(col_name, f"date out of range; dates from {pd.Timestamp.min:%Y-%m-%d} to "
                         f"{pd.Timestamp.max:%Y-%m-%d} are supported", value=str(col.iloc[pos])[:40],
                         row=int(col.index[pos]))
    return idx.as_unit("ns")


def _checksum(index: pd.DatetimeIndex, price: np.ndarray, volume: np.ndarray | None, fiat: np.ndarray | None) -> str:
    """The same sha256 :meth:`riskcore.store.Store.save_dataset` stores."""
    n = len(price)
    ts = np.asarray(index.as_unit("us").tz_localize(None) if index.tz is not None else index.as_unit("us"),
                    dtype="datetime64[us]")
    vals = np.column_stack([price, volume if volume is not None else np.full(n, np.nan),
                            fiat if fiat is not None else np.full(n, np.nan)]).astype("float64")
    return hashlib.sha256(ts.tobytes() + np.ascontiguousarray(vals).tobytes()).hexdigest()


def _from_typed(
    index: pd.DatetimeIndex,
    price: np.ndarray,
    volume: np.ndarray | None,
    fiat: np.ndarray | None,
    *,
    name: str,
    source_name: str | None,
    report: DataQualityReport | None,
    rows_read: int | None = None,
    row_numbers: np.ndarray | None = None,
    field_names: tuple[str, str] = ("date", "price"),
) -> PriceSeries:
    """Shared validation of typed columns: NaN prices dropped, positivity, duplicates, sorting, gaps."""
    date_name, price_name = field_names
    rows = np.arange(1, len(price) + 1) if row_numbers is None else np.asarray(row_numbers)
    index = pd.DatetimeIndex(index).as_unit("ns")
    if report is None:
        keep = ~np.isnan(price)
        nan_dropped = int((~keep).sum())
        index, price, rows = index[keep], price[keep], rows[keep]
        volume = None if volume is None else volume[keep]
        fiat = None if fiat is None else fiat[keep]
        report = DataQualityReport(rows_read=rows_read if rows_read is not None else len(keep), rows_kept=0,
                                   nan_rows_dropped=nan_dropped, date_column=date_name, price_column=price_name,
                                   warnings=(f"{nan_dropped} row(s) without a price were dropped",)
                                   if nan_dropped else ())
    if len(price) < MIN_ROWS:
        raise InputError("rows", f"need at least {MIN_ROWS} rows with a price, found {len(price)}", value=len(price))
    if index.hasnans:
        pos = int(np.argmax(index.isna()))
        raise InputError(date_name, "missing date", row=int(rows[pos]))
    bad = ~np.isfinite(price) | (price <= 0)
    if bad.any():
        pos = int(np.argmax(bad))
        raise InputError(price_name, "prices must be finite numbers > 0", value=float(price[pos]), row=int(rows[pos]))
    dup = index.duplicated()
    if dup.any():
        pos = int(np.argmax(dup))
        raise InputError(date_name, "duplicated date", value=str(index[pos]), row=int(rows[pos]))
    warns = list(report.warnings)
    unsorted = not index.is_monotonic_increasing
    if unsorted:
        order = np.argsort(index.asi8, kind="stable")
        index, price = index[order], price[order]
        volume = None if volume is None else volume[order]
        fiat = None if fiat is None else fiat[order]
        warns.append("dates were not in increasing order; the rows have been sorted by date")
    spacing, median, gap_pos = _spacing(index)
    gaps = tuple(sorted(((f"{index[i]:%Y-%m-%d}", f"{index[i + 1]:%Y-%m-%d}", float(spacing[i])) for i in gap_pos),
                        key=lambda g: -g[2])[:20])
    if len(gap_pos):
        big = gaps[0]
        warns.append(f"{len(gap_pos)} gap(s) longer than {GAP_FACTOR:g}x the median spacing of {median:g} days "
                     f"(largest {big[2]:g} days, {big[0]} to {big[1]})")
    idx = pd.DatetimeIndex(index, name="date")
    report = DataQualityReport(**{**asdict(report), "rows_kept": len(price), "unsorted_fixed": bool(unsorted),
                                  "n_gaps": len(gap_pos), "gaps": gaps, "median_spacing_days": median,
                                  "warnings": tuple(dict.fromkeys(warns))})
    return PriceSeries(
        prices=pd.Series(np.asarray(price, dtype="float64"), index=idx, name="price"),
        volume=None if volume is None else pd.Series(np.asarray(volume, dtype="float64"), index=idx, name="volume"),
        fiat_flow=None if fiat is None else pd.Series(np.asarray(fiat, dtype="float64"), index=idx, name="fiat_flow"),
        name=name, source_name=source_name, checksum=_checksum(idx, price, volume, fiat), report=report)


# -- column mapping: files load_prices cannot read on its own ---------------------------------
# A file with several price columns (Date, Brent, WTI), a file of returns, or a spreadsheet export
# with title lines above the header. inspect_table() reads the layout and suggests a mapping;
# load_mapped() loads the series with an explicit one.

class ValueKind(StrEnum):
    """What the value column of a file holds (:func:`load_mapped`)."""

    PRICE = "price"
    SIMPLE_RETURN = "simple_return"
    LOG_RETURN = "log_return"
    PERCENT_RETURN = "percent_return"

    @property
    def label(self) -> str:
        return {"price": "prices", "simple_return": "simple returns (0.01 = 1 %)",
                "log_return": "log returns", "percent_return": "returns in percent (1 = 1 %)"}[self.value]


#: lines examined to find the separator, title lines and header
_PROBE_LINES: int = 60
_RETURN_WORDS = ("return", "ret", "change", "chg", "pct", "perf")


@dataclass(frozen=True)
class TableLayout:
    """The layout of a delimited file and a suggested column mapping (:func:`inspect_table`).

    Attributes
    ----------
    columns : tuple of str
        Column names as shown to a person (empty header cells become ``"column 2"``, repeated
        names get ``" (2)"``; never pandas' ``"Unnamed: 1"``).
    title_lines : int
        Non-blank lines above the header that were skipped (titles, notes of a spreadsheet export).
    has_header : bool
    separator, encoding : str
    n_rows : int
        Data rows (blank rows not counted).
    date_columns, value_columns : tuple of str
        Columns whose cells read as dates, resp. numbers.
    date_column, value_column : str or None
        Suggested mapping.
    value_kind : ValueKind
        Suggested meaning of the values.
    n_duplicate_rows : int
        Data rows identical, cell for cell, to an earlier row.
    notes : tuple of str
        What a person should know about the suggestion.
    preview : pandas.DataFrame
        The first rows as text, under the shown column names.
    """

    columns: tuple[str, ...]
    title_lines: int
    has_header: bool
    separator: str
    encoding: str
    n_rows: int
    date_columns: tuple[str, ...]
    value_columns: tuple[str, ...]
    date_column: str | None
    value_column: str | None
    value_kind: ValueKind
    n_duplicate_rows: int
    notes: tuple[str, ...] = ()
    preview: pd.DataFrame = field(default_factory=pd.DataFrame, compare=False)

    @property
    def needs_mapping(self) -> bool:
        """More than one value column, values that are returns, or title lines: confirm the mapping."""
        return len(self.value_columns) > 1 or self.value_kind is not ValueKind.PRICE or self.title_lines > 0

    def summary(self) -> pd.DataFrame:
        rows = [("columns", ", ".join(self.columns)), ("title lines skipped", self.title_lines),
                ("header", self.has_header), ("separator", self.separator), ("encoding", self.encoding),
                ("data rows", self.n_rows), ("date columns", ", ".join(self.date_columns) or "none"),
                ("value columns", ", ".join(self.value_columns) or "none"),
                ("suggested date column", self.date_column), ("suggested value column", self.value_column),
                ("values are", self.value_kind.label), ("exact duplicate rows", self.n_duplicate_rows)]
        return pd.DataFrame({"item": [r[0] for r in rows], "value": [str(r[1]) for r in rows]})

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("preview")
        d["value_kind"] = self.value_kind.value
        return d


def _lenient_float(col: pd.Series, sep: str = ",") -> pd.Series:
    """Cells as floats where they are numbers (``$``, ``%``, spaces and thousands commas ignored), else NaN.

    With ``;`` as separator a comma is the decimal mark (``1,0021``), as in :func:`load_prices`.
    """
    s = col.astype("string").str.strip().str.replace(r"^\$|%$|\s", "", regex=True)
    if sep == ";":
        s = s.str.replace(",", ".", regex=False)
    else:
        s = s.str.replace(r"(?<=\d),(?=\d{3}(\D|$))", "", regex=True)
    return pd.to_numeric(s.where(s.str.fullmatch(_NUMBER_RE.pattern).fillna(False)), errors="coerce")


def _rows_of(lines: list[str], sep: str) -> list[list[str]]:
    import csv

    return [[c.strip() for c in row] for row in csv.reader(lines, delimiter=sep, skipinitialspace=True)]


def _is_data_row(row: list[str]) -> bool:
    """A row with at least two cells of which one after the first is a number."""
    cells = [c for c in row if c != ""]
    return len(cells) >= 2 and any(bool(_NUMBER_RE.match(c.replace("$", "").replace("%", "").replace(",", "")))
                                   for c in row[1:] if c)


def _probe(text: str) -> tuple[str, int, bool, list[str]]:
    """Separator, index of the first table line (header or first data row), header?, header cells."""
    lines = text.split("\n")
    head = [ln.rstrip("\r") for ln in lines[:_PROBE_LINES]]
    best: tuple[int, str] = (-1, ",")
    for sep in (",", ";", "\t", "|"):
        try:
            counts = [len(r) for r in _rows_of([ln for ln in head if ln.strip()], sep)]
        except Exception:  # noqa: BLE001 - a separator the csv module cannot split on is just not this one
            continue
        wide = [c for c in counts if c >= 2]
        if wide:
            mode = max(set(wide), key=wide.count)
            score = wide.count(mode)
            if score > best[0]:
                best = (score, sep)
    sep = best[1]
    rows = _rows_of(head, sep)
    first_data = next((i for i, r in enumerate(rows) if _is_data_row(r)), None)
    if first_data is None:
        raise InputError("file", "has no row with a date and a number in its first "
                         f"{_PROBE_LINES} lines; expected a table with a date column and a value column")
    # the header is the nearest row above the first data row with at least two filled cells;
    # anything above it (a title, a source note) is skipped
    header_i = next((i for i in range(first_data - 1, -1, -1) if sum(c != "" for c in rows[i]) >= 2), None)
    if header_i is None:
        return sep, first_data, False, []
    return sep, header_i, True, rows[header_i]


def _shown_names(cells: list[str], n: int) -> list[str]:
    names: list[str] = []
    for i in range(n):
        c = cells[i].strip().strip('"') if i < len(cells) else ""
        c = c if c and not c.lower().startswith("unnamed:") else f"column {i + 1}"
        base, k = c, 2
        while c in names:
            c, k = f"{base} ({k})", k + 1
        names.append(c)
    return names


def _table(source: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    """All cells as text under shown names, 1-based data-row index; and how the file was read."""
    raw, src_name = _read_source(source)
    text, encoding = _decode(raw)
    text = text.lstrip("\r\n\t ")
    sep, start, has_header, header_cells = _probe(text)
    body_start = start + 1 if has_header else start
    n_title = sum(1 for ln in text.split("\n")[:start] if ln.strip())
    try:
        df = _read_csv("\n".join(text.split("\n")[body_start:]), sep, True, dtype=str)
    except pd.errors.ParserError as exc:
        err = _ragged(exc, True)
        if err is None:
            raise InputError("file", f"could not be read as a table ({type(exc).__name__})") from None
        raise err from None
    df.columns = _shown_names(header_cells, df.shape[1])
    df.index = pd.RangeIndex(1, len(df) + 1)
    df = df.apply(lambda c: c.str.strip() if c.dtype == object else c)
    df = df.dropna(how="all")
    df = df[~(df.fillna("") == "").all(axis=1)]
    if df.empty:
        raise InputError("file", "has a header but no data rows")
    meta = {"separator": sep, "encoding": encoding, "title_lines": n_title, "has_header": has_header,
            "source_name": src_name, "file_sha": hashlib.sha256(raw).hexdigest()}
    return df, meta


def _reads_as_dates(col: pd.Series, name: str) -> bool:
    sample = col.dropna()
    sample = sample[sample != ""].head(200)
    if sample.empty or _lenient_float(sample).notna().all():
        return False
    try:
        _parse_dates(sample, name)
    except InputError:
        return False
    return True


def _guess_kind(name: str, values: pd.Series, raw: pd.Series) -> ValueKind:
    v = values.dropna().to_numpy()
    if v.size == 0:
        return ValueKind.PRICE
    named = any(w in _norm(name) for w in _RETURN_WORDS)
    percent_cells = bool(raw.dropna().astype(str).str.endswith("%").mean() > 0.5)
    if percent_cells:
        return ValueKind.PERCENT_RETURN
    negative = bool((v <= 0).any())
    small = float(np.median(np.abs(v))) < 0.05 and float(np.max(np.abs(v))) < 0.5
    if named or negative or small:
        if "log" in _norm(name):
            return ValueKind.LOG_RETURN
        return ValueKind.PERCENT_RETURN if float(np.max(np.abs(v))) >= 1.0 else ValueKind.SIMPLE_RETURN
    return ValueKind.PRICE


def inspect_table(source: str | os.PathLike[str] | bytes | bytearray | BinaryIO | io.TextIOBase) -> TableLayout:
    """Read the layout of a price or returns file and suggest a column mapping.

    Parameters
    ----------
    source : path, bytes or file object
        As for :func:`load_prices`.

    Returns
    -------
    TableLayout
        Columns (clean names), title lines skipped, candidate date and value columns, the
        suggested date column, value column and value kind, and the count of exact duplicate rows.

    Raises
    ------
    InputError
        Empty, binary or too large a file; no row with a date and a number near the top.

    Notes
    -----
    * **Title lines.** The header is the nearest line above the first data row (a row with a number
      after its first cell) that has at least two filled cells; non-blank lines above it are
      titles and are skipped. Without such a line the file has no header (``column 1``, ...).
    * **Separator**: the one of ``, ; tab |`` that splits the most of the first 60 lines into the
      same number (>= 2) of fields.
    * **Columns**: a *value column* has every filled cell a number (``$``, ``%``, spaces and thousands
      commas ignored); a *date column* is not numeric and its first 200 cells read as dates.
    * **Suggestion**: the date column named like ``date`` / ``timestamp`` ..., else the first date
      column; the value column named like ``adj close`` / ``close`` / ``price`` ..., else the first
      value column that is not volume or fiat flow. Values are *returns* when the column is named like
      a return (``return``, ``ret``, ``change``, ``pct``), or any value is <= 0, or all are small
      (median ``|v|`` < 0.05 and max < 0.5); in percent when the cells end in ``%`` or some
      ``|v|`` >= 1; log returns when the name says ``log``. Otherwise prices.
    """
    df, meta = _table(source)
    cols = list(df.columns)
    numeric = {c: _lenient_float(df[c], meta["separator"]) for c in cols}
    filled = {c: df[c].notna() & (df[c] != "") for c in cols}
    value_cols = [c for c in cols if filled[c].any() and bool(numeric[c][filled[c]].notna().all())]
    date_cols = [c for c in cols if c not in value_cols and _reads_as_dates(df[c], c)]
    norm = [_norm(c) for c in cols]
    d_i = _pick(norm, _DATE_NAMES)
    date_col = cols[d_i] if d_i is not None and cols[d_i] in date_cols else (date_cols[0] if date_cols else None)
    candidates = [c for c in value_cols if _norm(c) not in _VOLUME_NAMES + _FIAT_NAMES]
    p_i = _pick([_norm(c) for c in candidates], _PRICE_NAMES)
    value_col = candidates[p_i] if p_i is not None else (candidates[0] if candidates else None)
    kind = ValueKind.PRICE if value_col is None else _guess_kind(value_col, numeric[value_col], df[value_col])
    n_dup = int(df.duplicated().sum())
    notes: list[str] = []
    if meta["title_lines"]:
        notes.append(f"skipped {meta['title_lines']} title line(s) above the header")
    if len(candidates) > 1:
        notes.append(f"{len(candidates)} value columns ({', '.join(candidates[:6])}); using {value_col} — "
                     "choose another if needed")
    if kind is not ValueKind.PRICE:
        notes.append(f"the values of {value_col} look like {kind.label}; prices are rebuilt from them")
    if n_dup:
        notes.append(f"{n_dup} row(s) are exact duplicates of an earlier row")
    if date_col is None:
        notes.append("no column reads as dates")
    if value_col is None:
        notes.append("no column holds only numbers")
    return TableLayout(columns=tuple(cols), title_lines=int(meta["title_lines"]), has_header=bool(meta["has_header"]),
                       separator=meta["separator"], encoding=meta["encoding"], n_rows=len(df),
                       date_columns=tuple(date_cols), value_columns=tuple(value_cols), date_column=date_col,
                       value_column=value_col, value_kind=kind, n_duplicate_rows=n_dup, notes=tuple(notes),
                       preview=df.head(8).reset_index(drop=True))


def prices_from_returns(returns: np.ndarray, kind: ValueKind | str, base: float = 1.0) -> np.ndarray:
    """Price path ``base, p_1, ..., p_n`` rebuilt from returns (one more element than ``returns``).

    Notes
    -----
    Simple: ``p_t = p_{t-1} (1 + r_t)``; percent: ``r_t / 100`` as simple; log:
    ``p_t = p_{t-1} exp(r_t)``. Simple and percent returns must be > -100 %.
    """
    kind = ValueKind(kind)
    r = np.asarray(returns, dtype="float64")
    if kind is ValueKind.PERCENT_RETURN:
        r = r / 100.0
    if kind is ValueKind.LOG_RETURN:
        growth = np.cumsum(r)
        return float(base) * np.exp(np.concatenate([[0.0], growth]))
    return float(base) * np.concatenate([[1.0], np.cumprod(1.0 + r)])


def load_mapped(
    source: str | os.PathLike[str] | bytes | bytearray | BinaryIO | io.TextIOBase,
    date_column: str,
    value_column: str,
    value_kind: ValueKind | str = ValueKind.PRICE,
    *,
    drop_duplicates: bool = False,
    name: str | None = None,
    source_name: str | None = None,
    base_price: float = 1.0,
) -> PriceSeries:
    """Load a series with an explicit mapping (see :func:`inspect_table` for the suggestion).

    Parameters
    ----------
    source : path, bytes or file object
    date_column, value_column : str
        Column names as in :attr:`TableLayout.columns`.
    value_kind : ValueKind or str, default "price"
        ``price``, ``simple_return``, ``log_return`` or ``percent_return``.
    drop_duplicates : bool, default False
        Drop data rows identical, cell for cell, to an earlier row (a row pasted twice) before
        validating; the count is reported. Otherwise a repeated date is rejected.
    name, source_name : str, optional
        As for :func:`load_prices`.
    base_price : float, default 1.0
        For returns: the price on the anchor date before the first return.

    Returns
    -------
    PriceSeries
        Its report names the columns used, the title lines skipped and what was rebuilt.

    Raises
    ------
    InputError
        Unknown column, a value that is not a number (row and column named), an unreadable or
        repeated date, prices <= 0, returns <= -100 %, fewer than ``MIN_ROWS`` rows.

    Notes
    -----
    **Returns.** Rows are sorted by date first; prices are rebuilt by :func:`prices_from_returns`
    from ``base_price`` on an *anchor date* one median spacing before the first row, so the series'
    own returns reproduce every return of the file.
    """
    try:
        kind = ValueKind(value_kind)
    except ValueError:
        raise InputError("value_kind", f"must be one of {', '.join(k.value for k in ValueKind)}",
                         value=str(value_kind)) from None
    if not (np.isfinite(base_price) and base_price > 0):
        raise InputError("base_price", "must be a finite number > 0", value=float(base_price))
    df, meta = _table(source)
    cols = list(df.columns)
    for fld, col in (("date_column", date_column), ("value_column", value_column)):
        if col not in cols:
            raise InputError(fld, f"is not a column of the file; columns: {', '.join(cols[:12])}", value=str(col))
    if date_column == value_column:
        raise InputError("value_column", "must differ from the date column", value=str(value_column))
    if source_name is None:
        source_name = meta["source_name"]
    if name is None:
        name = Path(source_name).stem if source_name else "upload"
    warns: list[str] = []
    if meta["title_lines"]:
        warns.append(f"{meta['title_lines']} title line(s) above the header were skipped")
    if drop_duplicates:
        dup = df.duplicated()
        if dup.any():
            warns.append(f"{int(dup.sum())} exact duplicate row(s) were dropped")
            df = df[~dup]
    rows_read = len(df)
    raw = df[value_column]
    cleaned = raw.str.replace(r"%$", "", regex=True) if kind is ValueKind.PERCENT_RETURN else raw
    values = _numbers(cleaned, value_column, meta["separator"])
    keep = values.notna()
    nan_dropped = int((~keep).sum())
    df, values = df[keep], values[keep]
    if nan_dropped:
        warns.append(f"{nan_dropped} row(s) without a value were dropped")
    if len(df) < MIN_ROWS:
        raise InputError("rows", f"need at least {MIN_ROWS} rows with a value, found {len(df)}", value=len(df))
    dates, date_format, date_warn = _parse_dates(df[date_column], date_column)
    if date_warn:
        warns.append(date_warn)
    rows = df.index.to_numpy()
    v = values.to_numpy(dtype="float64")
    index = pd.DatetimeIndex(dates)
    if kind is not ValueKind.PRICE:
        dup = index.duplicated()
        if dup.any():
            pos = int(np.argmax(dup))
            raise InputError(date_column, "duplicated date (if the rows are exact copies, drop duplicate rows)",
                             value=f"{index[pos]:%Y-%m-%d}", row=int(rows[pos]))
        order = np.argsort(index.asi8, kind="stable")
        if (order != np.arange(len(order))).any():
            warns.append("dates were not in increasing order; the rows have been sorted by date")
        index, v, rows = index[order], v[order], rows[order]
        limit = -100.0 if kind is ValueKind.PERCENT_RETURN else -1.0
        bad = ~np.isfinite(v) | ((v <= limit) if kind is not ValueKind.LOG_RETURN else False)
        if np.any(bad):
            pos = int(np.argmax(bad))
            raise InputError(value_column, f"returns must be finite and > {limit:g}{' %' if limit < -1 else ''}",
                             value=float(v[pos]), row=int(rows[pos]))
        spacing = np.diff(index.asi8)
        step = pd.Timedelta(int(np.median(spacing)) if len(spacing) else 86_400 * 10**9, unit="ns")
        index = pd.DatetimeIndex([index[0] - step]).append(index)
        v = prices_from_returns(v, kind, base_price)
        rows = np.concatenate([[0], rows])
        warns.append(f"prices rebuilt from {kind.label} in {value_column}, starting at {base_price:g} on "
                     f"{index[0]:%Y-%m-%d} (one spacing before the first row)")
    report = DataQualityReport(rows_read=rows_read, rows_kept=0, nan_rows_dropped=nan_dropped, warnings=tuple(warns),
                               date_column=date_column, price_column=value_column, separator=meta["separator"],
                               encoding=meta["encoding"], date_format=date_format, file_sha256=meta["file_sha"])
    if kind is not ValueKind.PRICE:  # the positive-price checks of _from_typed apply to the rebuilt path
        return _from_typed(index, v, None, None, name=name, source_name=source_name, report=report,
                           rows_read=rows_read, row_numbers=rows, field_names=(date_column, value_column))
    if drop_duplicates is False:
        dup_rows = df.duplicated()
        if dup_rows.any() and pd.DatetimeIndex(dates).duplicated().any():
            pos = int(np.argmax(dup_rows.to_numpy()))
            raise InputError(date_column, "duplicated date: this row is an exact copy of an earlier one (choose to "
                             "drop exact duplicate rows)", value=str(df[date_column].iloc[pos]), row=int(rows[pos]))
    return _from_typed(index, v, None, None, name=name, source_name=source_name, report=report, rows_read=rows_read,
                       row_numbers=rows, field_names=(date_column, value_column))
