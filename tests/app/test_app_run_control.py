"""The page helpers behind cancel/ETA, results with their inputs, the warm-up and its memo (issue 11)."""

from __future__ import annotations

import threading
import time

import pytest
from streamlit.testing.v1 import AppTest


def _script():
    import streamlit as st

    from app.run_control import cancel_flag, cancelled_notice, run_with_progress

    cancelled_notice("job", "Job")
    if st.session_state.get("press-cancel"):  # what the Cancel button's on_click records
        st.session_state[cancel_flag("job")] = True
        st.session_state["press-cancel"] = False

    def work(progress):
        for i in range(5):
            progress((i + 1) / 5, f"step {i + 1}")
        return 42

    out = run_with_progress(work, key="job", label="Working…")
    st.session_state["outcome"] = out
    st.write(f"value={out.value} cancelled={out.cancelled}")


def test_run_with_progress_returns_the_value_and_the_wall_time():
    at = AppTest.from_function(_script, default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    out = at.session_state["outcome"]
    assert out.ok and out.value == 42 and out.wall_s >= 0
    assert "value=42 cancelled=False" in at.markdown[0].value
    assert not [b for b in at.button if b.key == "job-cancel"]  # the panel is gone once done


def test_a_cancel_request_stops_the_run_at_its_next_progress_point():
    at = AppTest.from_function(_script, default_timeout=60)
    at.session_state["press-cancel"] = True
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    out = at.session_state["outcome"]
    assert out.cancelled and out.value is None
    assert any("cancelled" in str(i.value) and "nothing was kept or saved" in str(i.value) for i in at.info)
    at.run()  # the flag was consumed: the next run completes
    assert at.session_state["outcome"].value == 42


def test_memo_computes_each_key_once_even_when_asked_concurrently():
    from app import cached

    cached.clear()
    calls = []

    def make():
        calls.append(1)
        time.sleep(0.2)  # long enough for the second thread to arrive while the first computes
        return object()

    results = []
    threads = [threading.Thread(target=lambda: results.append(cached.memo(("k",), make))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len({id(r) for r in results}) == 1
    with pytest.raises(ZeroDivisionError):
        cached.memo(("bad",), lambda: 1 / 0)
    assert cached.memo(("bad",), lambda: 7) == 7  # a failure stores nothing
    cached.clear()


def test_warmup_is_off_under_pytest_unless_forced(monkeypatch):
    from app import warmup

    monkeypatch.delenv("RISKCORE_WARMUP", raising=False)
    assert not warmup.enabled() and warmup.start() is None
    monkeypatch.setenv("RISKCORE_WARMUP", "1")
    assert warmup.enabled()
    monkeypatch.setenv("RISKCORE_WARMUP", "0")
    assert not warmup.enabled()


def test_warmup_steps_fill_the_memo_the_pages_read(monkeypatch):
    from app import cached, warmup
    from riskcore.data import load_sample

    cached.clear()
    warmup._var_lab()
    s = load_sample("sp500")
    r = s.returns("simple").rename(s.name)
    calls = []
    monkeypatch.setattr("riskcore.var.EnsembleVaR.fit", lambda self, x: calls.append(1))
    # exactly the key the VaR Lab asks for on first open: no second fit
    report = cached.ensemble_report(r.iloc[-len(r):], (0.95, 0.99, 0.997), min(252, max(30, len(r) // 2)))
    assert calls == [] and report is not None
    cached.clear()


def test_freeze_heap_takes_what_is_alive_out_of_the_collectors_walk():
    """After the warm-up, a full collection (Streamlit's after every script run) walks only newer objects."""
    import gc

    from app import warmup

    assert [n for n, _ in warmup.STEPS].index("freeze") == [n for n, _ in warmup.STEPS].index("page_imports") + 1
    assert warmup.STEPS[-1][0] == "freeze_again"
    before = len(gc.get_objects())
    try:
        frozen = warmup.freeze_heap()
        assert frozen >= before // 2 > 1000
        assert len(gc.get_objects()) < before - frozen // 2     # the collector's generations no longer hold them
        young = [object() for _ in range(10)]
        assert gc.is_tracked([young]) and gc.collect(2) >= 0    # new objects are still collected
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0
