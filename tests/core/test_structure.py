"""The package's structure: no import cycles (type-only and function-level imports included),
and the engine never imports pytest (only the pytest layer does)."""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest_dso

PACKAGE = Path(pytest_dso.__file__).parent
#: The pytest layer: the only modules that may import pytest (see docs/architecture.md).
PYTEST_LAYER = ("pytest_dso.plugin", "pytest_dso.hookspecs", "pytest_dso.verdict",
                "pytest_dso.fixtures")


@dataclass(frozen=True)
class ImportEdge:
    """``source`` imports ``target`` at ``line``."""

    source: str
    target: str
    line: int


def module_name(path: Path, root: Path = PACKAGE) -> str:
    """``pytest_dso/sim/server.py`` → ``pytest_dso.sim.server`` (a package is its __init__)."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package by dotted name."""
    return {module_name(p, root): p for p in sorted(root.rglob("*.py"))}


def import_statements(root: Path = PACKAGE) -> dict[str, list[ast.Import | ast.ImportFrom]]:
    """Every import statement of each module by dotted name, wherever it stands in the file:
    module level, ``if TYPE_CHECKING:`` blocks and inside functions alike (each file is
    parsed once; only the statements are kept)."""
    return _import_statements(root)


@functools.cache
def _import_statements(root: Path) -> dict[str, list[ast.Import | ast.ImportFrom]]:
    return {
        name: [node for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path)))
               if isinstance(node, ast.Import | ast.ImportFrom)]
        for name, path in modules(root).items()
    }


def _imported(node: ast.Import | ast.ImportFrom, source: str, is_package: bool,
              known: Mapping[str, Path]) -> Iterator[str]:
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
        return
    base = node.module or ""
    if node.level:
        anchor = source.split(".")
        if not is_package:
            anchor = anchor[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)] if node.level > 1 else anchor
        base = ".".join([*anchor, base]) if base else ".".join(anchor)
    for alias in node.names:
        child = f"{base}.{alias.name}"
        yield child if child in known else base


def import_edges(root: Path = PACKAGE) -> list[ImportEdge]:
    """Every import of another module of the package, wherever it stands in the file:
    module level, ``if TYPE_CHECKING:`` blocks and inside functions alike."""
    known = modules(root)
    edges: list[ImportEdge] = []
    for name, statements in import_statements(root).items():
        path = known[name]
        for node in statements:
            for target in _imported(node, name, path.name == "__init__.py", known):
                while target and target not in known:
                    target = target.rpartition(".")[0]
                if target and target != name and target.startswith(root.name):
                    edges.append(ImportEdge(name, target, node.lineno))
    return edges


def cycles(edges: list[ImportEdge]) -> list[list[ImportEdge]]:
    """One concrete cycle per strongly connected component of the import graph."""
    graph: dict[str, dict[str, ImportEdge]] = {}
    for edge in edges:
        graph.setdefault(edge.source, {}).setdefault(edge.target, edge)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(start: str) -> None:
        # Iterative Tarjan: a frame is (node, iterator over its successors).
        work: list[tuple[str, Iterator[str]]] = [(start, iter(graph.get(start, {})))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(graph.get(succ, {}))))
                    advanced = True
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_one_cycle(graph, component) for component in components]


def _one_cycle(graph: dict[str, dict[str, ImportEdge]], component: set[str]) -> list[ImportEdge]:
    """A shortest cycle through the component's smallest module (breadth-first)."""
    start = min(component)
    previous: dict[str, ImportEdge] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for succ, edge in sorted(graph.get(node, {}).items()):
                if succ not in component:
                    continue
                if succ == start:
                    path = [edge]
                    while path[0].source != start:
                        path.insert(0, previous[path[0].source])
                    return path
                if succ not in previous:
                    previous[succ] = edge
                    following.append(succ)
        frontier = following
    raise AssertionError(f"no cycle through {start}")  # a component always has one


def _describe(cycle: list[ImportEdge]) -> str:
    return " → ".join(f"{e.source} (line {e.line})" for e in cycle) + f" → {cycle[0].source}"


def _engine(name: str) -> bool:
    return not any(name == p or name.startswith(p + ".") for p in PYTEST_LAYER)


# -- the checker itself ------------------------------------------------------------------------


def _package(tmp_path: Path, files: Mapping[str, str]) -> Path:
    root = tmp_path / "pkg"
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_a_type_only_cycle_is_found_and_named(tmp_path: Path) -> None:
    root = _package(tmp_path, {
        "__init__.py": "",
        "a.py": "from pkg.b import thing\n",
        "sub/__init__.py": "",
        "b.py": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                 "    from pkg import a\nthing = 1\n"),
        "c.py": "def late():\n    from .sub import d\n",
        "sub/d.py": "from ..c import late\n",
        "leaf.py": "import pkg.a\n",
    })
    found = cycles(import_edges(root))
    assert sorted(_describe(c) for c in found) == [
        "pkg.a (line 1) → pkg.b (line 3) → pkg.a",
        "pkg.c (line 2) → pkg.sub.d (line 1) → pkg.c",
    ]


def test_an_acyclic_package_passes(tmp_path: Path) -> None:
    root = _package(tmp_path, {"__init__.py": "", "a.py": "import pkg.b\n", "b.py": "import os\n"})
    assert [(e.source, e.target) for e in import_edges(root)] == [("pkg.a", "pkg.b")]
    assert cycles(import_edges(root)) == []


# -- pytest_dso -------------------------------------------------------------------------------


def test_no_import_cycles() -> None:
    found = cycles(import_edges())
    assert not found, "import cycles:\n" + "\n".join(_describe(c) for c in found)


def test_the_engine_does_not_import_pytest() -> None:
    offenders = []
    for name, statements in import_statements().items():
        if not _engine(name):
            continue
        for node in statements:
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                roots = [(node.module or "").split(".")[0]]
            else:
                continue
            if {"pytest", "_pytest"} & set(roots):
                offenders.append(f"{name} (line {node.lineno})")
    assert not offenders, "engine modules importing pytest: " + ", ".join(offenders)
