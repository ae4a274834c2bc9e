"""Names from the store are rendered as text on every page (issue 17, item 9).

A dataset named ``![x](http://host/pixel.png)`` made every visitor's browser fetch that
URL from ``st.caption`` / ``st.success``. Here the store is filled with hostile names
(datasets, runs, a saved scenario and its description, a stress report, a parameter set
and its note, a monitoring session and its feed), every page is visited with the choices
that show them, and every string the page sends to be rendered as Markdown is checked:
no link, image, autolink or HTML tag may come out of the hostile text.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from app.safety import md
from riskcore.monitor.feeds import ReplayFeed
from riskcore.monitor.routing import AlertRouter
from riskcore.monitor.session import MonitorSession
from riskcore.monitor.token import TokenMonitor
from riskcore.params import ModelParameters
from riskcore.peg.montecarlo import simulate
from riskcore.peg.report import stress_report
from riskcore.peg.scenarios import Scenario, save_scenario
from riskcore.store import Store

ROOT = Path(__file__).resolve().parents[2]

DATASET = "![ds](http://evil.test/ds.png)"
RUN = "[run](http://evil.test/run)"
SCENARIO = "<img src=http://evil.test/sc.png> ![sc](http://evil.test/sc2.png)"
DESCRIPTION = "![desc](http://evil.test/desc.png) <http://evil.test/auto> www.evil.test"
PARAM_SET = "![ps](http://evil.test/ps.png)"
NOTE = "[note](javascript:alert(1)) ![n](http://evil.test/n.png)"
SESSION = "![mon](http://evil.test/mon.png)"

# Fields of Streamlit's element protos whose text the browser renders as Markdown. Plain
# text (st.text, st.code, dataframes, chart specs, selectbox options, input values) is
# not checked: it cannot produce a link or an image.
MARKDOWN_FIELDS = {"body", "label", "help", "caption"}
PLAIN_MESSAGES = {"Text", "Code", "PlotlyChart", "Arrow", "ArrowNamedDataSet", "Json", "TextInput", "TextArea",
                  "DownloadButton", "Selectbox", "MultiSelect", "Exception"}
OPTION_MESSAGES = {"Radio", "ButtonGroup"}  # their options are Markdown too


def _markdown_strings(at) -> list[str]:
    out: list[str] = []

    def collect(msg, plain: bool = False) -> None:
        name = msg.DESCRIPTOR.name
        for field, value in msg.ListFields():
            if field.message_type is not None:
                for v in (value if field.is_repeated else [value]):
                    collect(v, plain or name in PLAIN_MESSAGES)
            elif field.type == field.TYPE_STRING:
                values = list(value) if field.is_repeated else [value]
                if field.name in MARKDOWN_FIELDS and not (plain or name in PLAIN_MESSAGES and field.name == "body"):
                    out.extend(values)
                elif field.name == "options" and name in OPTION_MESSAGES:
                    out.extend(values)

    def visit(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "ListFields"):
            collect(proto)
        for child in getattr(node, "children", {}).values():
            visit(child)

    visit(at._tree)
    return out


def _dangerous(text: str) -> bool:
    """Would Markdown make a link, image, autolink or HTML tag out of ``text``?"""
    bare = re.sub(r"\\.", "", text)  # drop escaped characters: they are literal
    return any(tok in bare for tok in ("](", "<", "://", "www."))


@pytest.fixture
def hostile_store(tmp_db: Path) -> Store:
    store = Store(tmp_db)
    frame = pd.DataFrame({"price": 1.0 + 0.01 * np.sin(np.arange(120) / 5)},
                         index=pd.date_range("2023-01-01", periods=120))
    store.save_dataset(DATASET, frame, source_name=f"{DATASET}.csv")
    scenario = Scenario(name=SCENARIO, description=DESCRIPTION, shocks={5: -0.2})
    save_scenario(store, scenario)
    sim = simulate(ModelParameters(), 500, n_steps=40, seed=1, backend="numpy", scenario=scenario, keep_paths=5)
    sim.save(store, name=RUN)
    stress_report(ModelParameters(), n_paths=300, n_steps=40, seed=1, backend="numpy",
                  scenarios=[scenario]).save(store, name=RUN)
    store.save_param_set(PARAM_SET, ModelParameters(), note=NOTE)
    series = pd.Series(np.r_[np.ones(40), np.full(20, 0.8)], index=pd.date_range("2024-01-01", periods=60))
    sess = MonitorSession(ReplayFeed(series, name=DATASET), TokenMonitor(ensemble=False), AlertRouter({}), store)
    sess.run(60)
    sess.save(SESSION)
    return store


VISITS = {
    "home": ({}, []),
    # the stress-report view lists and loads the saved report (views are a segmented control)
    "scenario_lab": ({"sl-n-paths": 1_000, "sl-n-steps": 30, "sl-scenario": SCENARIO, "sl-view": "Stress report"},
                     ["sl-report-load"]),
    "calibration": ({"calibration-source": "Stored dataset"}, ["calib-load-ps"]),
    "var_lab": ({"var-kind": "Simulated run"}, []),
    "agent_inspector": ({}, []),
    "live_monitor": ({"lm_market": "Replay a dataset", "lm_data-source": "Stored dataset"}, []),
    "stability_review": ({"sr_source": "Saved monitoring session", "sr_ensemble": False}, []),
    "settings": ({}, []),
}


@pytest.mark.parametrize("page", sorted(VISITS))
def test_no_markdown_link_or_image_from_a_stored_name(page, hostile_store, app_test):
    state, buttons = VISITS[page]
    at = app_test(page, timeout=180, session_state=state)
    for key in buttons:
        at.button(key=key).click().run()
    assert not at.exception, [e.value for e in at.exception]
    shown = _markdown_strings(at)
    hostile = [s for s in shown if "evil" in s]
    bad = [s for s in hostile if _dangerous(s)]
    assert not bad, bad


def test_the_hostile_names_do_reach_the_pages(hostile_store, app_test):
    # the check above is only meaningful if the names are shown: they are, escaped
    at = app_test("scenario_lab", timeout=180,
                  session_state={k: v for k, v in VISITS["scenario_lab"][0].items() if k != "sl-view"})
    shown = " ".join(_markdown_strings(at))
    assert md(SCENARIO) in shown and md(DESCRIPTION) in shown
    at = app_test("calibration", timeout=180, session_state=VISITS["calibration"][0])
    assert md(DATASET) in " ".join(_markdown_strings(at))


@pytest.mark.parametrize("name", [DATASET, RUN, SCENARIO, DESCRIPTION, NOTE, "a\n# heading\n![i](http://evil.test/i)",
                                  "\\![x](http://evil.test/x)", "`![x](http://evil.test/x)`", ":red[x](http://evil.test)"])
def test_md_leaves_nothing_dangerous(name):
    assert _dangerous(name) and not _dangerous(md(name))
    assert "\n" not in md(name)
