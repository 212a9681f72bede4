"""Crash probes: SIGKILL a pyc command part-way, then do what a user does next.

Each probe kills one command at a few points (a fresh store per case), runs the ordinary
follow-up commands (`images`, `ps -a`, a re-pull, `run`, `rm -f`) and checks that nothing is
left behind (helpers.leftovers: processes, mounts, temp files, held locks, half records).
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Callable
from typing import Any

import pytest
from helpers import registry as reg
from helpers.leftovers import leftovers, mounts, processes, start_killed, temp_files
from helpers.runner import Pyc


def _registry_digest(registry: str, ref: str) -> str:
    _, repo, tag = reg.split_ref(ref)
    found = reg.manifest(registry, repo, tag)
    assert found is not None
    return found[0]


def _state(pyc: Pyc, name: str) -> dict[str, Any]:
    return dict(json.loads(pyc.ok("inspect", name).out)[0]["State"])


# -- pull ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("after", "group"), [(0.15, True), (0.6, True), (0.4, False)])
def test_pull_killed_midway_leaves_no_half_image(pyc: Pyc, fixture_refs: dict[str, str],
                                                 registry: str, after: float,
                                                 group: bool) -> None:
    ref = fixture_refs["debian"]
    # group=False: only pyc dies; its unpacker children must notice and clean up
    killed = start_killed(pyc, "pull", ref, after=after, group=group)
    assert processes(pyc, session=killed.pid) == [], "the killed pull left processes"
    listed = pyc.ok("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").lines
    if listed:  # the pull finished before the kill: then it must be whole
        assert listed == [f"{ref} {_image_id(pyc, ref)[7:19]}"]
    again = pyc.ok("pull", ref)
    assert again.lines[-1] == ref
    assert _inspect_image(pyc, ref)["Digest"] == _registry_digest(registry, ref)
    assert pyc.ok("run", "--rm", ref, "cat", "/etc/debian_version").out.startswith("12")
    assert leftovers(pyc, session=killed.pid) == []


def _inspect_image(pyc: Pyc, ref: str) -> dict[str, Any]:
    return dict(json.loads(pyc.ok("image", "inspect", ref).out)[0])


def _image_id(pyc: Pyc, ref: str) -> str:
    return str(_inspect_image(pyc, ref)["Id"])


# -- run -d ----------------------------------------------------------------------------------

@pytest.fixture
def bb(pyc: Pyc, fixture_refs: dict[str, str]) -> str:
    pyc.ok("pull", "-q", fixture_refs["busybox"])
    return fixture_refs["busybox"]


def _marked(marker: str) -> list[str]:
    # the shell stays (sleep is not its last command): its command line names the marker
    return ["sh", "-c", f"sleep 300; : {marker}"]


def _kill_point(pyc: Pyc, point: str) -> Callable[[], bool]:
    """When `run -d --name probe` has reached `point` (what it has written so far)."""
    data, run = pyc.root / "containers", pyc.runroot / "containers"
    checks: dict[str, Callable[[], bool]] = {
        "name": lambda: os.path.lexists(data / "names" / "probe"),
        "records": lambda: any(data.glob("*/config.json")),
        "starting": lambda: any(run.glob("*")),
        "supervised": lambda: any(run.glob("*/pid.json")),
    }
    return checks[point]


@pytest.mark.parametrize("point", ["name", "records", "starting", "supervised", "0.15s"])
def test_run_detached_killed_midstart_is_consistent_and_removable(
        pyc: Pyc, bb: str, point: str) -> None:
    marker = f"probe-{secrets.token_hex(6)}"
    timed = point[0].isdigit()
    when = None if timed else _kill_point(pyc, point)
    after = float(point[:-1]) if timed else 0.0
    killed = start_killed(pyc, "run", "-d", "--name", "probe", bb, *_marked(marker),
                          after=after, when=when)
    rows = pyc.ok("ps", "-a", "--format", "{{.Names}} {{.Status}}").lines
    assert len(rows) <= 1, rows
    if rows:
        assert rows[0].split()[0] == "probe"
        status = _state(pyc, "probe")["Status"]
        assert status in ("created", "exited", "running"), status
        pyc.ok("rm", "-f", "probe")
    else:
        pyc("rm", "-f", "probe")  # nothing to remove: either answer is fine
    assert pyc.ok("ps", "-aq").out == ""
    assert processes(pyc, session=killed.pid, marker=marker) == []
    assert mounts(pyc) == [] and temp_files(pyc) == []
    # the name is free again (a killed create's half directory is reclaimed with it)
    cid = pyc.ok("run", "-d", "--name", "probe", bb, *_marked(marker)).out.strip()
    assert _state(pyc, cid)["Status"] == "running"
    pyc.ok("rm", "-f", "probe")
    assert processes(pyc, marker=marker) == []
    assert leftovers(pyc) == []


def test_container_prune_removes_what_a_killed_create_left(pyc: Pyc, bb: str) -> None:
    names = pyc.root / "containers" / "names"
    killed = start_killed(pyc, "create", bb, "true", when=lambda: any(names.glob("*")))
    assert pyc.ok("ps", "-aq").out == ""
    pyc.ok("container", "prune", "-f")
    assert leftovers(pyc, session=killed.pid) == []


# -- rm -f -----------------------------------------------------------------------------------

def _cgroup_dirs(pyc: Pyc, cid: str) -> list[str]:
    state = json.loads((pyc.root / "containers" / cid / "state.json").read_text())
    return list((state.get("cgroup") or {}).get("dirs", {}).values())


@pytest.mark.parametrize("after", [0.03, 0.1])
def test_rm_force_killed_midway_is_finished_by_a_second_rm(
        pyc: Pyc, bb: str, after: float) -> None:
    marker = f"probe-{secrets.token_hex(6)}"
    cid = pyc.ok("run", "-d", "--name", "victim", "--memory", "64m", bb,
                 *_marked(marker)).out.strip()
    cgroups = _cgroup_dirs(pyc, cid)
    assert cgroups and all(os.path.isdir(d) for d in cgroups), cgroups
    killed = start_killed(pyc, "rm", "-f", "victim", after=after)
    res = pyc("rm", "-f", "victim")
    if res.rc != 0:  # the first rm got far enough that the container is gone
        assert "No such container" in res.err, res.err
    assert pyc.ok("ps", "-aq").out == ""
    assert processes(pyc, session=killed.pid, marker=marker) == []
    deadline = time.monotonic() + 5
    while any(os.path.exists(d) for d in cgroups) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [d for d in cgroups if os.path.exists(d)] == []
    assert leftovers(pyc, session=killed.pid) == []
    pyc.ok("run", "-d", "--name", "victim", bb, "true")
    pyc.ok("rm", "-f", "victim")
