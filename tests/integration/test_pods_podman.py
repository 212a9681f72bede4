"""pyc's pods next to rootless Podman's (4.3 on the test host): the same command lines, the
same exit statuses, `pod ps`'s header and columns, `pod inspect`'s main keys and values, and
Podman's refusals of options a pod decides."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import podman as pm
from helpers.runner import Pyc

from .conftest import missing

KEYS = ("Id", "Name", "Created", "State", "Hostname", "Labels", "CreateInfra",
        "InfraContainerID", "SharedNamespaces", "NumContainers", "Containers")


@pytest.fixture(scope="module")
def engines(fixture_refs: dict[str, str], registry: str) -> Iterator[tuple[Pyc, pm.Podman]]:
    if not pm.available():
        missing("podman is not installed")
    base = Path(tempfile.mkdtemp(prefix="pyc-podpods-"))
    pyc = Pyc.create(base / "pyc")
    podman = pm.Podman(base / "podman", registry)
    pyc.ok("pull", "-q", fixture_refs["busybox"])
    podman.ok("pull", "-q", fixture_refs["busybox"])
    yield pyc, podman
    pyc("pod", "rm", "-af")
    podman("pod", "rm", "-af", "-t", "0")
    pyc.cleanup()
    podman.cleanup()


def _inspect(engine: Pyc | pm.Podman, pod: str) -> dict[str, object]:
    data = json.loads(engine.ok("pod", "inspect", pod).out)
    return dict(data[0] if isinstance(data, list) else data)  # Podman 4.3: one object


def test_pod_like_podman(engines: tuple[Pyc, pm.Podman], fixture_refs: dict[str, str]
                         ) -> None:
    image = fixture_refs["busybox"]
    for engine in engines:
        engine.ok("pod", "create", "--name", "cmp", "--label", "k=v", "--hostname", "hn")
        engine.ok("run", "-d", "--name", "cmp-a", "--pod", "cmp", image, "sleep", "300")
    (pyc, podman) = engines
    ours, theirs = _inspect(pyc, "cmp"), _inspect(podman, "cmp")
    for key in KEYS:
        assert key in ours, key
        assert key in theirs, key
    for key in ("Name", "State", "Hostname", "Labels", "CreateInfra", "NumContainers"):
        assert ours[key] == theirs[key], (key, ours[key], theirs[key])
    assert sorted(ours["SharedNamespaces"]) == sorted(  # type: ignore[arg-type]
        set(theirs["SharedNamespaces"]) & {"net", "ipc", "uts"})  # type: ignore[arg-type]
    assert sorted(c["State"] for c in ours["Containers"]) == sorted(  # type: ignore[attr-defined]
        c["State"] for c in theirs["Containers"])  # type: ignore[attr-defined]
    head_ours = pyc.ok("pod", "ps").out.splitlines()[0].split()
    head_theirs = podman.ok("pod", "ps").out.splitlines()[0].split()
    assert head_ours == head_theirs
    row_ours = pyc.ok("pod", "ps", "--format", "{{.Name}} {{.Status}} {{.NumberOfContainers}}")
    row_theirs = podman.ok("pod", "ps", "--format",
                           "{{.Name}} {{.Status}} {{.NumberOfContainers}}")
    assert row_ours.out == row_theirs.out == "cmp Running 2\n"
    for engine in engines:
        assert engine("pod", "exists", "cmp").rc == 0
        assert engine("pod", "exists", "nope").rc == 1
        res = engine("run", "--rm", "--pod", "cmp", "-p", "8999:80", image, "true")
        assert res.rc == 125
        assert "published or exposed ports must be defined when the pod is created" in res.err
        res = engine("run", "--rm", "--pod", "cmp", "--hostname", "x", image, "true")
        assert res.rc == 125 and "hostname" in res.err
        assert engine.ok("exec", "cmp-a", "hostname").out == "hn\n"
        engine.ok("pod", "stop", "-t", "0", "cmp")
    st_ours = pyc.ok("pod", "ps", "--format", "{{.Status}}").out
    assert st_ours == podman.ok("pod", "ps", "--format", "{{.Status}}").out == "Exited\n"
    for engine in engines:
        engine.ok("pod", "rm", "cmp")
        assert engine.ok("pod", "ps", "-q").out == ""
        assert engine.ok("ps", "-aq").out == ""
