"""Stability review for managers: stability score and risk level over a whole run or dataset.

:func:`review_series` replays a price history through a fresh :class:`~riskcore.monitor.token.TokenMonitor`
(in batches: the same numbers as tick by tick) and returns a :class:`StabilityReview` with the timeline,
every alert raised and cleared, the recorded responses, the worst periods and an HTML report.
:func:`review_dataset` and :func:`review_run` do the same for a stored dataset, a saved Monte Carlo
run (one of its kept paths, with the scenario's liquidity and network health) or a saved monitoring
session (its timeline as it was recorded).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskcore.errors import InputError
from riskcore.kinds import RunKind
from riskcore.monitor.alerts import SEVERITY_ORDER, AlertStatus
from riskcore.monitor.session import RUN_KIND
from riskcore.monitor.stability import RiskLevel
from riskcore.monitor.token import TokenMonitor
from riskcore.validate import integer

__all__ = ["StabilityReview", "review_series", "review_dataset", "review_run", "worst_periods"]

_LEVELS = [str(lv) for lv in RiskLevel]


def worst_periods(frame: pd.DataFrame, alerts: pd.DataFrame | None = None, *, n: int = 5,
                  window: int = 10) -> pd.DataFrame:
    """The ``n`` non-overlapping windows of ``window`` ticks with the lowest mean stability score.

    Parameters
    ----------
    frame : DataFrame
        Timeline with ``seq``, ``ts``, ``stability_score`` and ``risk_level``.
    alerts : DataFrame, optional
        Alert history (``seq``, ``severity``, ``alert_type``, ``status``); alerts raised inside a window
        are counted and listed.
    n, window : int

    Returns
    -------
    DataFrame
        One row per period, worst first: ``rank, start, end, start_seq, end_seq, mean_score,
        min_score, worst_level, n_alerts, alerts``.

    Notes
    -----
    Greedy selection: the window with the lowest rolling mean is taken, windows overlapping it are
    excluded, and so on. With fewer ticks than ``window`` the whole timeline is one period.
    """
    cols = ["rank", "start", "end", "start_seq", "end_seq", "mean_score", "min_score", "worst_level", "n_alerts",
            "alerts"]
    n, window = integer("n", n, 1), integer("window", window, 1)
    if frame.empty:
        return pd.DataFrame(columns=cols)
    score = frame["stability_score"].to_numpy(dtype=float)
    w = min(int(window), score.size)
    means = np.convolve(score, np.ones(w) / w, mode="valid")   # means[i] = mean of score[i:i+w]
    taken = np.zeros(score.size, dtype=bool)
    order = np.argsort(means, kind="stable")
    raised = pd.DataFrame() if alerts is None or alerts.empty else alerts[alerts["status"] == AlertStatus.ACTIVE]
    rows = []
    for i in order:
        if len(rows) >= n:
            break
        if taken[i:i + w].any():
            continue
        taken[i:i + w] = True
        seg = frame.iloc[i:i + w]
        levels = seg["risk_level"].astype(str)
        worst = max(levels, key=lambda lv: _LEVELS.index(lv) if lv in _LEVELS else -1)
        s0, s1 = int(seg["seq"].iloc[0]), int(seg["seq"].iloc[-1])
        inside = raised[(raised["seq"] >= s0) & (raised["seq"] <= s1)] if not raised.empty else raised
        kinds = "; ".join(f"{r.severity} {r.alert_type}" for r in inside.itertuples()) if len(inside) else ""
        rows.append([len(rows) + 1, seg["ts"].iloc[0], seg["ts"].iloc[-1], s0, s1, float(means[i]),
                     float(seg["stability_score"].min()), worst, int(len(inside)), kinds])
    return pd.DataFrame(rows, columns=cols)


@dataclass(frozen=True)
class StabilityReview:
    """Stability over time of one source, with its alerts.

    Attributes
    ----------
    name : str
        What was reviewed (dataset name, run name and path).
    frame : DataFrame
        One row per tick: ``seq, ts, price, ret, var_*, var_*_price, volatility, liquidity_pool,
        network_health, price_deviation, stability_score, risk_level, n_returns, latency_us``.
    alerts : DataFrame
        Alert history: each raise (status ACTIVE) and each clearing (CLEARED), oldest first.
    decisions : list of dict
        Automatic responses recorded (never executed).
    """

    name: str
    frame: pd.DataFrame
    alerts: pd.DataFrame
    decisions: list[dict[str, Any]] = field(default_factory=list)
    source: dict[str, Any] = field(default_factory=dict)

    def save(self, store: Any, name: str | None = None) -> str:
        """Save the review as a run of kind ``"monitor"`` (like a saved Live Monitor session); returns its id.

        The timeline is the run's summary; alerts (stored newest first, as a session stores them),
        decisions and the source go with it. :meth:`load` and :func:`review_run` read it back.
        """
        return store.save_run(RUN_KIND, None, None, self.frame, name=name or f"review {self.name}",
                              alerts=self.alerts.iloc[::-1].reset_index(drop=True), decisions=list(self.decisions),
                              source=dict(self.source))

    @classmethod
    def load(cls, store: Any, run_id: str) -> StabilityReview:
        """Read back a review saved by :meth:`save` (or a saved monitoring session), as it was."""
        rec = store.load_run(run_id, kind=RUN_KIND)
        return cls._from_record(rec)

    @classmethod
    def _from_record(cls, rec: Any) -> StabilityReview:
        frame = rec.summary if isinstance(rec.summary, pd.DataFrame) else pd.DataFrame(rec.summary)
        alerts = rec.extra.get("alerts")
        alerts = alerts.iloc[::-1].reset_index(drop=True) if isinstance(alerts, pd.DataFrame) else pd.DataFrame(
            columns=["seq", "severity", "alert_type", "status"])
        return cls(rec.name or rec.run_id[:8], frame, alerts, list(rec.extra.get("decisions", [])),
                   {"kind": "monitor", "run_id": rec.run_id})

    def worst_periods(self, n: int = 5, window: int = 10) -> pd.DataFrame:
        """See :func:`worst_periods`."""
        return worst_periods(self.frame, self.alerts, n=n, window=window)

    def alerts_in_periods(self, periods: pd.DataFrame) -> pd.DataFrame:
        """Alerts raised or cleared inside each period of :meth:`worst_periods`.

        Parameters
        ----------
        periods : DataFrame
            With ``rank``, ``start_seq`` and ``end_seq`` (inclusive tick numbers).

        Returns
        -------
        DataFrame
            The alert rows plus ``period`` (the period's rank), ``at`` (raise time, or clearing time for
            a CLEARED row) and ``tick`` (the tick that raised or cleared it), by period then tick. An
            alert raised before a period and cleared inside it appears as its CLEARED row.
        """
        a = self.alerts
        cols = [*a.columns, "period", "at", "tick"]
        if a.empty or periods is None or periods.empty or "seq" not in a:
            return pd.DataFrame(columns=cols)
        cleared = a["status"] == AlertStatus.CLEARED
        tick = a["cleared_seq"].where(cleared, a["seq"]) if "cleared_seq" in a else a["seq"]
        at = a["cleared_at"].where(cleared, a["created_at"]) if "cleared_at" in a else a["created_at"]
        events = a.assign(at=at, tick=pd.to_numeric(tick, errors="coerce").astype("Int64"))
        parts = [events[(events["tick"] >= int(r.start_seq)) & (events["tick"] <= int(r.end_seq))].assign(period=r.rank)
                 for r in periods.itertuples()]
        out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)
        if out.empty:
            return pd.DataFrame(columns=cols)
        return out.sort_values(["period", "tick"], kind="stable").reset_index(drop=True)[cols]

    def level_counts(self) -> pd.DataFrame:
        """Ticks and share of time at each risk level."""
        counts = self.frame["risk_level"].astype(str).value_counts().reindex(_LEVELS, fill_value=0)
        total = max(int(counts.sum()), 1)
        return pd.DataFrame({"ticks": counts.astype(int), "share": counts / total},
                            index=pd.Index(_LEVELS, name="risk_level"))

    def alert_counts(self) -> pd.DataFrame:
        """Alerts raised per severity and type."""
        raised = self.alerts[self.alerts["status"] == AlertStatus.ACTIVE] if not self.alerts.empty else self.alerts
        if raised.empty:
            return pd.DataFrame(columns=["severity", "alert_type", "count"])
        out = raised.groupby(["severity", "alert_type"]).size().rename("count").reset_index()
        out["_r"] = [-[str(s) for s in SEVERITY_ORDER].index(s) for s in out["severity"]]
        return out.sort_values(["_r", "alert_type"]).drop(columns="_r").reset_index(drop=True)

    def summary(self) -> pd.DataFrame:
        """Headline numbers: ticks, period, score mean / min / final, time at each level, alerts."""
        f = self.frame
        raised = self.alerts[self.alerts["status"] == AlertStatus.ACTIVE] if not self.alerts.empty else self.alerts
        rows: dict[str, Any] = {
            "ticks": len(f),
            "start": f["ts"].iloc[0] if len(f) else None,
            "end": f["ts"].iloc[-1] if len(f) else None,
            "score_mean": float(f["stability_score"].mean()) if len(f) else float("nan"),
            "score_min": float(f["stability_score"].min()) if len(f) else float("nan"),
            "score_final": float(f["stability_score"].iloc[-1]) if len(f) else float("nan"),
            "final_level": str(f["risk_level"].iloc[-1]) if len(f) else "",
        }
        for lv, share in self.level_counts()["share"].items():
            rows[f"share_{lv}"] = float(share)
        rows["alerts_raised"] = int(len(raised))
        for s in reversed(SEVERITY_ORDER):
            rows[f"alerts_{str(s).lower()}"] = int((raised["severity"] == str(s)).sum()) if len(raised) else 0
        rows["responses_recorded"] = len(self.decisions)
        return pd.DataFrame({"value": pd.Series(rows, dtype=object)})

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "frame": self.frame, "alerts": self.alerts, "decisions": list(self.decisions),
                "source": dict(self.source)}


def review_series(prices: Any, liquidity_pool: Any = 1_000_000.0, network_health: Any = 1.0, *,
                  name: str | None = None, ensemble: bool = True, **monitor_kwargs: Any) -> StabilityReview:
    """Replay ``prices`` through a fresh token monitor and review the result.

    Parameters
    ----------
    prices : PriceSeries, Series or DataFrame with ``price``
        A DatetimeIndex gives the tick times; otherwise ticks are numbered.
    liquidity_pool, network_health : float or array, optional
        Token state per tick (a DataFrame's ``liquidity_pool`` / ``network_health`` columns are used
        when present).
    name : str, optional
    ensemble : bool, default True
        Refit the ensemble weights every ``refresh_every`` ticks (see :class:`TokenMonitor`).
    **monitor_kwargs
        Passed to :class:`TokenMonitor` (``window``, ``refresh_every`` …).
    """
    if hasattr(prices, "to_frame") and hasattr(prices, "prices"):
        name = name or getattr(prices, "name", None)
        frame = prices.to_frame()
    elif isinstance(prices, pd.Series):
        frame = prices.rename("price").to_frame()
    elif isinstance(prices, pd.DataFrame):
        frame = prices
    else:
        try:
            arr = np.asarray(prices, dtype=float)
        except (TypeError, ValueError):
            raise InputError("prices", "must be numbers (a price series)", value=type(prices).__name__) from None
        if arr.ndim != 1:
            raise InputError("prices", "must be one-dimensional", value=arr.shape)
        frame = pd.DataFrame({"price": arr})
    if "price" not in frame:
        raise InputError("prices", "needs a 'price' column", value=list(map(str, frame.columns)))
    if len(frame) < 2:
        raise InputError("prices", "needs at least 2 prices", value=len(frame))
    n = len(frame)
    liq = frame["liquidity_pool"].to_numpy(float) if "liquidity_pool" in frame else liquidity_pool
    health = frame["network_health"].to_numpy(float) if "network_health" in frame else network_health
    ts = list(frame.index) if isinstance(frame.index, pd.DatetimeIndex) else list(range(n))
    monitor_kwargs.setdefault("history", n)
    mon = TokenMonitor(ensemble=ensemble, source=monitor_kwargs.pop("source", "review"), **monitor_kwargs)
    mon.update_many(frame["price"].to_numpy(float), liq, health, ts=ts, seq0=0)
    alerts = mon.engine.history_frame().iloc[::-1].reset_index(drop=True)
    return StabilityReview(name or "series", mon.frame(), alerts, list(mon.engine.decisions),
                           {"kind": "series", "n": n, "weights": mon.var.weights_dict()})


def review_dataset(store: Any, dataset: str, **kwargs: Any) -> StabilityReview:
    """Review a stored price dataset (id or name)."""
    rec = store.load_dataset(dataset)
    review = review_series(rec.frame, name=kwargs.pop("name", rec.name), **kwargs)
    return StabilityReview(review.name, review.frame, review.alerts, review.decisions,
                           {**review.source, "kind": "dataset", "dataset_id": rec.dataset_id})


def review_run(store: Any, run_id: str, *, path: int = 0, **kwargs: Any) -> StabilityReview:
    """Review a saved run.

    * kind ``"monitor"`` (a saved Live Monitor session): its recorded timeline and alerts, as they were;
    * kind ``"peg_simulation"``: kept path ``path`` replayed through a fresh monitor with the run's
      scenario inputs (liquidity pool and network health per step), one tick per model step.
    """
    rec = store.load_run(run_id)
    label = rec.name or rec.run_id[:8]
    if rec.kind == RUN_KIND:
        return StabilityReview._from_record(rec)
    if rec.kind == RunKind.PEG_SIMULATION:
        paths = (rec.arrays or {}).get("paths")
        if paths is None or np.ndim(paths) != 2 or paths.shape[0] == 0:
            raise InputError("run_id", "this simulation kept no paths (keep_paths = 0); re-run it with kept paths",
                             value=run_id)
        if isinstance(path, bool) or not isinstance(path, (int, np.integer)) or not 0 <= path < paths.shape[0]:
            raise InputError("path", f"must be a kept path index in [0, {paths.shape[0] - 1}]", value=path)
        from riskcore.peg.scenarios import Scenario

        prices = np.asarray(paths[path], dtype=float)
        n_steps = prices.size - 1
        scen = Scenario.from_dict(rec.extra["scenario"]) if "scenario" in rec.extra else Scenario()
        res = scen.resolve(n_steps)
        # the state of the transition that produced each price; step 0 takes the first transition's
        liq = np.concatenate([res.liquidity_pool[:1], res.liquidity_pool])
        health = np.concatenate([res.network_health[:1], res.network_health])
        dt_days = float(rec.extra.get("settings", {}).get("dt", 1 / 365)) * 365.0
        index = pd.Timestamp(rec.created_at).normalize() + pd.to_timedelta(np.arange(prices.size) * dt_days, unit="D")
        frame = pd.DataFrame({"price": prices, "liquidity_pool": liq, "network_health": health},
                             index=pd.DatetimeIndex(index, name="date"))
        review = review_series(frame, name=kwargs.pop("name", f"{label} · path {path}"), **kwargs)
        return StabilityReview(review.name, review.frame, review.alerts, review.decisions,
                               {**review.source, "kind": "peg_simulation", "run_id": rec.run_id, "path": int(path),
                                "scenario": scen.name})
    raise InputError("run_id", f"cannot review a {rec.kind!r} run; choose a 'monitor' or 'peg_simulation' run",
                     value=run_id)
