"""Column mapping of price files load_prices cannot read alone (issue 11 item 11).

The issue's example files: several price columns (Date, Brent, WTI), a returns file, and a
spreadsheet export with a title row; plus exact duplicate rows and messages a person can read.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskcore.data import ValueKind, inspect_table, load_mapped, load_prices, prices_from_returns
from riskcore.errors import InputError

N = 60
DATES = pd.date_range("2024-01-01", periods=N, freq="B")
RNG = np.random.default_rng(7)
BRENT = np.round(80 * np.exp(np.cumsum(RNG.normal(0, 0.01, N))), 2)
WTI = np.round(BRENT - 4.0, 2)
RETURNS = RNG.normal(0, 0.01, N)


def _oil() -> bytes:
    return pd.DataFrame({"Date": DATES.strftime("%Y-%m-%d"), "Brent": BRENT, "WTI": WTI}).to_csv(index=False).encode()


def _returns() -> bytes:
    return pd.DataFrame({"Date": DATES.strftime("%Y-%m-%d"), "Return": RETURNS}).to_csv(index=False).encode()


def _excel_export() -> bytes:
    body = pd.DataFrame({"Date": DATES.strftime("%m/%d/%Y"), "Brent": BRENT, "WTI": WTI}).to_csv(index=False)
    return ("Europe Brent Spot Price FOB (Dollars per Barrel),,\nSource: U.S. Energy Information Administration,,\n"
            + body).encode()


def test_several_price_columns_map_to_the_chosen_one():
    layout = inspect_table(_oil())
    assert layout.columns == ("Date", "Brent", "WTI")
    assert layout.date_column == "Date" and layout.value_columns == ("Brent", "WTI")
    assert layout.value_column == "Brent" and layout.value_kind is ValueKind.PRICE and layout.needs_mapping
    s = load_mapped(_oil(), "Date", "WTI")
    np.testing.assert_array_equal(s.prices.to_numpy(), WTI)
    assert s.report.price_column == "WTI" and len(s) == N


def test_returns_file_rebuilds_prices_whose_returns_are_the_file():
    layout = inspect_table(_returns())
    assert layout.value_column == "Return" and layout.value_kind is ValueKind.SIMPLE_RETURN
    s = load_mapped(_returns(), "Date", "Return", layout.value_kind)
    assert len(s) == N + 1 and s.prices.iloc[0] == 1.0  # anchor one spacing before the first row
    np.testing.assert_allclose(s.returns("simple").to_numpy(), RETURNS, rtol=1e-12, atol=1e-15)
    assert any("rebuilt" in w for w in s.report.warnings)
    logs = load_mapped(_returns(), "Date", "Return", ValueKind.LOG_RETURN)
    np.testing.assert_allclose(logs.returns("log").to_numpy(), RETURNS, rtol=1e-9, atol=1e-15)


def test_percent_returns_with_percent_signs():
    data = pd.DataFrame({"Date": DATES.strftime("%Y-%m-%d"),
                         "Change %": [f"{100 * r:.4f}%" for r in RETURNS]}).to_csv(index=False).encode()
    layout = inspect_table(data)
    assert layout.value_kind is ValueKind.PERCENT_RETURN
    s = load_mapped(data, layout.date_column, layout.value_column, layout.value_kind)
    np.testing.assert_allclose(s.returns("simple").to_numpy(), np.round(100 * RETURNS, 4) / 100, rtol=1e-12)


def test_title_rows_of_a_spreadsheet_export_are_skipped():
    layout = inspect_table(_excel_export())
    assert layout.title_lines == 2 and layout.has_header
    assert layout.columns == ("Date", "Brent", "WTI")  # never "Unnamed: 1"
    s = load_mapped(_excel_export(), layout.date_column, layout.value_column)
    np.testing.assert_array_equal(s.prices.to_numpy(), BRENT)
    assert s.start == DATES[0] and any("title line" in w for w in s.report.warnings)


def test_semicolon_file_with_decimal_commas_and_a_quoted_title():
    lines = [f"{d:%d.%m.%Y};{p:.2f}".replace(f"{p:.2f}", f"{p:.2f}".replace(".", ",")) for d, p in zip(DATES, BRENT,
                                                                                                          strict=True)]
    data = ('"Prices, daily"\n\nDate;Close\n' + "\n".join(lines)).encode()
    layout = inspect_table(data)
    assert (layout.separator, layout.title_lines, layout.date_column, layout.value_column) == (";", 1, "Date", "Close")
    np.testing.assert_allclose(load_mapped(data, "Date", "Close").prices.to_numpy(), BRENT)


def test_exact_duplicate_rows_are_counted_and_can_be_dropped():
    lines = _oil().decode().splitlines()
    data = ("\n".join(lines[:10] + [lines[5], lines[6]] + lines[10:]) + "\n").encode()
    assert inspect_table(data).n_duplicate_rows == 2
    with pytest.raises(InputError, match="exact copy") as err:
        load_mapped(data, "Date", "Brent")
    assert err.value.row == 10  # the 10th data row is the copy of data row 5
    s = load_mapped(data, "Date", "Brent", drop_duplicates=True)
    assert len(s) == N and any("2 exact duplicate" in w for w in s.report.warnings)


def test_headerless_file_gets_readable_column_names():
    data = "\n".join(f"{d:%Y-%m-%d},{p}" for d, p in zip(DATES, BRENT, strict=True)).encode()
    layout = inspect_table(data)
    assert not layout.has_header and layout.columns == ("column 1", "column 2")
    assert len(load_mapped(data, "column 1", "column 2")) == N


def test_messages_name_the_column_and_row_and_leak_no_numpy_reprs():
    with pytest.raises(InputError, match="not a column of the file; columns: Date, Brent, WTI"):
        load_mapped(_oil(), "Date", "Oil")
    bad = _oil().replace(f"\n{DATES[3]:%Y-%m-%d},".encode(), f"\n{DATES[3]:%Y-%m-%d},abc".encode())
    with pytest.raises(InputError) as err:
        load_mapped(bad, "Date", "Brent")
    assert err.value.row == 4 and "Brent" in str(err.value)
    crash = pd.DataFrame({"Date": DATES.strftime("%Y-%m-%d"), "Return": np.r_[RETURNS[:-1], -1.5]})
    with pytest.raises(InputError) as err:
        load_mapped(crash.to_csv(index=False).encode(), "Date", "Return", "simple_return")
    assert err.value.row == N and "np.float64" not in str(err.value) and "(got -1.5)" in str(err.value)
    # the existing loader's messages are readable too
    with pytest.raises(InputError) as err:
        load_prices(_returns())
    assert "np.float64" not in str(err.value)
    assert "Unnamed" not in " ".join(inspect_table(_excel_export()).columns)


def test_prices_from_returns_known_values():
    np.testing.assert_allclose(prices_from_returns([0.1, -0.5], "simple_return", 100.0), [100.0, 110.0, 55.0])
    np.testing.assert_allclose(prices_from_returns([10.0], "percent_return"), [1.0, 1.1])
    np.testing.assert_allclose(prices_from_returns([np.log(2.0)], "log_return", 3.0), [3.0, 6.0])
    with pytest.raises(InputError, match="value_kind"):
        load_mapped(_oil(), "Date", "Brent", "prices?")
