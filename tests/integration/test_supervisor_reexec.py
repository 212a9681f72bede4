"""`run -d`'s supervisor: forked from the CLI to start the container, then re-executed as a
fresh interpreter (`--resume`) for the container's life, with the same pid."""

from __future__ import annotations

import json
import os
import time

import pytest


@pytest.fixture(scope="module")
def bb(shared_pyc, fixture_refs) -> str:
    shared_pyc.ok("pull", "-q", fixture_refs["busybox"])
    return fixture_refs["busybox"]


def _supervisor(pyc, cid: str) -> int:
    with open(os.path.join(str(pyc.runroot), "containers", cid, "pid.json")) as f:
        return int(json.load(f)["supervisor"])


def _resumed(pid: int, timeout: float = 10) -> list[str]:
    """The supervisor's argv once it has re-executed itself."""
    deadline = time.monotonic() + timeout
    while True:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().decode().split("\0")
        if "--resume" in argv or time.monotonic() > deadline:
            return argv
        time.sleep(0.02)


def test_resumed_supervisor_keeps_output_exec_and_stop(shared_pyc, bb):
    cid = shared_pyc.ok("run", "-d", bb, "sh", "-c", "echo early; exec sleep 300").out.strip()
    try:
        assert shared_pyc.ok("exec", cid, "echo", "in").out == "in\n"  # running on return
        sup = _supervisor(shared_pyc, cid)
        argv = _resumed(sup)
        assert "--resume" in argv and "pycontainer.supervisor" in argv[3]
        # output written before the hand-over reaches the log through the new process
        deadline = time.monotonic() + 10
        while "early" not in shared_pyc.ok("logs", cid).out and time.monotonic() < deadline:
            time.sleep(0.05)
        assert shared_pyc.ok("logs", cid).out == "early\n"
        files = [os.readlink(f"/proc/{sup}/fd/{fd}") for fd in os.listdir(f"/proc/{sup}/fd")]
        regular = {os.path.basename(f) for f in files if f.startswith("/") and f != "/dev/null"}
        # the container's log and the supervisor's own: no lock or record of the CLI's
        assert regular <= {"ctr.log", "supervisor.log"} and "supervisor.log" in regular, files
        shared_pyc.ok("stop", "-t", "0", cid)
        out = shared_pyc.ok("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", cid)
        assert out.out.split() == ["exited", "137"]
    finally:
        shared_pyc.ok("rm", "-f", cid)


def test_container_that_exits_before_the_hand_over_is_reaped(shared_pyc, bb):
    cid = shared_pyc.ok("run", "-d", bb, "sh", "-c", "echo bye; exit 7").out.strip()
    try:
        assert shared_pyc.ok("wait", cid).out.strip() == "7"
        assert shared_pyc.ok("logs", cid).out == "bye\n"
    finally:
        shared_pyc.ok("rm", "-f", cid)


def test_attach_to_resumed_supervisor(shared_pyc, bb):
    cid = shared_pyc.ok("run", "-d", bb, "sh", "-c", "sleep 1; echo late; exit 3").out.strip()
    try:
        _resumed(_supervisor(shared_pyc, cid))
        res = shared_pyc("attach", cid)
        assert res.rc == 3 and "late" in res.out
    finally:
        shared_pyc.ok("rm", "-f", cid)
