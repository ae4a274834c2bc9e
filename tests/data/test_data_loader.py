"""riskcore.data.load_prices: layouts, formats, rejections (row and column named), warnings, samples."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskcore.data import (
    MAX_FILE_BYTES,
    PriceSeries,
    ReturnKind,
    load_prices,
    load_sample,
    sample_datasets,
)
from riskcore.errors import InputError

N = 40
DATES = pd.date_range("2024-01-01", periods=N, freq="D")
PRICES = np.round(1.0 + 0.01 * np.sin(np.arange(N)), 6)


def csv(header: str, rows: list[str], sep: str = ",") -> bytes:
    return (header.replace(",", sep) + "\n" + "\n".join(rows) + "\n").encode()


def basic_rows(fmt: str = "%Y-%m-%d", sep: str = ",") -> list[str]:
    return [f"{d.strftime(fmt)}{sep}{p}" for d, p in zip(DATES, PRICES, strict=True)]


def test_date_close_layout_values_and_types():
    s = load_prices(csv("Date,Close", basic_rows()), name="x")
    assert len(s) == N and s.report.rows_kept == N and s.report.rows_read == N
    assert s.prices.dtype == np.float64 and s.prices.index.name == "date"
    assert isinstance(s.prices.index, pd.DatetimeIndex) and s.prices.index.is_monotonic_increasing
    np.testing.assert_array_equal(s.prices.to_numpy(), PRICES)
    assert (s.prices.index == DATES).all()
    assert s.volume is None and s.fiat_flow is None and s.report.warnings == ()
    assert s.report.date_column == "Date" and s.report.price_column == "Close"


def test_yahoo_ohlcv_prefers_adjusted_close_and_reads_volume():
    rows = [f"{d:%Y-%m-%d},1,2,0.5,{p + 1},{p},{1000 + i}" for i, (d, p) in enumerate(zip(DATES, PRICES,
                                                                                          strict=True))]
    s = load_prices(csv("Date,Open,High,Low,Close,Adj Close,Volume", rows))
    np.testing.assert_array_equal(s.prices.to_numpy(), PRICES)  # Adj Close, not Close
    assert s.report.price_column == "Adj Close"
    np.testing.assert_array_equal(s.volume.to_numpy(), 1000 + np.arange(N))
    assert list(s.to_frame().columns) == ["price", "volume"]


def test_timestamp_price_layout_with_unix_seconds_and_fiat_flow():
    epoch = (DATES.as_unit("s").asi8).astype(int)
    rows = [f"{t},{p},{0.3}" for t, p in zip(epoch, PRICES, strict=True)]
    s = load_prices(csv("timestamp,price,fiat_flow", rows))
    assert (s.prices.index == DATES).all() and s.report.date_format == "unix epoch (s)"
    assert np.allclose(s.fiat_flow.to_numpy(), 0.3)


@pytest.mark.parametrize("fmt", ["%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y%m%d", "%Y/%m/%d", "%b %d, %Y",
                                 "%Y-%m-%dT%H:%M:%SZ"])
def test_common_date_formats(fmt):
    rows = [f'"{d.strftime(fmt)}",{p}' for d, p in zip(DATES, PRICES, strict=True)]
    s = load_prices(csv("Date,Close", rows))
    assert (s.prices.index == DATES).all(), fmt


def test_semicolon_separator_with_decimal_comma_and_cp1252_header():
    rows = [f"{d:%d.%m.%Y};{str(p).replace('.', ',')}" for d, p in zip(DATES, PRICES, strict=True)]
    raw = ("Datum;Kurs €\n" + "\n".join(rows)).encode("cp1252")  # unknown names: 2 columns = date, price
    s = load_prices(raw)
    np.testing.assert_allclose(s.prices.to_numpy(), PRICES)
    assert (s.prices.index == DATES).all()
    assert s.report.separator == ";" and s.report.encoding == "cp1252" and s.report.price_column == "Kurs €"


def test_odd_encodings_utf16_and_latin1():
    text = "Date,Close,Note\n" + "\n".join(f"{d:%Y-%m-%d},{p},café" for d, p in zip(DATES, PRICES, strict=True))
    for enc in ("utf-16", "utf-8-sig", "latin-1"):
        s = load_prices(text.encode(enc))
        assert len(s) == N, enc


def test_sources_path_file_object_and_bytes_agree(tmp_path: Path):
    raw = csv("Date,Close", basic_rows())
    path = tmp_path / "prices.csv"
    path.write_bytes(raw)
    a, b, c = load_prices(path), load_prices(io.BytesIO(raw)), load_prices(raw)
    assert a.name == "prices" and a.source_name == "prices.csv" and c.name == "upload"
    assert a.checksum == b.checksum == c.checksum
    assert load_prices(io.StringIO(raw.decode())).checksum == a.checksum


def test_unsorted_is_sorted_with_warning_and_nan_rows_dropped_and_counted():
    rows = basic_rows()[::-1]
    rows[3] = rows[3].split(",")[0] + ","
    rows[7] = rows[7].split(",")[0] + ",NaN"
    s = load_prices(csv("Date,Close", rows))
    assert s.report.unsorted_fixed and s.report.nan_rows_dropped == 2 and len(s) == N - 2
    assert s.prices.index.is_monotonic_increasing
    assert any("sorted" in w for w in s.report.warnings) and any("2 row(s)" in w for w in s.report.warnings)


def test_gaps_are_reported_but_weekends_are_not():
    bdays = pd.bdate_range("2024-01-01", periods=60)
    s = load_prices(csv("Date,Close", [f"{d:%Y-%m-%d},1.0" for d in bdays]))
    assert s.report.n_gaps == 0
    idx = bdays.delete(range(20, 30))  # two weeks missing
    s = load_prices(csv("Date,Close", [f"{d:%Y-%m-%d},1.0" for d in idx]))
    assert s.report.n_gaps == 1 and s.report.gaps[0] == ("2024-01-26", "2024-02-12", 17.0)
    assert any("gap" in w for w in s.report.warnings)


@pytest.mark.parametrize(("raw", "field", "row", "needle"), [
    (b"", "file", None, "empty"),
    (b"   \n\n", "file", None, "empty"),
    (b"Date,Open,High\n" + b"2024-01-01,1,2\n" * 40, "price", None, "no price column"),
    (csv("Date,Close", basic_rows()[:29]), "rows", None, "at least 30"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "file", None, "binary"),
])
def test_rejections(raw, field, row, needle):
    with pytest.raises(InputError) as ei:
        load_prices(raw)
    assert ei.value.field == field and ei.value.row == row and needle in str(ei.value)


def test_non_numeric_price_names_row_and_column():
    rows = basic_rows()
    rows[11] = rows[11].split(",")[0] + ",1.0x"
    with pytest.raises(InputError) as ei:
        load_prices(csv("Date,Close", rows))
    assert ei.value.field == "Close" and ei.value.row == 12 and "row 12" in str(ei.value) and "'1.0x'" in str(ei.value)


@pytest.mark.parametrize("bad", ["0", "-1.5", "inf"])
def test_non_positive_or_infinite_price(bad):
    rows = basic_rows()
    rows[4] = rows[4].split(",")[0] + "," + bad
    with pytest.raises(InputError) as ei:
        load_prices(csv("Date,Close", rows))
    assert ei.value.row == 5 and ei.value.field == "Close" and "> 0" in str(ei.value)


def test_unparseable_and_duplicated_dates_name_the_row():
    rows = basic_rows()
    rows[9] = "2024-13-45," + rows[9].split(",")[1]
    with pytest.raises(InputError) as ei:
        load_prices(csv("Date,Close", rows))
    assert ei.value.field == "Date" and ei.value.row == 10 and "unparseable date" in str(ei.value)
    rows = basic_rows()
    rows[20] = rows[19]
    with pytest.raises(InputError) as ei:
        load_prices(csv("Date,Close", rows))
    assert ei.value.field == "Date" and ei.value.row == 21 and "duplicated" in str(ei.value)


def test_file_size_limit(tmp_path: Path):
    big = tmp_path / "big.csv"
    with open(big, "wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)  # sparse file: no 50 MB written
    with pytest.raises(InputError, match="larger than 50 MB"):
        load_prices(big)
    with pytest.raises(InputError, match="larger than 50 MB"):
        load_prices(io.BytesIO(b"a" * (MAX_FILE_BYTES + 1)))


def test_returns_simple_and_log_known_values():
    s = load_prices(csv("Date,Close", basic_rows()))
    r = s.returns("simple")
    assert len(r) == N - 1 and r.iloc[0] == pytest.approx(PRICES[1] / PRICES[0] - 1, rel=1e-12)
    lr = s.returns(ReturnKind.LOG)
    assert lr.iloc[-1] == pytest.approx(np.log(PRICES[-1] / PRICES[-2]), rel=1e-12)
    with pytest.raises(InputError):
        s.returns("weird")


def test_from_series_validates_like_a_file():
    s = PriceSeries.from_series(pd.Series(PRICES, index=DATES), name="ser")
    assert len(s) == N and s.checksum == load_prices(csv("Date,Close", basic_rows())).checksum
    with pytest.raises(InputError, match="DatetimeIndex"):
        PriceSeries.from_series(pd.Series(PRICES))
    with pytest.raises(InputError, match="duplicated"):
        PriceSeries.from_series(pd.Series(PRICES, index=DATES.insert(5, DATES[4])[:N]))


def test_save_and_reload_round_trip_with_store_checksum(tmp_store):
    rows = [f"{d:%Y-%m-%d},{p},{i * 10},{0.6}" for i, (d, p) in enumerate(zip(DATES, PRICES, strict=True))]
    s = load_prices(csv("Date,Close,Volume,fiat_flow", rows), name="roundtrip")
    ds_id = s.save(tmp_store)
    listed = tmp_store.list_datasets()
    assert listed["checksum"].iloc[0] == s.checksum and int(listed["n_rows"].iloc[0]) == N
    back = PriceSeries.from_store(tmp_store, "roundtrip")
    assert PriceSeries.from_store(tmp_store, ds_id).checksum == back.checksum == s.checksum
    pd.testing.assert_frame_equal(back.to_frame(), s.to_frame(), check_freq=False)
    assert back.report.rows_read == N and back.source_name is None


def test_samples_ship_and_load():
    paths = sample_datasets()
    assert set(paths) == {"stable_token", "sp500"} and all(p.exists() for p in paths.values())
    st = load_sample("stable_token")
    assert len(st) == 3651 and st.report.median_spacing_days == 1.0 and 0.5 < st.prices.median() < 1.5
    sp = load_sample("sp500")
    assert len(sp) == 5031 and sp.volume is not None and sp.prices.iloc[0] == pytest.approx(1228.099976)
    with pytest.raises(InputError, match="unknown sample"):
        load_sample("nope")


def test_headerless_two_column_file_keeps_its_first_row():
    s = load_prices(("\n".join(basic_rows()) + "\n").encode())
    assert len(s) == N and s.prices.iloc[0] == PRICES[0] and (s.prices.index == DATES).all()


def test_leading_blank_lines_are_skipped():
    s = load_prices(b"\n\n  \n" + csv("Date,Close", basic_rows()))
    assert len(s) == N and (s.prices.index == DATES).all()


@pytest.mark.parametrize("quoted", [False, True])
def test_row_with_more_fields_than_header_names_the_row(quoted):
    rows = basic_rows()
    rows[14] = rows[14] + ",7"
    if quoted:  # quotes take the careful (all-text) reader, unquoted files the fast one: same message
        rows = [f'"{r.split(",")[0]}",{",".join(r.split(",")[1:])}' for r in rows]
    with pytest.raises(InputError) as ei:
        load_prices(csv("Date,Close", rows))
    assert ei.value.field == "file" and ei.value.row == 15 and "3 fields" in str(ei.value)


def test_fast_and_careful_readers_agree():
    rows = [f"{d:%Y-%m-%d},{p},{i * 10}" for i, (d, p) in enumerate(zip(DATES, PRICES, strict=True))]
    rows[5] = rows[5].split(",")[0] + ",,50"  # a missing price: dropped and counted by both
    fast = load_prices(csv("Date,Close,Volume", rows))
    careful = load_prices(csv("Date,Close,Volume", [f'"{r}"'.replace(",", '","') for r in rows]))
    assert fast.checksum == careful.checksum and fast.report.nan_rows_dropped == careful.report.nan_rows_dropped == 1
    assert fast.report.rows_read == careful.report.rows_read == N


def test_stable_token_sample_is_reproduced_by_make_samples(tmp_path: Path):
    """The shipped sample is exactly what data/make_samples.py simulates with the parameters it states."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_samples", Path(sample_datasets()["stable_token"]).parent
                                                  / "make_samples.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = mod.make_stable_token(tmp_path / "st.csv")
    assert out.read_bytes() == sample_datasets()["stable_token"].read_bytes()
    assert mod.STABLE_PARAMS == {"alpha": 4.0, "sigma_base": 0.03, "jump_intensity": 12.0, "jump_size_mu": -0.012,
                                 "jump_size_sigma": 0.008}  # as data/README.md states
