"""Browser tests of the Live Monitor: the panel refreshes itself with new ticks, and the price chart never blanks.

Everything waits on page state: an in-page observer records when the tick counter changes and samples the
price chart on every animation frame, and the test waits (``wait_for_function``) until enough refreshes
were seen. No sleeps, no fixed waits; buttons are found by their widget keys.
"""

from __future__ import annotations

import pytest
from conftest import app_runs, click_key, goto, keyed, no_exception

pytestmark = pytest.mark.e2e

TICKS = '.st-key-lm_ticks [data-testid="stMetricValue"]'

#: In the page: ``__lm.changes`` are the times (ms) at which the tick counter showed a new value with its
#: value; ``__lm.samples`` / ``__lm.blank`` count animation frames and those where the price chart had no
#: drawn trace (no plotly ``.main-svg``, or no line path with data in it).
_OBSERVE_JS = """
() => {
  const lm = window.__lm = {changes: [], samples: 0, blank: 0, last: null, blankAt: []};
  const read = () => {
    const el = document.querySelector(TICKS_SELECTOR);
    return el ? el.innerText.replace(/,/g, '') : null;
  };
  const drawn = () => {
    const chart = document.querySelector('.st-key-lm_price');
    if (!chart || !chart.querySelector('.main-svg')) return false;
    return Array.from(chart.querySelectorAll('.scatterlayer .trace path.js-line'))
      .some(p => (p.getAttribute('d') || '').length > 10);
  };
  lm.last = read();
  const frame = () => {
    const v = read();
    if (v !== null && v !== lm.last) { lm.changes.push([performance.now(), Number(v)]); lm.last = v; }
    lm.samples++;
    if (!drawn()) { lm.blank++; lm.blankAt.push(lm.changes.length); }
    if (!lm.stop) requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}
""".replace("TICKS_SELECTOR", repr(TICKS))


def _open(page, streamlit_server):
    goto(page, f"{streamlit_server}/live_monitor")
    page.locator(TICKS).first.wait_for()
    keyed(page, "lm_price").locator(".main-svg").first.wait_for()
    assert int(page.locator(TICKS).first.inner_text().replace(",", "")) == 40   # primed on first load


def test_live_monitor_shows_new_ticks_and_the_chart_never_blanks(page, streamlit_server, tmp_path):
    _open(page, streamlit_server)
    keyed(page, "lm_price").locator(".scatterlayer .trace path.js-line").first.wait_for()
    page.evaluate(_OBSERVE_JS)
    runs_before, full_before = app_runs(page), app_runs(page, full=True)
    click_key(page, "lm_start", full=True)
    # at 4 ticks/s with a 0.5 s refresh the panel shows new ticks about every half second; the timeout is for a
    # heavily loaded machine (a load average of 20 on 2 cores stretches each refresh several-fold)
    try:
        page.wait_for_function("() => window.__lm.changes.length >= 6", timeout=120_000)
    except Exception as exc:
        raise AssertionError(f"the panel did not refresh itself: {page.evaluate('() => window.__lm')}") from exc
    lm = page.evaluate("() => { window.__lm.stop = true; return window.__lm; }")
    page.screenshot(path=str(tmp_path / "live_monitor.png"), full_page=True)
    values = [v for _, v in lm["changes"]]
    assert values == sorted(values) and len(set(values)) == len(values), f"tick count went back: {values}"
    # the updates are the panel's own fragment runs: no whole-script run after the Start click's own (the
    # last change can be on screen before its run's "finished" message arrives: hence the - 1)
    assert app_runs(page, full=True) == full_before + 1
    assert app_runs(page) - runs_before >= len(values) - 1
    gaps = [(b - a) / 1e3 for (a, _), (b, _) in zip(lm["changes"][:-1], lm["changes"][1:], strict=True)]
    # The refresh period (0.5 s, a new tick within 1 s: ~0.5 s gaps on an idle machine) is not asserted here:
    # a timing bound is what made this test fail on a loaded machine. It is reported on failure only.
    assert all(g > 0 for g in gaps), gaps
    # the chart is updated in place: across the refreshes, not one animation frame without its traces drawn
    assert lm["samples"] >= 2 * len(values), lm["samples"]
    assert lm["blank"] == 0, (f"{lm['blank']} of {lm['samples']} frames had a blank chart "
                              f"(after tick change #{lm['blankAt'][:10]}; refresh gaps {gaps})")
    click_key(page, "lm_stop", full=True)
    keyed(page, "lm_status").filter(has_text="· stopped ·").wait_for()
    assert no_exception(page)
