"""What the exit command (`pyc container cleanup`, run by the supervisor with nobody waiting)
fails to do is not lost: inspect's State.Error names it and its log in the run dir has it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def bb(shared_pyc, fixture_refs) -> str:
    shared_pyc.ok("pull", "-q", fixture_refs["busybox"])
    return fixture_refs["busybox"]


def _error_of(pyc, cid: str) -> str:
    return pyc.ok("inspect", "-f", "{{.State.Error}}", cid).out.strip()


def test_a_failed_restart_is_named_by_state_error(pyc, bb, tmp_path: Path):
    src = tmp_path / "data"
    src.mkdir()
    cid = pyc.ok("run", "-d", "--restart", "on-failure:3", "-v", f"{src}:/data", bb,
                 "sh", "-c", "sleep 1; exit 1").out.strip()
    src.rmdir()  # the restart's start now fails: its bind source is gone
    deadline = time.monotonic() + 20
    while not _error_of(pyc, cid) and time.monotonic() < deadline:
        time.sleep(0.1)
    error = _error_of(pyc, cid)
    assert "restart" in error and str(src) in error, error
    state = pyc.ok("inspect", "-f", "{{.State.Status}} {{.RestartCount}}", cid).out.split()
    assert state == ["exited", "1"]
    log = Path(pyc.runroot) / "containers" / cid / "cleanup.log"
    assert str(src) in log.read_text()
    pyc.ok("rm", "-f", cid)
