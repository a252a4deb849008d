"""The house: layers import downwards only, no import circle, no oversized file.

Read from the source with ``ast`` (every ``import`` statement, also those inside
functions and under ``TYPE_CHECKING``), so that the architecture the README
describes stays true.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "normalcy"

#: bottom to top; a module may import its own layer or lower ones only
LAYERS: list[tuple[str, ...]] = [
    ("_version", "exceptions", "data", "metrics"),
    ("detector",),
    ("operator", "alarms"),
    ("io",),
    ("datasets",),
    ("baselines", "deep", "transfer"),
    ("service", "distributed"),
    ("bench",),
    ("cli",),
]
LAYER = {name: k for k, names in enumerate(LAYERS) for name in names}
MAX_LINES = 500


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    """The package's modules (``conftest.py`` collects doctests: test set-up, no layer)."""
    return {module_name(p): p for p in SRC.rglob("*.py") if p.name != "conftest.py"}


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    """The normalcy modules ``path`` imports (``from a import b`` counts as ``a.b``
    when that is a module)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known
                     else node.module for a in node.names]
        else:
            continue
        out |= {n for n in names if n == "normalcy" or n.startswith("normalcy.")}
    return out


def room(module: str) -> str:
    """The top-level part of ``normalcy`` a module belongs to ("" for the root)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def graph() -> dict[str, set[str]]:
    known = modules()
    return {m: imports(p, known) for m, p in known.items()}


def test_every_top_level_part_has_a_layer() -> None:
    rooms = {room(m) for m in modules()} - {""}
    assert rooms <= set(LAYER), f"give these a layer in LAYERS: {sorted(rooms - set(LAYER))}"


def test_imports_run_downwards_only() -> None:
    g = graph()
    # importing the root package means importing everything it re-exports
    root = max(LAYER[room(t)] for t in g["normalcy"] if room(t))
    wrong = []
    for src, targets in g.items():
        if room(src) == "":
            continue  # the root package: re-exports, checked below
        for t in targets:
            if (root if room(t) == "" else LAYER[room(t)]) > LAYER[room(src)]:
                wrong.append(f"{src} -> {t}")
    assert not wrong, "imports from a lower layer to a higher one:\n" + "\n".join(sorted(wrong))


def test_root_package_only_re_exports() -> None:
    tree = ast.parse((SRC / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        ok = isinstance(node, (ast.Import, ast.ImportFrom)) or (
            isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)) or (
            isinstance(node, ast.Assign) and [t.id for t in node.targets
                                              if isinstance(t, ast.Name)] == ["__all__"])
        assert ok, f"normalcy/__init__.py line {node.lineno} is more than a re-export"


def test_no_import_circle() -> None:
    g = graph()
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(g.get(m, ())):
            if t not in g:
                continue
            if state.get(t) == 1:
                cycle = stack[stack.index(t):] + [t]
                pytest.fail("import circle: " + " -> ".join(cycle))
            if t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(g):
        if m not in state and m != "normalcy":
            visit(m)


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: module_name(p))
def test_no_source_file_over_500_lines(path: Path) -> None:
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_LINES, f"{path.name} has {n} lines; split it by concept"
