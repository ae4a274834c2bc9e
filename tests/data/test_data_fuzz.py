"""Fuzzing load_prices with hypothesis: whatever the bytes, only InputError (or a valid series) comes out."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskcore.data import MIN_ROWS, PriceSeries, load_prices
from riskcore.errors import InputError

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_DATES = pd.date_range("2023-01-01", periods=80, freq="D")
GOOD = ("Date,Open,High,Low,Close,Adj Close,Volume\n" + "\n".join(
    f"{d:%Y-%m-%d},1.0,1.1,0.9,{1 + i / 1000:.4f},{1 + i / 1000:.4f},{100 + i}" for i, d in enumerate(_DATES))
        + "\n").encode()


def check(raw: bytes) -> None:
    try:
        s = load_prices(raw)
    except InputError as exc:
        assert str(exc)  # a message a person can read
        return
    assert isinstance(s, PriceSeries) and len(s) >= MIN_ROWS
    p = s.prices.to_numpy()
    assert p.dtype == np.float64 and np.all(np.isfinite(p)) and np.all(p > 0)
    assert s.prices.index.is_monotonic_increasing and s.prices.index.is_unique


@FUZZ
@given(st.binary(max_size=3000))
def test_random_bytes(raw):
    check(raw)


@FUZZ
@given(st.integers(0, len(GOOD)), st.sampled_from(["utf-8", "utf-16", "utf-32", "latin-1", "cp1252", "utf-8-sig"]))
def test_truncated_files_in_odd_encodings(cut, encoding):
    check(GOOD.decode().encode(encoding)[:cut])


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.binary(min_size=0, max_size=4)), min_size=1,
                max_size=8))
def test_malformed_csv_mutations(edits):
    raw = bytearray(GOOD)
    for pos, chunk in edits:
        pos = min(pos, len(raw))
        raw[pos:pos + len(chunk)] = chunk
    check(bytes(raw))


@FUZZ
@given(st.lists(st.lists(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12),
                         min_size=1, max_size=4), min_size=0, max_size=60),
       st.sampled_from([",", ";", "\t"]))
def test_random_text_tables(cells, sep):
    text = "Date" + sep + "Close\n" + "\n".join(sep.join(row) for row in cells)
    check(text.encode())


_TOKENS = ["2024-01-01", "2024-01-02", "1.5", "0.99", "", '"', ",", ";", "\n", "\r\n", "nan", "-1", "1e400", "abc",
           "01/02/2024", "Close", "Date", " ", "\t"]


@FUZZ
@given(st.lists(st.sampled_from(_TOKENS), max_size=400))
def test_csv_tokens_quotes_and_separators(tokens):
    """Structured noise: quotes (careful reader), unquoted rows (fast reader), ragged rows, odd numbers."""
    check(("Date,Close\n" + "".join(tokens)).encode())
