"""No import cycles between the modules of ``reserve``, none hidden by an import inside a
function, and every module importable on its own (first, in a fresh interpreter)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "reserve"

# Files allowed to import a reserve module inside a function, each for a reason. Every entry
# must still need it (test_the_allowlists_are_not_stale).
LOCAL_IMPORTS_ALLOWED = {
    "reserve/__init__.py": "the factory: the package root runs before any reserve.* module, so it "
    "imports the parts it assembles when create_app runs; importing a model must not import "
    "the CLI, the API and every blueprint",
    "reserve/cli.py": "commands import what they run when they run (the demo loader pulls in "
    "every feature's services; the web process never needs it)",
    "reserve/demo/__init__.py": "the demo loader: each loading step imports the feature it fills",
    "reserve/demo/stock.py": "the demo loader: each loading step imports the document service it "
    "drives",
}

# Module cycles allowed at the top level, each for a reason.
CYCLES_ALLOWED = {
    frozenset({"reserve.api", "reserve.api.core"}): "the API package imports its own core routes "
    "at its end, after route() and schema() exist; core imports them from the package",
}


def _modules() -> dict[str, Path]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.is_relative_to(PACKAGE / "migrations"):  # alembic's scripts, run by alembic
            continue
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


MODULES = _modules()


def _target(name: str) -> str | None:
    """The reserve module an import names (``from reserve.x import y`` may name module y)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(path: Path) -> list[tuple[ast.stmt, bool, set[str]]]:
    """Each import statement naming reserve modules: (node, at module level?, targets)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    in_function = {
        id(inner)
        for outer in ast.walk(tree)
        if isinstance(outer, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        for inner in ast.walk(outer)
        if inner is not outer
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        targets = {_target(n) for n in names if n == "reserve" or n.startswith("reserve.")}
        targets.discard(None)
        if targets:
            found.append((node, id(node) not in in_function, targets))
    return found


def _graph(include_local: bool) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        for _node, at_top, targets in _imports(path):
            if at_top or include_local:
                graph[name] |= targets - {name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_function_level_import_of_reserve_outside_the_allowlist():
    offenders = []
    for path in MODULES.values():
        rel = path.relative_to(ROOT).as_posix()
        if rel in LOCAL_IMPORTS_ALLOWED:
            continue
        for node, at_top, _targets in _imports(path):
            if not at_top:
                offenders.append(f"{rel}:{node.lineno}: {ast.unparse(node)}")
    assert offenders == [], "move these imports to the top of the module (or the helper to " + (
        "where its rule lives):\n" + "\n".join(offenders)
    )


def test_no_module_cycle_even_counting_function_level_imports():
    """A local import that would be a cycle at the top is a cycle all the same."""
    cycles = [c for c in _cycles(_graph(include_local=True)) if c not in CYCLES_ALLOWED]
    assert cycles == [], [sorted(c) for c in cycles]


def test_the_allowlists_are_not_stale():
    for rel in LOCAL_IMPORTS_ALLOWED:
        path = ROOT / rel
        assert path.exists(), f"{rel} is gone: remove it from LOCAL_IMPORTS_ALLOWED"
        assert any(not top for _n, top, _t in _imports(path)), (
            f"{rel} has no function-level import of reserve any more: remove it from "
            "LOCAL_IMPORTS_ALLOWED"
        )
    cycles = set(_cycles(_graph(include_local=False)))
    for cycle in CYCLES_ALLOWED:
        assert cycle in cycles, f"{sorted(cycle)} is no longer a cycle: remove it from the list"


def test_the_scan_sees_a_hidden_cycle(tmp_path):
    source = "import os\n\ndef f():\n    from reserve.db import local_today\n    import reserve.x\n"
    path = tmp_path / "m.py"
    path.write_text(source)
    found = _imports(path)
    assert [(node.lineno, at_top) for node, at_top, _ in found] == [(4, False), (5, False)]
    assert found[0][2] == {"reserve.db"}
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset({"a", "b", "c"})]


# Each module imported first, with no other reserve module loaded: a forked child of one
# interpreter that has imported the third-party libraries (the slow part) but nothing of
# reserve, so each child is a fresh interpreter as far as reserve is concerned.
_ISOLATED = r"""
import ast, importlib, os, sys, traceback
from pathlib import Path

root = Path(sys.argv[1])
modules = sys.argv[2:]
for path in (root / "reserve").rglob("*.py"):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            if name.split(".")[0] not in ("reserve", "config", "tests"):
                try:
                    importlib.import_module(name)
                except Exception:
                    pass
assert not [m for m in sys.modules if m == "reserve" or m.startswith("reserve.")]
failed = []
for module in modules:
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(module)
        except BaseException:
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if status != 0:
        failed.append(module)
print("FAILED:" + ",".join(failed))
sys.exit(1 if failed else 0)
"""


def test_every_module_imports_on_its_own():
    result = subprocess.run(
        [sys.executable, "-c", _ISOLATED, str(ROOT), *sorted(MODULES)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-6000:]
    assert result.stdout.strip().endswith("FAILED:")
