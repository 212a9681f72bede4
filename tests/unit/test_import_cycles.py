"""No import cycles among pycontainer's modules, counting the imports inside functions.

`test_layers.py` checks the direction of every import between areas; inside one area (`ops`,
`storage`, ...) a lazy import can still close a loop that only works because Python resolves
it at call time (`ops.lifecycle` <-> `ops.health` was one). Here every module is a node, every
`import` (module level or in a function; not under `if TYPE_CHECKING:`) an edge, and each
strongly connected component of more than one module is a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "pycontainer"

#: Cycles kept on purpose, each with its reason.
ALLOWED: list[set[str]] = []


def module_names(pkg: Path) -> dict[str, Path]:
    out = {}
    for path in pkg.rglob("*.py"):
        parts = list(path.relative_to(pkg.parent).with_suffix("").parts)
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _is_type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"))


def _imported(node: ast.AST, name: str, is_package: bool, mods: dict[str, Path]) -> set[str]:
    if isinstance(node, ast.Import):
        return {a.name for a in node.names}
    if not isinstance(node, ast.ImportFrom):
        return set()
    package = name.split(".") if is_package else name.split(".")[:-1]
    if node.level:
        base = package[: len(package) - node.level + 1]
        mod = ".".join(base + ([node.module] if node.module else []))
    else:
        mod = node.module or ""
    # `from pkg import sub` imports the submodule sub when there is one
    return {f"{mod}.{a.name}" if f"{mod}.{a.name}" in mods else mod for a in node.names}


def edges(name: str, path: Path, mods: dict[str, Path]) -> set[str]:
    found: set[str] = set()
    todo: list[ast.AST] = [ast.parse(path.read_text(), str(path))]
    while todo:
        node = todo.pop()
        for child in ast.iter_child_nodes(node):
            if _is_type_checking(child):
                continue  # annotations only: never executed
            found |= _imported(child, name, path.name == "__init__.py", mods)
            todo.append(child)
    return {m for m in found if m in mods and m != name}


def cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(component)
    return found


def import_graph(pkg: Path) -> dict[str, set[str]]:
    mods = module_names(pkg)
    return {name: edges(name, path, mods) for name, path in mods.items()}


def test_no_import_cycles_counting_lazy_imports() -> None:
    found = cycles(import_graph(PKG))
    unexpected = [sorted(c) for c in found if c not in ALLOWED]
    assert not unexpected, f"import cycles (function-level imports included): {unexpected}"


def test_the_allowed_cycles_still_exist() -> None:
    # an entry that no longer matches would excuse a different cycle later
    found = cycles(import_graph(PKG))
    assert all(c in found for c in ALLOWED), [sorted(c) for c in ALLOWED if c not in found]


def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root / "pycontainer"


def test_a_lazy_cycle_is_found(tmp_path: Path) -> None:
    pkg = _write(tmp_path, {
        "pycontainer/__init__.py": "",
        "pycontainer/ops/__init__.py": "",
        "pycontainer/ops/a.py": "from pycontainer.ops import b\n",
        "pycontainer/ops/b.py": "def f():\n    from pycontainer.ops.c import g\n",
        "pycontainer/ops/c.py": "def g():\n    from . import a\n",
        "pycontainer/ops/d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                "    from pycontainer.ops import a\n",
    })
    graph = import_graph(pkg)
    assert graph["pycontainer.ops.d"] == set()  # type-only imports are not edges
    assert cycles(graph) == [{"pycontainer.ops.a", "pycontainer.ops.b", "pycontainer.ops.c"}]
