"""The upload's column-mapping step on the Calibration and VaR Lab pages (issue 11 item 11)."""

from __future__ import annotations

import numpy as np
import pandas as pd

N = 60
DATES = pd.date_range("2024-01-01", periods=N, freq="B")
RNG = np.random.default_rng(3)
BRENT = np.round(80 * np.exp(np.cumsum(RNG.normal(0, 0.01, N))), 2)


def _oil() -> bytes:
    return pd.DataFrame({"Date": DATES.strftime("%Y-%m-%d"), "Brent": BRENT, "WTI": BRENT - 4}).to_csv(
        index=False).encode()


def _texts(at) -> str:
    parts = [str(x.value) for x in (*at.caption, *at.markdown, *at.error, *at.warning, *at.info)]
    return "\n".join(parts)


def _upload(at, source_key: str, name: str, data: bytes):
    at.radio(key=source_key).set_value("Upload CSV").run()
    at.file_uploader[0].set_value((name, data, "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _mapping_widget(at, suffix: str):
    return next(w for w in (*at.selectbox, *at.radio, *at.checkbox) if str(w.key).endswith(suffix)
                and "-map-" in str(w.key))


def test_several_price_columns_load_with_a_mapping_and_another_can_be_chosen(app_test):
    at = _upload(app_test("calibration", timeout=120), "calibration-source", "oil.csv", _oil())
    assert not at.error, [e.value for e in at.error]
    text = _texts(at)
    assert "name it one of" not in text and "60 rows" in text and "dates from **Date**" in text
    assert "2 value columns (Brent, WTI)" in text
    assert _mapping_widget(at, "-value").value == "Brent"
    _mapping_widget(at, "-value").set_value("WTI").run()
    assert not at.exception and not at.error
    assert "prices from **WTI**" in _texts(at)
    assert any("does not look like a pegged token" in str(w.value) for w in at.warning)  # oil is not pegged


def test_returns_file_and_title_rows_on_the_var_lab(app_test):
    rets = pd.DataFrame({"Date": DATES.strftime("%Y-%m-%d"), "Return": RNG.normal(0, 0.01, N)})
    at = _upload(app_test("var_lab", timeout=180), "var-source", "rets.csv", rets.to_csv(index=False).encode())
    assert not at.error, [e.value for e in at.error]
    assert _mapping_widget(at, "-kind").value == "simple_return"
    assert "simple returns (0.01 = 1 %) from **Return**" in _texts(at)
    assert at.number_input(key="var-n").value == N  # the file's returns, not one more or less
    titled = ("Brent spot price,,\nSource: EIA,,\n" + _oil().decode()).encode()
    at.file_uploader[0].set_value(("eia.csv", titled, "text/csv")).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    text = _texts(at)
    assert "skipped 2 title line(s)" in text and "Unnamed" not in text and "np.float64" not in text


def test_duplicate_rows_can_be_dropped_and_a_bad_cell_is_named(app_test):
    lines = _oil().decode().splitlines()
    dup = ("\n".join(lines[:10] + [lines[4]] + lines[10:]) + "\n").encode()
    at = _upload(app_test("calibration", timeout=120), "calibration-source", "dup.csv", dup)
    assert "1 row(s) are exact duplicates" in _texts(at) and not at.error
    _mapping_widget(at, "-dedupe").set_value(False).run()
    assert any("exact copy" in str(e.value) and "row 10" in str(e.value) for e in at.error)
    bad = _oil().replace(f"\n{DATES[6]:%Y-%m-%d},".encode(), f"\n{DATES[6]:%Y-%m-%d},n/a?".encode())
    at.file_uploader[0].set_value(("bad.csv", bad, "text/csv")).run()
    assert not at.exception
    # the column no longer holds only numbers: the user picks it, and the message names row and column
    _mapping_widget(at, "-value").set_value("Brent").run()
    errors = [str(e.value) for e in at.error]
    assert any("row 7" in e and "Brent" in e for e in errors), errors
