"""Stress report over the presets, its HTML, storage; the Dask client from RISKCORE_DASK_SCHEDULER."""

from __future__ import annotations

import numpy as np
import pytest

from riskcore.errors import InputError
from riskcore.params import ModelParameters
from riskcore.peg.report import StressReport, stress_report
from riskcore.peg.scenarios import PRESETS, Scenario
from riskcore.reports import stress_report_html


@pytest.fixture(scope="module")
def report():
    return stress_report(ModelParameters(), n_paths=2_000, n_steps=120, seed=3, keep_paths=5)


def test_report_runs_every_preset_with_common_random_numbers(report):
    assert list(report.results) == list(PRESETS)
    assert list(report.table.index) == list(PRESETS)
    assert report.table.loc["crash", "mean_terminal"] < 0.85 < report.table.loc["baseline", "mean_terminal"]
    # network degradation doubles the volatility for 60 days: more de-pegging than the baseline
    assert report.table.loc["network_degradation", "p_depeg"] > report.table.loc["baseline", "p_depeg"]
    # common random numbers: a scenario with the baseline's state is the baseline, path by path
    same = stress_report(ModelParameters(), n_paths=2_000, n_steps=120, seed=3,
                         scenarios=[Scenario(name="again"), "baseline"])
    assert np.array_equal(same.results["again"].terminal, report.results["baseline"].terminal)
    summary = report.summary()
    assert summary.equals(report.table) and summary is not report.table


def test_html_is_standalone(report):
    html = stress_report_html(report)
    assert html.startswith("<!DOCTYPE html>") and "</html>" in html
    assert 'src="https://cdn.plot.ly' not in html and "plotly.js" in html.lower()  # plotly.js is inline
    assert html.count('class="plotly-graph-div"') == 2 + len(PRESETS)
    for name in PRESETS:
        assert name in html


def test_report_progress_and_validation():
    seen: list[float] = []
    stress_report(n_paths=200, n_steps=20, scenarios=["crash", "baseline"], progress=seen.append)
    assert seen[-1] == pytest.approx(1.0) and seen == sorted(seen)
    with pytest.raises(InputError, match="scenarios"):
        stress_report(n_paths=10, n_steps=5, scenarios=["crash", "crash"])
    with pytest.raises(InputError, match="scenario"):
        stress_report(n_paths=10, n_steps=5, scenarios=["nope"])
    with pytest.raises(InputError, match="n_paths"):
        stress_report(n_paths=0)


def test_save_and_load(report, tmp_store):
    run_id = report.save(tmp_store, name="committee")
    back = StressReport.load(tmp_store, run_id)
    assert back.run_id == run_id and list(back.results) == list(report.results)
    assert back.table.equals(report.table)
    for name, r in report.results.items():
        assert back.results[name].same_numbers(r)
    kinds = tmp_store.list_runs().kind.value_counts().to_dict()
    assert kinds == {"peg_simulation": len(PRESETS), "peg_stress_report": 1}


def test_dask_client_from_environment(monkeypatch):
    from distributed import LocalCluster

    import riskcore.distributed as dist
    from riskcore.peg.montecarlo import simulate

    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None)
    try:
        dist.close_clients()
        monkeypatch.setenv(dist.SCHEDULER_ENV, cluster.scheduler_address)
        client = dist.get_client()
        assert client.scheduler.address == cluster.scheduler_address
        assert dist.get_client() is client  # cached
        d = simulate(None, 3_000, n_steps=30, seed=4, backend="dask", chunk_paths=1_024)
        assert np.array_equal(d.terminal, simulate(None, 3_000, n_steps=30, seed=4).terminal)
        assert dist.map_chunks(abs, [-1, -2, 3], client=client) == [1, 2, 3]
    finally:
        dist.close_clients()
        cluster.close()
