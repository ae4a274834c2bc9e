"""App shell: navigation, sidebar, home page, and every page renders without an exception."""

from __future__ import annotations

from pathlib import Path

import pytest

from riskcore.store import Store

ROOT = Path(__file__).resolve().parents[2]
PAGE_STEMS = sorted(p.stem for p in (ROOT / "pages").glob("*.py"))
#: the title each page opens with (a page that renders nothing of its own fails on this)
PAGE_TITLES = {"agent_inspector": "Agent Inspector", "agent_training": "Agent Training", "calibration": "Calibration",
               "home": "riskcore workbench",
               "live_monitor": "Live Monitor", "scenario_lab": "Scenario Lab", "settings": "Settings",
               "stability_review": "Stability Review", "validation": "Validation", "var_lab": "VaR Lab"}


def test_home_lists_runs_and_datasets(app_test, tmp_db):
    import pandas as pd

    store = Store(tmp_db)
    store.save_run("peg_simulation", None, 1, {"x": 1}, name="committee baseline")
    store.save_dataset("usdc sample", pd.DataFrame({"price": [1.0] * 31},
                                                   index=pd.date_range("2024-01-01", periods=31)))
    at = app_test()
    assert not at.exception
    assert at.title[0].value == "riskcore workbench"
    assert {m.label: m.value for m in at.metric}["Runs"] == "1"
    frames = [df.value for df in at.dataframe]
    assert any("committee baseline" in set(f.get("name", [])) for f in frames)
    assert any("usdc sample" in set(f.get("name", [])) for f in frames)
    links = {e.proto.label for e in at.get("page_link")}
    assert {"Scenario Lab", "Calibration", "VaR Lab", "Agent Inspector"} <= links
    sidebar_text = " ".join(str(c.value) for c in at.sidebar.code)
    assert str(tmp_db) in sidebar_text


def test_main_lists_only_existing_pages():
    import ast

    tree = ast.parse((ROOT / "app" / "main.py").read_text())
    listed = next(n for n in ast.walk(tree) if isinstance(n, ast.AnnAssign) and getattr(n.target, "id", "") == "PAGES")
    files = {elt.elts[0].value for elt in listed.value.elts}
    assert {f"{s}.py" for s in PAGE_STEMS} <= files, "every file in pages/ must be in app/main.py's PAGES"


@pytest.mark.parametrize("stem", PAGE_STEMS)
def test_every_page_renders_without_exception(app_test, stem):
    at = app_test(stem, timeout=120)
    assert not at.exception, [e.value for e in at.exception]
    titles = [t.value for t in at.title]
    assert titles and titles[0] == PAGE_TITLES[stem], titles
