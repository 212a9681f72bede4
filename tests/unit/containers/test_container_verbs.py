"""(state, operation) -> allowed / refused, against Docker's rules, through the real ops.

The table below is written out from Docker's behaviour (the daemon's start, stop, kill,
pause, unpause, rm and exec): each row is a container in one state, one verb, and what Docker
does: "go" (the verb acts), "noop" (it succeeds without acting: `start` of a running
container, `stop` of a stopped one) or the Conflict it refuses with, word for word.

Each operation runs the real `pycontainer.ops` function on a record in a temporary store; the
first thing it would do to the host (make a cgroup, send a signal, freeze, read the bundle,
wait for the supervisor) is replaced by raising `Acted`, so "go" means the checks let the
verb through. Active containers name this test process as their supervisor, so the store's
sync keeps their state as written. No process is started or signalled.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from pycontainer import paths as paths_mod
from pycontainer.containers.lifecycle import Status
from pycontainer.containers.model import ContainerConfig, ContainerState
from pycontainer.containers.store import ContainerStore
from pycontainer.errors import Conflict
from pycontainer.linux import proc
from pycontainer.oci.convert import ContainerSpec
from pycontainer.ops import exec as ops_exec
from pycontainer.ops import lifecycle as ops_lifecycle
from pycontainer.ops import limits, update

CID = "c0ffee" + "0" * 58
NAME = "web"
GO, NOOP = "go", "noop"

# Docker's (20.10 daemon) messages; {cid} is the full id, {ref} what the user typed
RUNNING_RM = ("You cannot remove a running container {cid}. Stop the container before "
              "attempting removal or force remove")
PAUSED_RM = ("You cannot remove a paused container {cid}. Unpause and then stop the container "
             "before attempting removal or force remove")
RESTARTING_RM = ("You cannot remove a restarting container {cid}. Stop the container before "
                 "attempting removal or force remove")
NOT_RUNNING = "Container {cid} is not running"
KILL_NOT_RUNNING = "Cannot kill container: {ref}: Container {cid} is not running"

#: (state, verb) -> what Docker does. "created" never ran; "restarting" waits for its
#: restart policy's next start; "stopping" has had its stop signal (Docker: still running).
TABLE: dict[tuple[str, str], str] = {
    ("created", "start"): GO, ("exited", "start"): GO,
    ("running", "start"): NOOP, ("stopping", "start"): NOOP,
    ("paused", "start"): "cannot start a paused container, try unpause instead",

    ("created", "stop"): NOOP, ("exited", "stop"): NOOP, ("restarting", "stop"): NOOP,
    ("running", "stop"): GO, ("paused", "stop"): GO, ("stopping", "stop"): GO,

    ("created", "kill"): KILL_NOT_RUNNING, ("exited", "kill"): KILL_NOT_RUNNING,
    ("running", "kill"): GO, ("paused", "kill"): GO, ("stopping", "kill"): GO,
    ("restarting", "kill"): NOOP,  # the pending restart is cancelled, nothing signalled

    ("running", "pause"): GO,
    ("paused", "pause"): "Container {cid} is already paused",
    ("created", "pause"): NOT_RUNNING, ("exited", "pause"): NOT_RUNNING,
    ("restarting", "pause"): "Container {cid} is restarting, wait until the container is "
                             "running",

    ("paused", "unpause"): GO,
    ("running", "unpause"): "Container {cid} is not paused",
    ("created", "unpause"): "Container {cid} is not paused",
    ("exited", "unpause"): "Container {cid} is not paused",

    ("created", "rm"): GO, ("exited", "rm"): GO,
    ("running", "rm"): RUNNING_RM, ("stopping", "rm"): RUNNING_RM,
    ("paused", "rm"): PAUSED_RM, ("restarting", "rm"): RESTARTING_RM,
    ("running", "rm -f"): GO, ("paused", "rm -f"): GO, ("restarting", "rm -f"): GO,
    ("exited", "rm -f"): GO,

    ("running", "exec"): GO,
    ("paused", "exec"): "Container {cid} is paused, unpause the container before exec",
    ("created", "exec"): NOT_RUNNING, ("exited", "exec"): NOT_RUNNING,
}



class Acted(Exception):
    """The verb got past its checks and reached the host."""


def _state(name: str) -> ContainerState:
    me = os.getpid()  # a live "supervisor", so sync leaves active states alone
    if name == "created":
        return ContainerState(Status.CONFIGURED)
    if name == "exited":
        return ContainerState(Status.EXITED, exit_code=1)
    if name == "restarting":  # restart_pid is this process: cancelling signals nobody
        return ContainerState(Status.EXITED, exit_code=1, restarting=True, restart_pid=me,
                              restart_delay=0.1)
    status = {"running": Status.RUNNING, "paused": Status.PAUSED,
              "stopping": Status.STOPPING}[name]
    return ContainerState(status, pid=me, supervisor_pid=me)


def _acted(*_: Any, **__: Any) -> Any:
    raise Acted


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ContainerStore:
    s = ContainerStore(paths_mod.resolve(str(tmp_path / "root"), str(tmp_path / "run")))
    s.ensure()
    # the first host action of each verb
    monkeypatch.setattr(limits, "setup", _acted)  # start: the cgroup
    monkeypatch.setattr(proc, "kill", _acted)  # stop, kill, rm -f: the signal
    monkeypatch.setattr(update, "_cgroup", _acted)  # pause, unpause: the freezer
    monkeypatch.setattr(ops_lifecycle, "_wait_gone", _acted)  # rm: after the REMOVING mark
    monkeypatch.setattr(ops_exec.Spec, "from_json", _acted)  # exec: the bundle's process
    return s


def _add(store: ContainerStore, state: ContainerState) -> None:
    store.reserve_name(NAME, CID)
    store.make_dirs(CID)
    cfg = ContainerConfig(CID, NAME, "2026-01-01T00:00:00Z", "img", "sha256:x",
                          ContainerSpec(), {})
    store.create(cfg, state)
    bundle = store.bundle(CID)
    bundle.mkdir(parents=True, exist_ok=True)
    (bundle / "config.json").write_text("{}")


def _run(store: ContainerStore, verb: str) -> str:
    paths = store.paths
    calls = {
        "start": lambda: ops_lifecycle.start(paths, NAME),
        "stop": lambda: ops_lifecycle.stop(paths, NAME),
        "kill": lambda: ops_lifecycle.kill(paths, NAME),
        "pause": lambda: update.pause(paths, NAME),
        "unpause": lambda: update.unpause(paths, NAME),
        "rm": lambda: ops_lifecycle.remove(paths, NAME),
        "rm -f": lambda: ops_lifecycle.remove(paths, NAME, force=True),
        "exec": lambda: ops_exec.exec_in(paths, NAME, ops_exec.ExecOptions(command=["true"])),
    }
    try:
        calls[verb]()
    except Acted:
        return GO
    except Conflict as exc:
        return exc.message
    return NOOP


ROWS = [pytest.param(state, verb, expected, id=f"{verb}:{state}")
        for (state, verb), expected in TABLE.items()]


@pytest.mark.parametrize(("state", "verb", "expected"), ROWS)
def test_verb_in_state_does_what_docker_does(store: ContainerStore, state: str, verb: str,
                                             expected: str) -> None:
    _add(store, _state(state))
    assert _run(store, verb) == expected.format(cid=CID, ref=NAME)


def test_noop_leaves_the_state_alone(store: ContainerStore) -> None:
    """A refused or no-op verb must not have moved the container to another state."""
    _add(store, _state("running"))
    assert _run(store, "start") == NOOP
    assert _run(store, "unpause") == f"Container {CID} is not paused"
    assert store.load(CID).state.status == Status.RUNNING


def test_cancelled_restart_is_marked_stopped_by_user(store: ContainerStore) -> None:
    """stop/kill of a restarting container: no restart follows (Docker: manually stopped)."""
    _add(store, _state("restarting"))
    assert _run(store, "kill") == NOOP
    st = store.load(CID).state
    assert (st.restarting, st.stopped_by_user, st.status) == (False, True, Status.EXITED)
