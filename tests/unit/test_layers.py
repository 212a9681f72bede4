"""The import rule of docs/architecture.md: CLI -> ops -> components -> linux helpers -> base.

Every module's imports (including those inside functions) are read with `ast` and checked
against the table, so a change that reaches across layers fails here, not in review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "pycontainer"

BASE = {"errors", "paths", "config", "oci", "selfexec", "dccache", "binaries", "formats",
        "eventlog", "jsontypes", "__init__"}
COMPONENTS = {"images", "registry", "storage", "containers", "runtime", "supervisor", "network",
              "build", "volumes", "compose", "kube", "pods"}
# Component -> the sibling components it may use (the seams named in the architecture doc).
SIBLINGS = {
    "images": {"registry"},
    "supervisor": {"runtime"},
    "runtime": {"storage"},
}


def allowed(src: str, dst: str) -> bool:
    if src == dst or dst == "__init__":
        return True
    if src == "errors":
        return False
    if src == "formats":  # Docker's and Go's formats: pure text, errors only
        return dst == "errors"
    if src in BASE:
        return dst in BASE
    if src == "linux":
        # the one helper-program lookup (binaries) is shared by every layer
        return dst in ("errors", "binaries")
    if src in COMPONENTS:
        return dst in BASE or dst == "linux" or dst in SIBLINGS.get(src, set())
    if src == "ops":
        return dst not in ("cli", "api")
    if src == "api":  # the Engine API: a front end beside the CLI
        return dst in BASE or dst == "ops"
    if src == "cli":  # `pyc system service` starts the API front end
        return dst in BASE or dst in ("ops", "api")
    if src == "__main__":
        return dst == "cli"
    raise AssertionError(f"module area {src!r} is not in the layer table")


def top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports_of(path: Path) -> set[str]:
    rel = path.relative_to(PKG.parent).with_suffix("")
    package = list(rel.parts[:-1]) if rel.name != "__init__" else list(rel.parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("pycontainer"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod == "pycontainer":  # `from pycontainer import x` names the submodule x
                found.update(f"pycontainer.{a.name}" if a.name != "__version__"
                             else "pycontainer" for a in node.names)
            elif mod.startswith("pycontainer"):
                found.add(mod)
    return found


MODULES = sorted(p for p in PKG.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PKG)))
def test_imports_follow_the_layer_table(path: Path) -> None:
    src = top("pycontainer." + ".".join(path.relative_to(PKG).with_suffix("").parts))
    bad = sorted(m for m in imports_of(path) if not allowed(src, top(m)))
    assert not bad, f"{path.relative_to(PKG)} ({src}) may not import {bad}"


THIRD_PARTY_HOMES = {"typer": "cli", "platformdirs": "paths", "pyroute2": "network",
                     "h11": "api", "yaml": ("compose", "kube")}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PKG)))
def test_third_party_imports_stay_at_the_edge(path: Path) -> None:
    area = path.relative_to(PKG).parts[0].removesuffix(".py")
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name.split(".")[0] for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [node.module.split(".")[0]]
        for name in names:
            home = THIRD_PARTY_HOMES.get(name)
            homes = (home,) if isinstance(home, str) else home
            assert home is None or area in homes, f"{name} imported in {path} (only in {home})"


def test_the_rule_rejects_an_upward_import() -> None:
    assert not allowed("linux", "ops")
    assert not allowed("images", "ops")
    assert not allowed("cli", "images")
    assert allowed("ops", "images")
