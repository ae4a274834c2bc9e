"""State that follows the user, in headless Chromium (issue 11 items 5, 8, 10).

Selects by widget key (Streamlit's ``st-key-<key>`` class) and waits on state, never on time.
"""

from __future__ import annotations

import re

import pytest
from conftest import wait_for_app

pytestmark = pytest.mark.e2e


def _set_number(page, key: str, value: int) -> None:
    box = page.locator(f".st-key-{key} input")
    box.fill(str(value))
    box.press("Enter")
    wait_for_app(page)


def _nav(page, title: str) -> None:
    """Move to another page the way a user does: the sidebar link (same session, unlike page.goto)."""
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text=title).first.click()
    wait_for_app(page)


def _wait_value(page, key: str, text: str) -> None:
    """Wait until the input of widget ``key`` shows ``text`` (a selectbox shows its choice as the value)."""
    page.wait_for_function("([k, t]) => { const e = document.querySelector(`.st-key-${k} input`);"
                           " return !!e && e.value.includes(t); }", arg=[key, text])


def _run_and_save(page, seed: int) -> None:
    _set_number(page, "sl-seed", seed)
    page.locator(".st-key-sl-run button").click()
    page.locator(".st-key-sl-results").filter(has_text=f"seed {seed},").wait_for()
    wait_for_app(page)
    page.locator(".st-key-sl-save button").click()
    page.get_by_text("Saved in the store as run").first.wait_for()
    wait_for_app(page)


def test_compare_view_stays_put_inputs_survive_navigation_and_a_run_can_be_cancelled(page, streamlit_server):
    page.goto(f"{streamlit_server}/scenario_lab")
    page.locator(".st-key-sl-results [data-testid='stPlotlyChart']").first.wait_for()  # the first-visit run
    wait_for_app(page)
    _set_number(page, "sl-n-paths", 3000)
    _set_number(page, "sl-n-steps", 60)
    _run_and_save(page, 11)
    _run_and_save(page, 12)

    # choosing a run in "Compare saved runs" keeps that view (st.tabs jumped back to Simulation)
    page.locator(".st-key-sl-view button").filter(has_text="Compare saved runs").click()
    page.locator(".st-key-sl-cmp-A").wait_for()
    wait_for_app(page)
    page.locator(".st-key-sl-cmp-A input[role='combobox']").click()
    page.locator("[role='listbox'] [role='option']").filter(has_text="baseline seed 11").click()
    wait_for_app(page)
    _wait_value(page, "sl-cmp-A", "baseline seed 11")
    assert page.locator(".st-key-sl-cmp-B").is_visible()
    assert page.locator(".st-key-sl-results").count() == 0  # still the Compare view

    # inputs and view come back after a visit to Home
    _nav(page, "Home")
    page.locator(".st-key-home-recent").wait_for()
    _nav(page, "Scenario Lab")
    _wait_value(page, "sl-cmp-A", "baseline seed 11")
    assert page.locator(".st-key-sl-seed input").input_value() == "12"
    assert page.locator(".st-key-sl-n-paths input").input_value() == "3000"

    # a long run has its own Cancel button; cancelling keeps the previous result and saves nothing
    page.locator(".st-key-sl-view button").filter(has_text="Simulation").click()
    page.locator(".st-key-sl-results").filter(has_text="seed 12,").wait_for()
    wait_for_app(page)
    _set_number(page, "sl-n-paths", 20_000_000)
    _set_number(page, "sl-seed", 13)
    page.locator(".st-key-sl-run button").click()
    # (the panel of an earlier, finished run can linger hidden in the DOM: take the visible one)
    cancel = page.locator(".st-key-sl-run-cancel button:visible").first
    cancel.wait_for()
    page.locator(".st-key-sl-run-running:visible").filter(has_text=re.compile(r"elapsed")).first.wait_for()  # ETA
    cancel.click()
    page.get_by_text("Simulation cancelled").first.wait_for()
    wait_for_app(page)
    assert page.locator(".st-key-sl-results").filter(has_text="seed 12,").count() == 1
    assert page.locator(".st-key-sl-results").filter(has_text="seed 13,").count() == 0
    page.locator(".st-key-sl-stale-box").wait_for()  # the shown result is marked as for other inputs
    assert page.get_by_test_id("stException").count() == 0
