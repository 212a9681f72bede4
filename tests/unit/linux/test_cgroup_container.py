"""ContainerCgroup's file writes and reads against pre-populated fake cgroup directories."""

from __future__ import annotations

from pathlib import Path

import pytest

from pycontainer.errors import HostError
from pycontainer.linux.cgroup_container import ContainerCgroup
from pycontainer.linux.cgroup_limits import Limits

M = 1024 * 1024


def files(d: Path, **content: str) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    for name, text in content.items():
        (d / name.replace("__", ".")).write_text(text)
    return d


def test_v1_update_writes_each_controller(tmp_path: Path) -> None:
    mem = files(tmp_path / "memory", memory__limit_in_bytes="", memory__memsw__limit_in_bytes="",
                memory__soft_limit_in_bytes="")
    cpu = files(tmp_path / "cpu", cpu__cfs_quota_us="", cpu__cfs_period_us="", cpu__shares="")
    pids = files(tmp_path / "pids", pids__max="")
    cg = ContainerCgroup("v1", {"memory": str(mem), "cpu": str(cpu), "pids": str(pids)})
    cg.update(Limits(memory=32 * M, memory_reservation=16 * M, cpus=0.5, cpu_shares=256,
                     pids_limit=20))
    assert (mem / "memory.limit_in_bytes").read_text() == str(32 * M)
    assert (mem / "memory.memsw.limit_in_bytes").read_text() == str(64 * M)
    assert (mem / "memory.soft_limit_in_bytes").read_text() == str(16 * M)
    assert (cpu / "cpu.cfs_quota_us").read_text() == "50000"
    assert (cpu / "cpu.shares").read_text() == "256"
    assert (pids / "pids.max").read_text() == "20"


def test_v1_without_swap_accounting_warns(tmp_path: Path) -> None:
    mem = files(tmp_path / "memory", memory__limit_in_bytes="")
    cg = ContainerCgroup("v1", {"memory": str(mem)})
    cg.update(Limits(memory=32 * M))
    assert (mem / "memory.limit_in_bytes").read_text() == str(32 * M)
    assert cg.warnings == ["the kernel does not account swap: memory limited without swap"]


def test_v2_update_writes_one_directory(tmp_path: Path) -> None:
    d = files(tmp_path / "c1", memory__max="", memory__swap__max="", cpu__max="", pids__max="")
    cg = ContainerCgroup("v2", {"": str(d)})
    cg.update(Limits(memory=32 * M, cpus=0.5, pids_limit=0))
    assert (d / "memory.max").read_text() == str(32 * M)
    assert (d / "memory.swap.max").read_text() == str(32 * M)
    assert (d / "cpu.max").read_text() == "50000 100000"
    assert (d / "pids.max").read_text() == "max"


def test_v2_controller_not_enabled_is_a_host_error(tmp_path: Path) -> None:
    cg = ContainerCgroup("v2", {"": str(files(tmp_path / "c1"))})
    with pytest.raises(HostError, match="pids controller is not enabled"):
        cg.update(Limits(pids_limit=5))


def test_v1_missing_controller_is_a_host_error(tmp_path: Path) -> None:
    cg = ContainerCgroup("v1", {"memory": str(files(tmp_path / "memory"))})
    with pytest.raises(HostError, match="--pids-limit need the cgroup pids controller"):
        cg.update(Limits(pids_limit=5))


def test_v1_stats_and_oom(tmp_path: Path) -> None:
    mem = files(tmp_path / "memory", memory__usage_in_bytes=str(10 * M),
                memory__limit_in_bytes=str(32 * M),
                memory__stat=f"cache 0\ntotal_inactive_file {2 * M}\n",
                memory__oom_control="oom_kill_disable 0\nunder_oom 0\noom_kill 1\n")
    acct = files(tmp_path / "cpuacct", cpuacct__usage="123456789")
    pids = files(tmp_path / "pids", pids__current="3", pids__max="max")
    blkio = files(tmp_path / "blkio", blkio__throttle__io_service_bytes_recursive=(
        "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Total 12288\nTotal 12288\n"))
    cg = ContainerCgroup("v1", {"memory": str(mem), "cpuacct": str(acct), "pids": str(pids),
                                "blkio": str(blkio)})
    assert cg.stats() == {
        "memory": {"usage": 8 * M, "limit": 32 * M},
        "cpu": {"usage_ns": 123456789},
        "pids": {"current": 3, "limit": None},
        "blkio": {"read_bytes": 4096, "write_bytes": 8192},
        "oom_kills": 1,
    }
    assert cg.oom_killed()


def test_v2_stats_and_oom(tmp_path: Path) -> None:
    d = files(tmp_path / "c1", memory__current=str(5 * M), memory__max="max",
              memory__stat="anon 1\ninactive_file 0\n",
              memory__events="low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\n",
              cpu__stat="usage_usec 1500\nuser_usec 1000\n", cgroup__threads="1\n2\n",
              io__stat="8:0 rbytes=100 wbytes=200 rios=1 wios=2\n")
    stats = ContainerCgroup("v2", {"": str(d)}).stats()
    assert stats["memory"]["usage"] == 5 * M
    assert stats["memory"]["limit"] > 0  # unlimited: the host's memory, as Docker shows
    assert stats["cpu"] == {"usage_ns": 1_500_000}
    assert stats["pids"] == {"current": 2, "limit": None}
    assert stats["blkio"] == {"read_bytes": 100, "write_bytes": 200}
    assert stats["oom_kills"] == 0


def test_v1_oom_kills_and_procs_count_cgroups_below(tmp_path: Path) -> None:
    # runc makes its own cgroup for the container below pyc's; v1 counts OOM kills per cgroup
    mem = files(tmp_path / "memory", memory__oom_control="oom_kill_disable 0\noom_kill 0\n",
                cgroup__procs="")
    files(mem / "runc", memory__oom_control="under_oom 0\noom_kill 1\n", cgroup__procs="42\n")
    cg = ContainerCgroup("v1", {"memory": str(mem)})
    assert cg.oom_kills() == 1 and cg.oom_killed()
    assert cg.procs() == {42}


def test_adder_opens_first_and_writes_each_directory_later(tmp_path: Path) -> None:
    mem = files(tmp_path / "memory", cgroup__procs="")
    pids = files(tmp_path / "pids", cgroup__procs="")
    add = ContainerCgroup("v1", {"memory": str(mem), "pids": str(pids)}).adder()
    # the paths stop working (as after the init's pivot_root); the open files do not
    tmp_path.rename(tmp_path.with_name(tmp_path.name + "-moved"))
    add(1234)
    moved = tmp_path.with_name(tmp_path.name + "-moved")
    assert (moved / "memory" / "cgroup.procs").read_text() == "1234"
    assert (moved / "pids" / "cgroup.procs").read_text() == "1234"


def test_adder_without_the_directory_is_a_host_error(tmp_path: Path) -> None:
    with pytest.raises(HostError, match="pyc system check"):
        ContainerCgroup("v1", {"memory": str(tmp_path / "gone")}).adder()
