"""Removal leaves nothing behind; concurrent runs and removals stay consistent."""

from __future__ import annotations

import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest


@pytest.fixture
def bb(pyc, fixture_refs) -> str:
    pyc.ok("pull", "-q", fixture_refs["busybox"])
    return fixture_refs["busybox"]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def _processes_mentioning(needle: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if needle.encode() in f.read():
                    found.append(int(entry))
        except OSError:
            continue
    return found


def _mounts_mentioning(needle: str) -> list[str]:
    with open("/proc/self/mountinfo") as f:
        return [line for line in f if needle in line]


def test_rm_force_of_a_running_container_leaves_nothing(pyc, bb):
    cid = pyc.ok("run", "-d", bb, "sh", "-c", "sleep 60 & sleep 61").out.strip()
    pid = int(pyc.ok("inspect", "-f", "{{.State.Pid}}", cid).out)
    run_dir = os.path.join(str(pyc.runroot), "containers", cid)
    supervisor = [p for p in _processes_mentioning(run_dir)]
    assert supervisor, "a supervisor should be running"
    pyc.ok("rm", "-f", cid)
    assert not _alive(pid)
    assert not any(_alive(p) for p in supervisor)
    assert not _processes_mentioning(cid)
    assert not _mounts_mentioning(cid)
    assert not os.path.exists(os.path.join(str(pyc.root), "containers", cid))
    assert not os.path.exists(run_dir)
    assert pyc.ok("ps", "-aq").out == ""


def test_run_rm_removes_the_container(pyc, bb):
    pyc.ok("run", "--rm", "--name", "gone", bb, "true")
    assert pyc.ok("ps", "-aq").out == ""
    pyc.fail("container", "exists", "gone", rc=1)


def test_detached_rm_is_removed_by_the_supervisor(pyc, bb):
    cid = pyc.ok("run", "-d", "--rm", bb, "sh", "-c", "exit 0").out.strip()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and pyc.ok("ps", "-aq").out:
        time.sleep(0.1)
    assert pyc.ok("ps", "-aq").out == ""
    assert not os.path.exists(os.path.join(str(pyc.root), "containers", cid))


def test_twenty_concurrent_runs_and_removals(pyc, bb):
    def run(i: int) -> subprocess.CompletedProcess[str]:
        return subprocess.run(pyc.argv("run", "-d", bb, "sleep", "60"), env=pyc.env,
                              capture_output=True, text=True, timeout=120)

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(run, range(20)))
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    ids = {r.stdout.strip() for r in results}
    assert len(ids) == 20
    names = pyc.ok("ps", "--format", "{{.Names}}").lines
    assert len(names) == 20 and len(set(names)) == 20
    assert set(pyc.ok("ps", "-q", "--no-trunc").lines) == ids

    def rm(cid: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(pyc.argv("rm", "-f", cid), env=pyc.env, capture_output=True,
                              text=True, timeout=120)

    with ThreadPoolExecutor(20) as pool:
        removed = list(pool.map(rm, sorted(ids)))
    assert all(r.returncode == 0 for r in removed), [r.stderr for r in removed]
    assert pyc.ok("ps", "-aq").out == ""
    assert not any(_processes_mentioning(cid) for cid in ids)
    left = os.listdir(os.path.join(str(pyc.root), "containers"))
    assert left in ([], ["names"])
    assert os.listdir(os.path.join(str(pyc.root), "containers", "names")) == []


def test_prune_removes_stopped_containers(pyc, bb):
    pyc.ok("run", bb, "true")
    running = pyc.ok("run", "-d", bb, "sleep", "60").out.strip()
    res = pyc.ok("container", "prune", "-f")
    assert "Deleted Containers:" in res.out
    assert pyc.ok("ps", "-aq", "--no-trunc").out.strip() == running
    pyc.ok("rm", "-f", running)
