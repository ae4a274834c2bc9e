"""Is this series a pegged token at all? A check before peg-model results are read as such.

The peg model, its calibration and the token monitor's stability score all measure distance to a
peg of 1.0. On a series that lives elsewhere (an equity index at 4,000, a stock at 150) every
price is "beyond the band": the stability score sits at its floor for the whole period, the worst
periods are just the first windows (every window ties) and a calibration fits noise. Nothing
fails, so the pages must say so.

Criterion (documented decision)
-------------------------------
A series is treated as a **pegged token** when at least :data:`MIN_SHARE_NEAR_PEG` (50 %) of its
prices lie within :data:`NEAR_PEG_BAND` (±10 %) of the peg. A token that de-pegs for part of the
period (a bank run, a collapse after a long stable spell) still passes: it was pegged and the
review of how it broke is the point. A series that never came near the peg, or spent most of the
period far from it, fails. The median price and the share inside the band are reported so that
the verdict can be checked.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from riskcore.errors import InputError
from riskcore.peg.model import PEG

__all__ = ["PegCheck", "peg_check", "score_is_flat", "NEAR_PEG_BAND", "MIN_SHARE_NEAR_PEG"]

#: half-width of the band around the peg, relative (0.10 = prices in [0.9, 1.1] for a peg of 1)
NEAR_PEG_BAND: float = 0.10
#: least share of prices inside the band for a series to count as a pegged token
MIN_SHARE_NEAR_PEG: float = 0.5


@dataclass(frozen=True)
class PegCheck:
    """Verdict of :func:`peg_check`.

    Attributes
    ----------
    pegged : bool
        The series meets the criterion (module docstring).
    share_near_peg : float
        Share of prices within ``band`` of the peg (0..1).
    median_price : float
    peg, band, min_share : float
        The criterion used.
    n : int
        Number of finite prices examined.
    """

    pegged: bool
    share_near_peg: float
    median_price: float
    peg: float
    band: float
    min_share: float
    n: int

    @property
    def message(self) -> str:
        """A sentence for a person: empty for a pegged series."""
        if self.pegged:
            return ""
        return (f"This series does not look like a pegged token: only {self.share_near_peg:.0%} of its prices lie "
                f"within ±{self.band:.0%} of the peg {self.peg:g} (median price {self.median_price:,.4g}; a pegged "
                f"token has at least {self.min_share:.0%} there). Peg statistics, the stability score and the "
                "worst periods measure distance to the peg, so here they say nothing about the series' risk "
                "(the score stays at its floor and every period ties). Use the VaR Lab for an asset that is not "
                "pegged.")

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame({"value": pd.Series(self.to_dict())})

    def to_dict(self) -> dict[str, float | bool | int]:
        return asdict(self)


def peg_check(prices: pd.Series | np.ndarray, peg: float = PEG, band: float = NEAR_PEG_BAND,
              min_share: float = MIN_SHARE_NEAR_PEG) -> PegCheck:
    """Whether ``prices`` behave like a token pegged at ``peg``.

    Parameters
    ----------
    prices : Series or array
        Prices (NaN ignored).
    peg : float, default 1.0
    band : float, default 0.10
        Relative half-width of the band around the peg.
    min_share : float, default 0.5
        Least share of prices inside the band.

    Returns
    -------
    PegCheck

    Notes
    -----
    ``pegged = mean(|p / peg - 1| <= band) >= min_share`` over the finite prices.

    Examples
    --------
    >>> peg_check([1.0, 1.01, 0.99]).pegged
    True
    >>> peg_check([4000.0, 4100.0]).pegged
    False
    """
    if not (peg > 0 and np.isfinite(peg)):
        raise InputError("peg", "must be a finite number > 0", value=peg)
    if not (0 < band < 1):
        raise InputError("band", "must be in (0, 1)", value=band)
    if not (0 < min_share <= 1):
        raise InputError("min_share", "must be in (0, 1]", value=min_share)
    p = np.asarray(prices, dtype="float64").ravel()
    p = p[np.isfinite(p)]
    if p.size == 0:
        raise InputError("prices", "has no finite price to check")
    share = float(np.mean(np.abs(p / peg - 1.0) <= band))
    return PegCheck(pegged=share >= min_share, share_near_peg=share, median_price=float(np.median(p)),
                    peg=float(peg), band=float(band), min_share=float(min_share), n=int(p.size))


def score_is_flat(scores: pd.Series | np.ndarray, share: float = 0.95, tol: float = 1e-6) -> bool:
    """True when the stability score is one value for at least ``share`` of the ticks.

    Then the "worst periods" are only the windows where the score differs for a technical reason
    (the first ticks, before the VaR has enough returns) and must not be read as the series' worst
    moments. Notes: the test is ``mean(|score - median(score)| <= tol) >= share``.
    """
    v = np.asarray(scores, dtype="float64")
    v = v[np.isfinite(v)]
    if v.size < 2:
        return False
    return float(np.mean(np.abs(v - np.median(v)) <= tol)) >= share
