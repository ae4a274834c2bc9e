"""The code base is ruff-clean and keeps its layering (DESIGN.md)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_clean():
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "riskcore", "app", "pages", "tests", "bench"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-4000:]


def test_layering():
    st_import = re.compile(r"^\s*(import streamlit|from streamlit)", re.M)
    sql = re.compile(r"\.execute\(|duckdb\.connect|import duckdb", re.M)
    lib = [p for p in (ROOT / "riskcore").rglob("*.py") if st_import.search(p.read_text())]
    assert not lib, f"riskcore must not import streamlit: {lib}"
    ui = [p for d in ("app", "pages") for p in (ROOT / d).rglob("*.py") if sql.search(p.read_text())]
    assert not ui, f"SQL belongs in riskcore/store: {ui}"
    outside = [p for p in (ROOT / "riskcore").rglob("*.py")
               if "store" not in p.parts and re.search(r"import duckdb|duckdb\.connect", p.read_text())]
    assert not outside, f"only riskcore/store speaks to DuckDB: {outside}"


def test_no_pickle_loading():
    pattern = re.compile(r"pickle\.loads?\(|allow_pickle\s*=\s*True|torch\.load\((?![^)]*weights_only\s*=\s*True)")
    bad = [p for d in ("riskcore", "app", "pages") for p in (ROOT / d).rglob("*.py") if pattern.search(p.read_text())]
    assert not bad, f"no pickles loaded from disk: {bad}"
