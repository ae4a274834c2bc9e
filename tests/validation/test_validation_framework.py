"""The validation framework: each check against known answers, each able to fail, the report round trip."""

from __future__ import annotations

import math

import numpy as np
import pytest

import riskcore.validation.checks as C
from riskcore.errors import InputError
from riskcore.params import ModelParameters
from riskcore.peg.montecarlo import Backend
from riskcore.reports import validation_report_html
from riskcore.validation import CheckStatus, ValidationReport, run_benchmark, validate
from riskcore.validation.checks import _Run, euler_ou_moments
from riskcore.validation.var_checks import source_returns, var_checks

N = 4096
RUN = _Run(N, 0, Backend.NUMBA)
P = ModelParameters()


def test_euler_moments_are_the_recursion_of_the_scheme_not_the_continuous_ou():
    alpha, sigma, dt, n, x0 = 40.0, 0.3, 1 / 365, 200, 0.05
    m, v = x0, 0.0
    for _ in range(n):  # independent: iterate the AR(1) moments step by step
        m, v = (1 - alpha * dt) * m, (1 - alpha * dt) ** 2 * v + sigma**2 * dt
    em, ev = euler_ou_moments(alpha, sigma, dt, n, x0)
    assert em == pytest.approx(m, rel=1e-12) and ev == pytest.approx(v, rel=1e-12)
    cont = sigma**2 * (1 - math.exp(-2 * alpha * n * dt)) / (2 * alpha)
    assert abs(ev / cont - 1) > 0.03  # alpha dt = 0.11: the discrete law differs visibly
    assert euler_ou_moments(0.0, sigma, dt, n, x0) == (x0, pytest.approx(n * sigma**2 * dt))


def test_convergence_is_reported_failing_at_about_eleven_percent():
    res = C.convergence_check(P, _Run(20_000, 0, Backend.NUMBA))
    assert res.status is CheckStatus.FAILED and res.target == 0.95
    assert abs(res.value - 0.11) < 4 * res.std_error + 0.01  # SPEC §1: about 11 %
    assert res.std_error == pytest.approx(math.sqrt(res.value * (1 - res.value) / 20_000))


@pytest.mark.parametrize("name", ["stability", "sensitivity", "ou_moments", "jump_frequency", "floor", "bands",
                                  "shocks"])
def test_each_check_passes_on_the_correct_engine(name):
    out = C.PRICE_CHECKS[name](P.replace(jump_intensity=5.0) if name == "jump_frequency" else P, RUN)
    for r in out if isinstance(out, list) else [out]:
        assert r.status is CheckStatus.PASSED, r


def _patched_simulate(monkeypatch, change):
    real = C.simulate

    def fake(params, *a, **k):
        return real(change(params), *a, **k)

    monkeypatch.setattr(C, "simulate", fake)


@pytest.mark.parametrize("name,change", [
    ("jump_frequency", lambda p: p.replace(jump_intensity=p.jump_intensity * 1.5)),
    ("ou_moments", lambda p: p.replace(sigma_base=p.sigma_base * 1.1)),
    ("ou_moments", lambda p: p.replace(alpha=p.alpha * 1.2)),
    ("bands", lambda p: p.replace(beta=p.beta * 2)),
    ("bands", lambda p: p.replace(gamma=p.gamma * 0.5)),
])
def test_each_check_fails_on_a_broken_engine(monkeypatch, name, change):
    # the engine is made to use other parameters than the ones the check's closed form assumes
    _patched_simulate(monkeypatch, change)
    params = P.replace(jump_intensity=20.0, alpha=5.0) if name == "jump_frequency" or name == "ou_moments" else P
    out = C.PRICE_CHECKS[name](params, _Run(20_000, 0, Backend.NUMBA))
    assert any(r.status is CheckStatus.FAILED for r in (out if isinstance(out, list) else [out]))


def test_shock_check_fails_when_the_engine_applies_another_shock(monkeypatch):
    real = C.simulate

    def fake(params, *a, scenario=None, **k):
        if scenario is not None and scenario.shocks:
            scenario = scenario.replace(shocks={s: v * 0.9 for s, v in scenario.shocks.items()})
        return real(params, *a, scenario=scenario, **k)

    monkeypatch.setattr(C, "simulate", fake)
    res = C.shock_check(P, RUN)
    assert res.status is CheckStatus.FAILED and res.value > 0.01


def test_stability_covers_the_source_extremes_and_every_preset():
    res = C.stability_check(P, RUN)
    names = [r["scenario"] for r in res.details["scenarios"]]
    assert names[:4] == ["price 0.001", "price 100", "liquidity 1", "liquidity 1e9"]
    assert len(names) == 4 + 6 and res.value == res.target == 10


def test_sensitivity_uses_common_random_numbers():
    res = C.sensitivity_check(P, RUN)
    rows = [r for r in res.details["perturbations"] if "sensitivity" in r]
    assert len(rows) == 6
    for r in rows:  # paired errors well below the independent-sample ones (variance at least 4x smaller)
        assert r["sensitivity_se"] < 0.5 * r["independent_se"]
    # alpha up pulls the price from 1.05 towards the peg: negative sensitivity, many errors away from 0
    up = next(r for r in rows if r["parameter"] == "alpha" and r["change"] > 0)
    assert up["sensitivity"] < -5 * up["sensitivity_se"]


def test_a_check_that_cannot_run_is_an_error_not_hidden(monkeypatch):
    def boom(params, run):
        raise RuntimeError("no engine")

    monkeypatch.setitem(C.PRICE_CHECKS, "floor", boom)
    rep = validate(n_paths=500, var=False)
    floor = rep.check("floor")
    assert floor.status is CheckStatus.ERROR and "no engine" in floor.details["error"]
    assert rep.counts()["error"] == 1


def test_var_checks_on_the_source_sample():
    r = source_returns()
    assert r.size == 2000 and abs(r.mean() + 0.001) < 4 * 0.02 / math.sqrt(2000)
    checks, bt = var_checks(r.iloc[:700], window=252)
    assert len(checks) == 6 * 3  # five methods and the ensemble at three levels
    for c in checks:
        row = bt.summary().loc[(c.name.split("_", 1)[1].rsplit("_", 1)[0], 1 - c.target)]
        assert c.value == row["rate"]
        assert c.passed == (row["kupiec_p"] >= 0.05 and row["cc_p"] >= 0.05)
        assert "dq_p" in c.details and "z2" in c.details


def test_validate_report_html_save_and_load(tmp_store):
    r = source_returns().iloc[:600]
    steps = []
    rep = validate(n_paths=1000, returns=r, progress=lambda f, m: steps.append(f))
    assert steps == sorted(steps) and steps[-1] == 1.0
    summ = rep.summary()
    assert summ.loc["convergence", "status"] == "failed"
    assert {"status", "value", "target", "std_error"} <= set(summ.columns)
    html = validation_report_html(rep)
    assert html.startswith("<!DOCTYPE html>") and "<script src=" not in html  # standalone, plotly inline
    assert "FAILED" in html and "convergence" in html
    bench = run_benchmark(path_counts=(500, 1000), n_steps=20, backends=["numba", "numpy"], n_returns=300,
                          var_repeats=1)
    rep2 = rep.with_benchmark(bench)
    rid = rep2.save(tmp_store, name="t")
    back = ValidationReport.load(tmp_store, rid)
    assert back.summary().equals(summ) and back.run_id == rid
    assert back.benchmark.mc.equals(bench.mc) and back.var_summary.equals(rep.var_summary)
    assert "Benchmark" in validation_report_html(back)


def test_benchmark_tables_and_accuracy():
    b = run_benchmark(path_counts=(2048, 4096), n_steps=30, backends=["numpy", "numba"], n_returns=500,
                      var_repeats=1)
    mc = b.mc
    assert list(mc["backend"].unique()) == ["numba", "numpy"]  # the reference first
    assert (mc["path_steps_per_s"] > 0).all()
    ref = mc[mc.backend == "numba"]
    assert (ref["diff_se"] == 0).all()
    other = mc[mc.backend == "numpy"]
    assert (other["diff_se"].abs() < 4.5).all()  # independent streams, same law: a z-score
    assert set(b.var["method"]) == {"historical", "parametric", "cornish_fisher", "evt", "fhs"}
    assert (b.var["peak_mb"] > 0).all() and "cpu_count" in b.machine
    assert "# VaR methods" in b.to_csv()


@pytest.mark.parametrize("kw,field", [({"n_paths": 10}, "n_paths"), ({"returns": np.zeros(100)}, "returns"),
                                      ({"backend": "gpu9"}, "backend"), ({"price_checks": False, "var": False},
                                                                         "price_checks")])
def test_validate_bad_input(kw, field):
    with pytest.raises(InputError) as exc:
        validate(**kw)
    assert exc.value.field == field
