"""A container whose supervisor was SIGKILLed is still reached: `stop`, `kill` and `rm -f`
end its process (the recorded pid, checked against its start time), and the state becomes
exited. `stop -t 2` used to return 0 at once with the process still running."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def _orphan(pyc, image: str) -> tuple[str, int]:
    """A running container whose supervisor is killed; (id, its process's host pid)."""
    cid = pyc.ok("run", "-d", image, "sleep", "1000").out.strip()
    with open(os.path.join(str(pyc.runroot), "containers", cid, "pid.json")) as f:
        rec = json.load(f)
    os.kill(rec["supervisor"], signal.SIGKILL)
    deadline = time.monotonic() + 5
    while _alive(rec["supervisor"]) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _alive(rec["supervisor"])
    assert _alive(rec["pid"])  # `sleep` as pid 1 of its namespace ignores SIGTERM
    return cid, rec["pid"]


@pytest.fixture
def image(pyc, fixture_refs):
    pyc.ok("pull", "-q", fixture_refs["busybox"])
    return fixture_refs["busybox"]


def _status(pyc, cid: str) -> str:
    return pyc.ok("inspect", "-f", "{{.State.Status}}", cid).out.strip()


def test_stop_reaches_a_container_whose_supervisor_died(pyc, image):
    cid, pid = _orphan(pyc, image)
    began = time.monotonic()
    pyc.ok("stop", "-t", "2", cid)
    assert time.monotonic() - began >= 1.5  # SIGTERM was ignored: SIGKILL after -t 2
    assert not _alive(pid), "stop returned but the container's process still runs"
    assert _status(pyc, cid) == "exited"
    assert pyc.ok("ps", "-a", "--filter", f"id={cid}", "--format", "{{.Status}}") \
        .out.startswith("Exited")
    assert pyc.ok("ps", "-q").out.strip() == ""


def test_kill_and_rm_reach_a_container_whose_supervisor_died(pyc, image):
    cid, pid = _orphan(pyc, image)
    pyc.ok("kill", cid)
    assert pyc.ok("wait", cid, timeout=30).out.strip() != ""
    assert not _alive(pid)
    assert _status(pyc, cid) == "exited"
    cid, pid = _orphan(pyc, image)
    pyc.ok("rm", "-f", cid)
    assert not _alive(pid), "rm -f returned but the container's process still runs"
    assert pyc("inspect", cid).rc != 0
