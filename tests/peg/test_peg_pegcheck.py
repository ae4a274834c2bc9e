"""Is a series a pegged token? (issue 11 item 12)."""

from __future__ import annotations

import numpy as np
import pytest

from riskcore.data import load_sample
from riskcore.errors import InputError
from riskcore.peg.pegcheck import MIN_SHARE_NEAR_PEG, NEAR_PEG_BAND, peg_check, score_is_flat


def test_samples_equity_index_is_not_pegged_stable_token_is():
    sp = peg_check(load_sample("sp500").prices)
    assert not sp.pegged and sp.share_near_peg == 0.0 and sp.median_price > 500
    assert "does not look like a pegged token" in sp.message and "VaR Lab" in sp.message
    tok = peg_check(load_sample("stable_token").prices)
    assert tok.pegged and tok.share_near_peg > 0.95 and tok.message == ""


def test_criterion_edges_and_a_depeg():
    # a token stable for 60 % of the period, then collapsed, was pegged: its review is the point
    collapse = np.r_[np.full(60, 1.0), np.linspace(0.8, 0.05, 40)]
    assert peg_check(collapse).pegged
    assert not peg_check(np.r_[np.full(40, 1.0), np.full(60, 0.5)]).pegged
    edge = np.r_[np.full(50, 1.0 + NEAR_PEG_BAND / 2), np.full(50, 3.0)]  # exactly 50 % inside the band
    assert peg_check(edge).pegged and MIN_SHARE_NEAR_PEG == 0.5
    assert peg_check([np.nan, 1.0, 1.01]).n == 2
    with pytest.raises(InputError, match="prices"):
        peg_check([np.nan])
    with pytest.raises(InputError, match="band"):
        peg_check([1.0], band=0.0)
    assert peg_check(np.full(10, 4000.0), peg=4000.0).pegged


def test_flat_score():
    assert score_is_flat(np.r_[[56.7, 58.0], np.full(98, 60.0)])
    assert not score_is_flat(np.r_[np.full(90, 60.0), np.linspace(20, 59, 10)])
    assert not score_is_flat([60.0])
