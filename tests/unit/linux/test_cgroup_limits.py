"""Limits: Docker's validation and the v1 / v2 file values, as tables."""

from __future__ import annotations

import pytest

from pycontainer.errors import UsageError
from pycontainer.linux.cgroup_limits import Limits, cpu_weight, v1_files, v2_files

M = 1024 * 1024


@pytest.mark.parametrize(("limits", "message"), [
    (Limits(memory=1 * M), "Minimum memory limit allowed is 6MB"),
    (Limits(memory_swap=64 * M), "always set the Memory limit"),
    (Limits(memory=64 * M, memory_swap=32 * M), "memoryswap limit should be larger"),
    (Limits(memory=32 * M, memory_reservation=64 * M), "less than memory reservation"),
    (Limits(cpus=0.001), "range of CPUs is from 0.01 to 4.00"),
    (Limits(cpus=5), "range of CPUs"),
    (Limits(cpu_shares=300_000), "--cpu-shares"),
    (Limits(cpuset_cpus="0-a"), "--cpuset-cpus"),
    (Limits(cpuset_mems="x"), "--cpuset-mems"),
    (Limits(oom_score_adj=1001), "range for oom score adj is [-1000, 1000]"),
    (Limits(cpus=1, cpu_period=50000), "Nano CPUs and CPU Period cannot both be set"),
    (Limits(cpus=1, cpu_quota=50000), "Nano CPUs and CPU Quota cannot both be set"),
    (Limits(cpu_period=999), "CPU cfs period can not be less than 1ms"),
    (Limits(cpu_period=1_000_001), "larger than 1s"),
    (Limits(cpu_quota=999), "CPU cfs quota can not be less than 1ms"),
], ids=["tiny-memory", "swap-without-memory", "swap-below-memory", "reservation-above",
        "cpus-too-small", "cpus-too-many", "shares-too-big", "bad-cpuset", "bad-mems",
        "oom-score-adj", "cpus-and-period", "cpus-and-quota", "period-too-small",
        "period-too-big", "quota-too-small"])
def test_validate_refuses_what_docker_refuses(limits: Limits, message: str) -> None:
    with pytest.raises(UsageError) as exc:
        limits.validate(ncpus=4)
    assert message in exc.value.message


@pytest.mark.parametrize("limits", [
    Limits(),
    Limits(memory=6 * M, memory_swap=-1),
    Limits(memory=64 * M, memory_swap=64 * M, memory_reservation=32 * M),
    Limits(cpus=0.5, cpu_shares=512, cpuset_cpus="0-1,3", cpuset_mems="0"),
    Limits(pids_limit=-1, oom_score_adj=-1000),
    Limits(cpu_period=50000, cpu_quota=25000),
    Limits(cpu_quota=-1),
    Limits(cpus=1, cpu_quota=-1),  # Docker: only a positive quota conflicts
], ids=["empty", "unlimited-swap", "memory", "cpu", "pids", "period-quota", "no-quota",
        "cpus-and-no-quota"])
def test_validate_accepts_valid_limits(limits: Limits) -> None:
    limits.validate(ncpus=4)


def test_requested_names_the_controllers() -> None:
    lim = Limits(memory=64 * M, cpus=1.0, pids_limit=5, oom_score_adj=3)
    assert lim.requested() == {"memory": "memory", "cpus": "cpu", "pids_limit": "pids"}
    assert lim.controllers() == {"memory", "cpu", "pids"}


def test_merged_keeps_unset_fields() -> None:
    merged = Limits(memory=64 * M, cpus=1.0).merged(Limits(cpus=0.5, pids_limit=9))
    assert merged == Limits(memory=64 * M, cpus=0.5, pids_limit=9)


@pytest.mark.parametrize(("limits", "files"), [
    (Limits(memory=32 * M), [("memory", "memory.limit_in_bytes", str(32 * M)),
                             ("memory", "memory.memsw.limit_in_bytes", str(64 * M))]),
    (Limits(memory=32 * M, memory_swap=-1), [("memory", "memory.limit_in_bytes", str(32 * M)),
                                             ("memory", "memory.memsw.limit_in_bytes", "-1")]),
    (Limits(memory_reservation=8 * M), [("memory", "memory.soft_limit_in_bytes", str(8 * M))]),
    (Limits(cpus=0.5), [("cpu", "cpu.cfs_period_us", "100000"),
                        ("cpu", "cpu.cfs_quota_us", "50000")]),
    (Limits(cpu_shares=512), [("cpu", "cpu.shares", "512")]),
    (Limits(cpuset_cpus="0"), [("cpuset", "cpuset.cpus", "0")]),
    (Limits(pids_limit=20), [("pids", "pids.max", "20")]),
    (Limits(pids_limit=0), [("pids", "pids.max", "max")]),
    (Limits(cpu_period=50000, cpu_quota=25000), [("cpu", "cpu.cfs_period_us", "50000"),
                                                 ("cpu", "cpu.cfs_quota_us", "25000")]),
    (Limits(cpu_quota=30000), [("cpu", "cpu.cfs_quota_us", "30000")]),
    (Limits(cpu_quota=0), [("cpu", "cpu.cfs_quota_us", "-1")]),
], ids=["memory-default-swap", "unlimited-swap", "reservation", "cpus", "shares", "cpuset",
        "pids", "pids-unlimited", "period-quota", "quota-only", "quota-unlimited"])
def test_v1_files(limits: Limits, files: list[tuple[str, str, str]]) -> None:
    assert v1_files(limits) == files


@pytest.mark.parametrize(("limits", "files"), [
    (Limits(memory=32 * M), [("memory", "memory.max", str(32 * M)),
                             ("memory", "memory.swap.max", str(32 * M))]),
    (Limits(memory=32 * M, memory_swap=32 * M), [("memory", "memory.max", str(32 * M)),
                                                 ("memory", "memory.swap.max", "0")]),
    (Limits(memory=32 * M, memory_swap=-1), [("memory", "memory.max", str(32 * M)),
                                             ("memory", "memory.swap.max", "max")]),
    (Limits(memory_reservation=8 * M), [("memory", "memory.low", str(8 * M))]),
    (Limits(cpus=1.5), [("cpu", "cpu.max", "150000 100000")]),
    (Limits(cpu_shares=1024), [("cpu", "cpu.weight", "39")]),
    (Limits(pids_limit=20), [("pids", "pids.max", "20")]),
    (Limits(cpu_period=50000, cpu_quota=25000), [("cpu", "cpu.max", "25000 50000")]),
    (Limits(cpu_period=50000), [("cpu", "cpu.max", "max 50000")]),
    (Limits(cpu_quota=30000), [("cpu", "cpu.max", "30000 100000")]),
], ids=["memory", "no-swap", "unlimited-swap", "reservation", "cpus", "shares", "pids",
        "period-quota", "period-only", "quota-only"])
def test_v2_files(limits: Limits, files: list[tuple[str, str, str]]) -> None:
    assert v2_files(limits) == files


@pytest.mark.parametrize(("shares", "weight"), [
    (2, 1), (1024, 39), (262144, 10000), (1, 1), (0, 100),
])
def test_cpu_weight_follows_runc(shares: int, weight: int) -> None:
    assert cpu_weight(shares) == weight
