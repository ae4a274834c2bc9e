"""riskcore workbench: Streamlit entry point (``make run``).

Thin by design: page config, navigation over the files in ``pages/`` and a sidebar
with the store's path and counts. Pages lay out results; the maths is in riskcore.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # so pages can `import app.widgets` however streamlit was started
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from app.safety import store_guard  # noqa: E402
from app.widgets import get_store, show_error  # noqa: E402

__import__("app.warmup", fromlist=["start"]).start()  # background warm-up, once per server process

#: (file in pages/, title, icon, section). Pages whose file is absent are skipped.
PAGES: list[tuple[str, str, str, str]] = [
    ("home.py", "Home", ":material/home:", "Workbench"),
    ("scenario_lab.py", "Scenario Lab", ":material/science:", "Stable token"),
    ("calibration.py", "Calibration", ":material/tune:", "Stable token"),
    ("var_lab.py", "VaR Lab", ":material/trending_down:", "Market risk"),
    ("agent_inspector.py", "Agent Inspector", ":material/smart_toy:", "Portfolio"),
    ("agent_training.py", "Agent Training", ":material/model_training:", "Portfolio"),
    ("live_monitor.py", "Live Monitor", ":material/monitor_heart:", "Monitoring"),
    ("stability_review.py", "Stability Review", ":material/fact_check:", "Monitoring"),
    ("validation.py", "Validation", ":material/verified:", "Workbench"),
    ("settings.py", "Settings", ":material/settings:", "Workbench"),
]


#: extra URL paths that serve a page without a second menu entry: (alias, file in pages/, title)
ALIASES: tuple[tuple[str, str, str], ...] = (("home", "home.py", "Home"),)


def build_navigation() -> dict[str, list[st.Page]]:
    """Sections of pages for ``st.navigation``.

    The first page is the default and is served at ``/``. Streamlit reserves a default page's own
    url path without serving it, so ``/home`` used to answer "Page not found": each of
    :data:`ALIASES` is a hidden page (no menu entry) on the same script, served at its alias.
    """
    sections: dict[str, list[st.Page]] = {}
    for i, (file, title, icon, section) in enumerate(PAGES):
        path = ROOT / "pages" / file
        if path.exists():
            default = i == 0
            sections.setdefault(section, []).append(
                st.Page(path, title=title, icon=icon, url_path="" if default else path.stem, default=default))
    for alias, file, title in ALIASES:
        path = ROOT / "pages" / file
        if path.exists() and sections:
            next(iter(sections.values())).append(
                st.Page(path, title=title, url_path=alias, visibility="hidden"))
    return sections


def sidebar() -> None:
    with st.sidebar:
        st.caption("Store")
        try:
            store = get_store()
            st.code(str(store.path), language=None)
            counts = store.counts()
            st.caption(" · ".join(f"{k.replace('_', ' ')}: {v}" for k, v in counts.items()))
        except Exception as exc:  # the app must still render if the file is unusable
            show_error(exc)


st.set_page_config(page_title="riskcore workbench", page_icon=":material/shield:", layout="wide")
nav = st.navigation(build_navigation())
sidebar()
with store_guard():  # a busy, damaged or read-only store file: an st.error saying what to do, never a traceback
    nav.run()
