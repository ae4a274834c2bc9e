"""Parameter sweeps and reverse stress tests."""

from __future__ import annotations

import numpy as np
import pytest

from riskcore.errors import InputError
from riskcore.params import ModelParameters
from riskcore.peg.montecarlo import STAT_DESCRIPTIONS, simulate
from riskcore.peg.scenarios import PRESETS, Scenario
from riskcore.peg.sweep import Criterion, ReverseStressResult, SweepResult, reverse_stress, sweep

N = 2048
STEPS = 60


def test_sweep_is_the_cartesian_product_with_every_statistic_and_its_error():
    grid = {"alpha": [0.5, 2.0], "sigma_base": [0.02, 0.05, 0.1], "scenario": ["baseline", "crash"]}
    res = sweep(grid=grid, n_paths=N, n_steps=STEPS, seed=3)
    t = res.table
    assert len(t) == 12
    assert list(t.columns[:3]) == ["alpha", "sigma_base", "scenario"]
    for k in STAT_DESCRIPTIONS:
        assert k in t.columns and f"{k}_se" in t.columns
    # each row is exactly the simulation of that point with the same seed (common random numbers)
    row = t[(t.alpha == 2.0) & (t.sigma_base == 0.05) & (t.scenario == "crash")].iloc[0]
    ref = simulate(ModelParameters(alpha=2.0, sigma_base=0.05), N, n_steps=STEPS, seed=3, scenario="crash")
    assert row["p_min_below_0.95"] == ref.stats["p_min_below_0.95"]
    assert row["mean_terminal_se"] == ref.std_errors["mean_terminal"]
    piv = res.pivot("std_terminal", "alpha", "sigma_base")
    assert piv.shape == (3, 2) and (np.diff(piv[0.5].to_numpy()) > 0).all()  # more volatility, wider


def test_common_random_numbers_make_differences_precise():
    # with CRN the difference of mean terminal prices between two sigmas has a far smaller spread than the
    # independent-sample error: paths move together
    res = sweep(grid={"sigma_base": [0.02, 0.021]}, n_paths=N, n_steps=STEPS, seed=1, initial_price=1.05)
    a = simulate(ModelParameters(sigma_base=0.02), N, n_steps=STEPS, seed=1, initial_price=1.05)
    b = simulate(ModelParameters(sigma_base=0.021), N, n_steps=STEPS, seed=1, initial_price=1.05)
    diff_se = np.std(b.terminal - a.terminal, ddof=1) / np.sqrt(N)
    indep_se = np.hypot(a.std_errors["mean_terminal"], b.std_errors["mean_terminal"])
    assert diff_se < 0.2 * indep_se
    assert res.table["mean_terminal"].iloc[1] - res.table["mean_terminal"].iloc[0] == pytest.approx(
        b.stats["mean_terminal"] - a.stats["mean_terminal"])


def test_scenario_keys_shock_and_state():
    res = sweep(grid={"shock": [0.0, -0.3], "liquidity_pool": [1e6, 1e4]}, n_paths=N, n_steps=STEPS, seed=0)
    t = res.table.set_index(["shock", "liquidity_pool"])
    assert t.loc[(-0.3, 1e6), "p_min_below_0.90"] > t.loc[(0.0, 1e6), "p_min_below_0.90"]
    # the sweep point is the baseline with a -30 % shock on step 10 (the crash preset also moves health and
    # liquidity, so the reference scenario is written out here)
    crash = simulate(None, N, n_steps=STEPS, seed=0, scenario=Scenario(name="shock only", shocks={10: -0.3}))
    assert t.loc[(-0.3, 1e6), "mean_terminal"] == crash.stats["mean_terminal"]


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_sweep_runs_on_other_backends(backend):
    res = sweep(grid={"alpha": [0.5, 3.0]}, n_paths=N, n_steps=STEPS, seed=2, backend=backend, initial_price=1.05)
    m = res.table["mean_terminal"].to_numpy()
    se = res.table["mean_terminal_se"].to_numpy()
    assert m[1] < m[0] - 3 * se.max()  # faster reversion from 1.05: closer to 1


def test_sweep_on_dask_is_the_numba_sweep(monkeypatch):
    import riskcore.distributed as dist

    calls = []

    def fake_map(fn, items, progress=None, client=None):  # a local stand-in for the cluster: same functions
        calls.append(len(items))
        return [fn(i) for i in items]

    monkeypatch.setattr(dist, "map_chunks", fake_map)
    grid = {"alpha": [0.5, 1.0], "beta": [0.3, 0.6]}
    a = sweep(grid=grid, n_paths=N, n_steps=STEPS, seed=4, backend="dask")
    b = sweep(grid=grid, n_paths=N, n_steps=STEPS, seed=4, backend="numba")
    assert calls == [4]  # one task per grid point
    cols = [c for c in a.table.columns if c != "elapsed_s"]
    assert a.table[cols].equals(b.table[cols])


@pytest.mark.parametrize("grid,field", [
    ({}, "grid"),
    (None, "grid"),
    ({"alpha": []}, "grid[alpha]"),
    ({"not_a_param": [1]}, "grid"),
    ({"sigma_base": [0.02, -1.0]}, "grid[sigma_base]"),
    ({"alpha": [400.0]}, "grid[alpha]"),  # alpha * dt >= 1
    ({"network_health": [2.0]}, "grid[network_health]"),
    ({"shock": [-1.5]}, "grid[shock]"),
    ({"scenario": ["nope"]}, "grid[scenario]"),
    ({"alpha": list(np.linspace(0, 1, 101)), "beta": list(np.linspace(0, 1, 101))}, "grid"),  # 10,201 points
])
def test_bad_grids_are_rejected_before_any_work(grid, field, monkeypatch):
    import riskcore.peg.sweep as sw

    monkeypatch.setattr(sw, "_run_point", lambda *a, **k: pytest.fail("simulated before validating"))
    with pytest.raises(InputError) as exc:
        sweep(grid=grid, n_paths=N)
    assert exc.value.field == field


def test_sweep_save_and_load(tmp_store):
    res = sweep(grid={"alpha": [0.5, 1.0]}, n_paths=N, n_steps=STEPS, seed=5, scenario="fiat_flight")
    rid = res.save(tmp_store, name="s")
    back = SweepResult.load(tmp_store, rid)
    assert back.table.equals(res.table) and back.grid == res.grid and back.scenario == res.scenario
    assert back.seed == 5 and back.run_id == rid


# ---- reverse stress ------------------------------------------------------------------------------
def test_reverse_stress_finds_the_shock_boundary_with_its_uncertainty():
    crit = Criterion("p_min_below_0.90", ">=", 0.5)
    res = reverse_stress(crit, {"shock": (0.0, -0.4)}, n_paths=4096, n_steps=STEPS, seed=7, tol=1e-3)
    assert res.status == "breached"
    s = res.boundary["shock"]
    assert -0.4 < s < 0.0
    # at the boundary the statistic is at the threshold, within a few of its standard errors
    at = simulate(None, 4096, n_steps=STEPS, seed=7, scenario=PRESETS["baseline"].replace(shocks={10: s}))
    assert abs(at.stats["p_min_below_0.90"] - 0.5) < 4 * at.std_errors["p_min_below_0.90"] + 0.01
    assert 0 < res.severity_se < 0.1
    lo, hi = res.boundary_interval()["shock"]
    assert hi <= s <= lo  # the shock axis runs towards negative values
    # just milder than the interval: not breached; just more severe: breached
    milder = simulate(None, 4096, n_steps=STEPS, seed=7, scenario=PRESETS["baseline"].replace(shocks={10: lo + 0.01}))
    assert not crit.breached(milder.stats["p_min_below_0.90"])
    assert res.evaluations["breached"].iloc[-1] and not res.evaluations["breached"].iloc[0]


def test_reverse_stress_liquidity_and_edge_outcomes(tmp_store):
    res = reverse_stress("p_min_below_0.95 >= 0.001", {"sigma_base": (0.02, 0.5)}, n_paths=N, n_steps=STEPS)
    assert res.status == "breached at the mild end" and res.boundary == {"sigma_base": 0.02}
    res = reverse_stress("p_min_below_0.90 >= 0.99", {"liquidity_pool": (1e6, 1e5)}, n_paths=N, n_steps=STEPS)
    assert res.status == "not breached in the search space" and res.boundary is None
    rid = res.save(tmp_store)
    back = ReverseStressResult.load(tmp_store, rid)
    assert back.status == res.status and back.evaluations.equals(res.evaluations)


@pytest.mark.parametrize("crit,space,field", [
    ("p_min_below_0.95 >= 1.5", {"shock": (0, -0.5)}, "criterion.threshold"),
    ("p_min_below_0.95 >= 0", {"shock": (0, -0.5)}, "criterion.threshold"),
    ("p_nothing >= 0.1", {"shock": (0, -0.5)}, "criterion.statistic"),
    ("p_min_below_0.95 ~ 0.1", {"shock": (0, -0.5)}, "criterion"),
    ("p_min_below_0.95 >= 0.1", {}, "search_space"),
    ("p_min_below_0.95 >= 0.1", {"shock": (0, 0)}, "search_space[shock]"),
    ("p_min_below_0.95 >= 0.1", {"shock": (0, -2)}, "grid[shock]"),
    ("p_min_below_0.95 >= 0.1", {"scenario": ("a", "b")}, "search_space"),
])
def test_reverse_stress_bad_input(crit, space, field, monkeypatch):
    import riskcore.peg.sweep as sw

    monkeypatch.setattr(sw, "_run_point", lambda *a, **k: pytest.fail("simulated before validating"))
    with pytest.raises(InputError) as exc:
        reverse_stress(crit, space, n_paths=N)
    assert exc.value.field == field
