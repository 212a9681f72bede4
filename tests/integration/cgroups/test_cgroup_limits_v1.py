"""Real limits on a delegated cgroup v1 subtree, as the unprivileged test user."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable

import pytest
from cgroup_support import COUNTER, Child, MakeCgroup, count

from pycontainer.linux import cgroups
from pycontainer.linux.cgroups import CgroupInfo, Limits

M = 1024 * 1024
ALLOCATE_100M = "data = b'x' * (100 * 1024 * 1024)\nprint('survived', flush=True)\n"


def test_memory_limit_kills_an_allocation_over_it(
        v1_cgroup: MakeCgroup, child: Callable[[str], Child]) -> None:
    cg = v1_cgroup(Limits(memory=32 * M))
    c = child(ALLOCATE_100M)
    cg.add(c.pid)
    c.go()
    assert c.wait() == -9  # SIGKILL from the OOM killer
    assert cg.oom_killed()
    assert cg.stats()["oom_kills"] >= 1


def test_memory_limit_above_the_allocation_lets_it_live(
        v1_cgroup: MakeCgroup, child: Callable[[str], Child]) -> None:
    cg = v1_cgroup(Limits(memory=256 * M))
    c = child(ALLOCATE_100M)
    cg.add(c.pid)
    c.go()
    assert c.line() == "survived"
    assert c.wait() == 0
    assert not cg.oom_killed()


FORK_LOOP = """
import os, time
n = 0
while True:
    try:
        pid = os.fork()
    except OSError as exc:
        print('fork failed', exc.errno, n, flush=True)
        break
    if pid == 0:
        time.sleep(600)
        os._exit(0)
    n += 1
time.sleep(600)
"""


def test_pids_limit_stops_a_fork_loop(
        v1_cgroup: MakeCgroup, child: Callable[[str], Child]) -> None:
    import errno

    cg = v1_cgroup(Limits(pids_limit=20))
    c = child(FORK_LOOP)
    cg.add(c.pid)
    c.go()
    word, _, err, forked = c.line().split()
    assert (word, int(err)) == ("fork", errno.EAGAIN)
    assert int(forked) == 19  # the loop's process itself is the 20th
    assert cg.stats()["pids"] == {"current": 20, "limit": 20}
    # the host is unaffected: we (outside the container's cgroup) can still start processes
    assert subprocess.run(["true"]).returncode == 0
    cg.kill_all()
    assert c.wait() == -9
    assert cg.procs() == set()


def test_cpus_limit_holds_a_busy_loop_to_half_a_core(
        v1_cgroup: MakeCgroup, child: Callable[[str], Child]) -> None:
    cg = v1_cgroup(Limits(cpus=0.5))
    c = child("while True:\n    pass\n")
    cg.add(c.pid)
    c.go()
    time.sleep(0.5)  # let the first period settle
    before, t0 = cg.stats()["cpu"]["usage_ns"], time.monotonic()
    time.sleep(2)
    used = (cg.stats()["cpu"]["usage_ns"] - before) / 1e9 / (time.monotonic() - t0)
    # generous: a loaded test host may give less, the quota must never give much more
    assert 0.25 < used < 0.65, f"used {used:.2f} cores"


def test_freeze_stops_a_counter_and_thaw_resumes_it(
        v1_cgroup: MakeCgroup, child: Callable[[str], Child]) -> None:
    cg = v1_cgroup()
    c = child(COUNTER)
    cg.add(c.pid)
    c.go()
    count(c)
    cg.freeze()
    assert cg.frozen()
    stopped = count(c)
    time.sleep(0.3)
    assert count(c) == stopped
    cg.thaw()
    assert not cg.frozen()
    time.sleep(0.3)
    assert count(c) > stopped
    cg.kill_all()  # also while running: kill_all freezes, kills, thaws
    assert c.wait() == -9


def test_remove_kills_leftovers_and_leaves_no_directory(
        v1_cgroup: MakeCgroup, child: Callable[[str], Child]) -> None:
    cg = v1_cgroup(Limits(memory=64 * M, pids_limit=10, cpus=1, cpuset_cpus="0"))
    c = child("import time\ntime.sleep(600)\n")
    cg.add(c.pid)
    c.go()
    cg.remove(timeout=2)  # an orphan left by a crashed runtime: killed, then removed
    assert c.wait() == -9
    assert not any(os.path.exists(d) for d in cg.dirs.values())
    cg.remove()  # idempotent


def test_update_changes_a_running_containers_limit(v1_cgroup: MakeCgroup) -> None:
    cg = v1_cgroup(Limits(memory=64 * M, pids_limit=10))
    cg.update(Limits(memory=128 * M, pids_limit=30))  # raising memory above memsw works
    assert cg.stats()["memory"]["limit"] == 128 * M
    assert cg.stats()["pids"]["limit"] == 30
    cg.update(Limits(memory=32 * M))  # and lowering it again
    assert cg.stats()["memory"]["limit"] == 32 * M


def test_cpuset_level_made_but_not_yet_filled_by_another_pyc_still_takes_tasks(
        v1_info: CgroupInfo, v1_cgroup: MakeCgroup, child: Callable[[str], Child]) -> None:
    # Two concurrent `pyc run`s: the first mkdirs the shared `pyc` level, the second finds it
    # before the first has copied cpuset.cpus/mems into it. A child of an empty cpuset would
    # refuse tasks with ENOSPC.
    level = os.path.join(v1_info.delegated["cpuset"], cgroups.PYC_LEVEL)
    if os.path.isdir(level):
        if not _only_files(level):
            pytest.skip("another container's cgroup holds the shared level")
        os.rmdir(level)
    os.mkdir(level)
    assert cgroups.read_file(os.path.join(level, "cpuset.cpus")) == ""
    cg = v1_cgroup(Limits())
    c = child("print('in', flush=True)\n")
    cg.add(c.pid)  # raised ENOSPC before the fix
    c.go()
    assert c.line() == "in"
    assert c.wait() == 0
    assert cgroups.read_file(os.path.join(level, "cpuset.cpus")) != ""


def _only_files(path: str) -> bool:
    return not any(os.path.isdir(os.path.join(path, e)) for e in os.listdir(path))
