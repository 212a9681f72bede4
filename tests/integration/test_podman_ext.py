"""Podman's CLI extensions (issue #12): each command line run by pyc and by rootless Podman
4.3 on the same local-registry image, exit status and shaped output compared
(`helpers.podman.same`: ids, sizes and ages masked).

One pyc and one podman state for the module (podman is slow to set up); each test starts by
removing every container, so the order of the tests does not matter.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import podman as pm
from helpers.runner import Pyc, Result

from .conftest import missing


@pytest.fixture(scope="module")
def engines(fixture_refs: dict[str, str], registry: str) -> Iterator[tuple[Pyc, pm.Podman]]:
    if not pm.available():
        missing("podman is not installed")
    base = Path(tempfile.mkdtemp(prefix="pyc-podext-"))
    pyc = Pyc.create(base / "pyc")
    podman = pm.Podman(base / "podman", registry)
    pyc.ok("pull", "-q", fixture_refs["busybox"])
    podman.ok("pull", "-q", fixture_refs["busybox"])
    yield pyc, podman
    pyc.cleanup()
    podman.cleanup()


@pytest.fixture
def both(engines: tuple[Pyc, pm.Podman]) -> tuple[Pyc, pm.Podman]:
    for engine in engines:
        engine("rm", "-af", timeout=60)
    return engines


def _same(both: tuple[Pyc, pm.Podman], *args: str, stderr: bool = False) -> Result:
    """Run the line with both; the same exit status and shaped stdout (and stderr)."""
    pyc, podman = both
    ours, theirs = pyc(*args), podman(*args)
    pm.same(ours, theirs)
    if stderr:
        assert ours.err == theirs.err, (ours, theirs)
    return ours


def test_all_and_filter_pick_what_each_verb_applies_to(
        both: tuple[Pyc, pm.Podman], fixture_refs: dict[str, str]) -> None:
    image = fixture_refs["busybox"]
    for engine in both:
        engine.ok("create", "--name", "a1", image, "sleep", "100")
        engine.ok("create", "--name", "a2", "--label", "x=1", image, "sleep", "100")
    _same(both, "start", "--filter", "label=x=1")  # a2 only
    _same(both, "start", "--all")  # a1: a2 runs already
    _same(both, "stop", "-a", "foo", stderr=True)  # 125, no arguments with --all
    _same(both, "stop", "--filter", "name=a1", "a1", stderr=True)
    _same(both, "stop", "-a", "-t", "0")  # both ids
    _same(both, "kill", "-a")  # none runs any more: nothing, exit 0
    _same(both, "restart", "-f", "label=x=1", "-t", "0")  # a2 id
    _same(both, "stop", "--filter", "label=x=1", "-t", "0")
    _same(both, "rm", "-a")  # both ids
    pyc, _ = both
    assert pyc.ok("ps", "-aq").out == ""


def test_ignore_makes_a_missing_object_no_error(both: tuple[Pyc, pm.Podman]) -> None:
    for line in (("rm", "-i", "nosuch"), ("stop", "-i", "nosuch"), ("rmi", "-i", "nosuch"),
                 ("rm", "--ignore", "nosuch", "nosuch2")):
        _same(both, *line, stderr=True)  # exit 0, nothing printed at all


def test_rm_time_needs_force_and_depend_removes_dependents(
        both: tuple[Pyc, pm.Podman], fixture_refs: dict[str, str]) -> None:
    image = fixture_refs["busybox"]
    for engine in both:
        engine.ok("run", "-d", "--name", "q1", image, "sleep", "100")
        engine.ok("create", "--name", "d1", image, "sleep", "100")
        engine.ok("create", "--name", "d2", "--network", "container:d1", image, "true")
    _same(both, "rm", "-t", "0", "q1", stderr=True)  # 125: --time wants --force
    _same(both, "rm", "-f", "-t", "0", "q1")  # "q1"
    pyc, podman = both
    d2 = pyc.ok("inspect", "-f", "{{.Id}}", "d2").out.strip()
    ours, theirs = pyc("rm", "--depend", "d1"), podman("rm", "--depend", "d1")
    pm.same(ours, theirs)  # the dependent's id, then d1's
    assert ours.lines[0] == d2
    assert pyc.ok("ps", "-aq").out == ""
