"""Restart policies and healthchecks, run without a daemon: the supervisor's exit command
restarts a container, the supervisor runs its healthcheck."""

from __future__ import annotations

import os
import time

import pytest


@pytest.fixture(scope="module")
def bb(shared_pyc, fixture_refs) -> str:
    shared_pyc.ok("pull", "-q", fixture_refs["busybox"])
    return fixture_refs["busybox"]


def _wait_for(pred, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


def _fmt(pyc, ref: str, fmt: str) -> str:
    return pyc.ok("inspect", "-f", fmt, ref).out.strip()


def _ps_status(pyc, cid: str) -> str:
    return pyc.ok("ps", "-a", "--filter", f"id={cid}", "--format", "{{.Status}}").out.strip()


def _processes_mentioning(cid: str) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if cid.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def test_restart_on_failure_retries_then_stays_exited(pyc, bb):
    cid = pyc.ok("run", "-d", "--restart", "on-failure:2", bb, "sh", "-c", "exit 1").out.strip()
    assert _fmt(pyc, cid, "{{.HostConfig.RestartPolicy.Name}}:"
                "{{.HostConfig.RestartPolicy.MaximumRetryCount}}") == "on-failure:2"
    assert _wait_for(lambda: _fmt(pyc, cid, "{{.RestartCount}} {{.State.Status}}")
                     == "2 exited")
    time.sleep(1.5)  # no third run
    assert _fmt(pyc, cid, "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}") \
        == "2 exited 1"
    assert not _processes_mentioning(cid)


def test_restart_always_until_stop(pyc, bb):
    cid = pyc.ok("run", "-d", "--restart", "always", bb, "sh", "-c",
                 "sleep 0.3; exit 3").out.strip()
    assert _wait_for(lambda: int(_fmt(pyc, cid, "{{.RestartCount}}")) >= 2)
    seen = set()
    assert _wait_for(lambda: seen.add(_ps_status(pyc, cid)) or any(
        s.startswith("Restarting (3)") for s in seen), timeout=20), seen
    start = time.monotonic()
    pyc.ok("stop", cid)
    assert time.monotonic() - start < 5
    count = _fmt(pyc, cid, "{{.RestartCount}}")
    time.sleep(2)
    assert _fmt(pyc, cid, "{{.State.Status}} {{.RestartCount}}") == f"exited {count}"
    assert _ps_status(pyc, cid).startswith("Exited (")
    assert not _processes_mentioning(cid)


def test_rm_force_during_backoff_leaves_nothing(pyc, bb):
    cid = pyc.ok("run", "-d", "--restart", "always", bb, "true").out.strip()
    # after a few quick exits the backoff is long enough to catch it waiting
    assert _wait_for(lambda: int(_fmt(pyc, cid, "{{.RestartCount}}")) >= 4)
    assert _wait_for(lambda: _fmt(pyc, cid, "{{.State.Status}}") == "restarting")
    assert _fmt(pyc, cid, "{{.State.Restarting}}") == "true"
    pyc.ok("rm", "-f", cid)
    time.sleep(1)
    assert pyc("inspect", cid).rc != 0
    assert not _processes_mentioning(cid)
    assert not any(cid in name for name in os.listdir(pyc.runroot / "containers")) \
        if (pyc.runroot / "containers").exists() else True


def test_restart_and_rm_conflict(pyc, bb):
    res = pyc.fail("run", "--rm", "--restart", "always", bb, "true")
    assert res.rc == 125
    assert "Conflicting options: --restart and --rm" in res.err
    assert pyc.fail("run", "--restart", "sometimes", bb, "true").rc == 125
