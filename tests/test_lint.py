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


def _lazy_table(value: object) -> dict[str, str]:
    """``name -> module`` of a package's ``_LAZY = lazy_table({module: "names ..."})`` (read, not run)."""
    import ast

    assert isinstance(value, ast.Call) and getattr(value.func, "id", "") == "lazy_table", ast.dump(value)
    by_module = ast.literal_eval(value.args[0])
    return {name: module for module, names in by_module.items() for name in names.split()}


def _riskcore_imports() -> dict[str, set[str]]:
    """Module -> the riskcore modules it imports, from the source (``ast``), at any depth.

    Every ``import`` counts: module level, inside functions and under ``if TYPE_CHECKING`` alike,
    because a function-level import only defers a cycle to run time, it does not remove it.
    ``from riskcore.a import b`` names module ``riskcore.a.b`` when that is a module, else the module
    that package ``riskcore.a`` exports ``b`` from lazily (its ``_LAZY`` table, :mod:`riskcore._lazy`),
    else ``riskcore.a``; an import of a package counts as an import of its ``__init__``.
    """
    import ast

    modules: dict[str, Path] = {}
    lazy: dict[str, dict[str, str]] = {}     # package -> its lazy export table
    for p in (ROOT / "riskcore").rglob("*.py"):
        parts = list(p.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
            for node in ast.parse(p.read_text()).body:
                target = node.target if isinstance(node, ast.AnnAssign) else (
                    node.targets[0] if isinstance(node, ast.Assign) else None)
                if isinstance(target, ast.Name) and target.id == "_LAZY":
                    lazy[".".join(parts)] = _lazy_table(node.value)
        modules[".".join(parts)] = p

    def owner(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    def source(package: str, name: str) -> str | None:
        full = f"{package}.{name}"
        return owner(full) if full in modules else owner(lazy.get(package, {}).get(name, package))

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        deps: set[str | None] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                deps.update(owner(a.name) for a in node.names if a.name.split(".")[0] == "riskcore")
            elif (isinstance(node, ast.ImportFrom) and node.level == 0
                  and (node.module or "").split(".")[0] == "riskcore"):
                deps.update(source(node.module, a.name) for a in node.names)
        graph[name] = {d for d in deps if d is not None and d != name}
    return graph


def test_import_graph_has_no_cycle():
    """The riskcore import graph (every import, see :func:`_riskcore_imports`) is acyclic."""
    graph = _riskcore_imports()
    state: dict[str, int] = {}   # 1: on the current path, 2: done
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for d in sorted(graph.get(m, ())):
            if state.get(d) == 1:
                return path[path.index(d):] + [d]
            if d not in state and (cycle := visit(d)):
                return cycle
        path.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (cycle := visit(m)):
            raise AssertionError("import cycle: " + " -> ".join(cycle))


def test_import_graph_sees_cycles():
    """The graph reader finds the imports the cycle test relies on (a function-level one included)."""
    graph = _riskcore_imports()
    assert "riskcore.monitor.levels" in graph["riskcore.monitor.alerts"]
    assert "riskcore.var.measures" in graph["riskcore.var.rolling"]    # ``from riskcore.var import measures``
    assert "riskcore.peg.report" in graph["riskcore.plots.peg"]          # under ``if TYPE_CHECKING``
    assert "riskcore.peg.scenarios" in graph["riskcore.monitor.feeds"]  # function-level


def test_models_never_import_presentation():
    """No module of the model packages imports :mod:`riskcore.plots` or :mod:`riskcore.reports`,
    at any depth (a function-level import included): presentation sits above the models."""
    models = ("peg", "var", "portfolio", "agents", "monitor", "store", "validation")
    bad = {m: sorted(d for d in deps if d.split(".")[1] in ("plots", "reports"))
           for m, deps in _riskcore_imports().items() if m.split(".")[1:2] and m.split(".")[1] in models}
    bad = {m: d for m, d in bad.items() if d}
    assert not bad, f"models import presentation: {bad}"


def test_lazy_exports_never_share_a_submodule_name():
    """A lazily exported name equal to a submodule's would be replaced by the submodule once that is imported."""
    import ast

    clashes = {}
    for init in (ROOT / "riskcore").rglob("__init__.py"):
        subs = {p.stem for p in init.parent.glob("*.py")} | {p.name for p in init.parent.iterdir() if p.is_dir()}
        for node in ast.parse(init.read_text()).body:
            target = node.target if isinstance(node, ast.AnnAssign) else (
                node.targets[0] if isinstance(node, ast.Assign) else None)
            if isinstance(target, ast.Name) and target.id == "_LAZY":
                if both := sorted(set(_lazy_table(node.value)) & subs):
                    clashes[str(init.relative_to(ROOT))] = both
    assert not clashes, clashes
