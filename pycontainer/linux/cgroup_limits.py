"""Resource limits as Docker's run flags name them, and their cgroup v1 / v2 file values.

Pure: no file I/O, so the validation and the conversions are unit-tested as tables.
`pycontainer.linux.cgroups` writes the files these functions return.

Docker semantics kept here so callers need not know them:
- `memory_swap` is memory *plus* swap; unset with `memory` set means twice `memory`
  (Docker's default); -1 means unlimited swap.
- `pids_limit` <= 0 means unlimited.
- `cpu_shares` becomes v2's `cpu.weight` with runc's formula, so the same flag means the
  same relative share on both hierarchies.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields

from pycontainer.errors import UsageError

CFS_PERIOD_US = 100_000
MIN_MEMORY = 6 * 1024 * 1024  # Docker refuses less: the container could not even start
MAX_SHARES = 262_144
MIN_SHARES = 2
UNLIMITED = -1

_CPUSET = re.compile(r"^\d+(-\d+)?(,\d+(-\d+)?)*$")

#: limit field -> (the run flag, for messages; the controller it needs)
FLAGS: dict[str, tuple[str, str]] = {
    "memory": ("--memory", "memory"),
    "memory_swap": ("--memory-swap", "memory"),
    "memory_reservation": ("--memory-reservation", "memory"),
    "cpus": ("--cpus", "cpu"),
    "cpu_period": ("--cpu-period", "cpu"),
    "cpu_quota": ("--cpu-quota", "cpu"),
    "cpu_shares": ("--cpu-shares", "cpu"),
    "cpuset_cpus": ("--cpuset-cpus", "cpuset"),
    "cpuset_mems": ("--cpuset-mems", "cpuset"),
    "pids_limit": ("--pids-limit", "pids"),
}


@dataclass(frozen=True)
class Limits:
    """What the user asked for; None means "not set". Sizes are bytes."""

    memory: int | None = None
    memory_swap: int | None = None
    memory_reservation: int | None = None
    cpus: float | None = None
    #: --cpu-period / --cpu-quota (microseconds): the CFS settings themselves, where --cpus
    #: is their ratio; a quota <= 0 is no limit
    cpu_period: int | None = None
    cpu_quota: int | None = None
    cpu_shares: int | None = None
    cpuset_cpus: str | None = None
    cpuset_mems: str | None = None
    pids_limit: int | None = None
    #: a process attribute (/proc/PID/oom_score_adj), set by the runtime; validated here only
    oom_score_adj: int | None = None

    def requested(self) -> dict[str, str]:
        """{field: controller} for every cgroup limit that is set."""
        return {name: FLAGS[name][1] for name in FLAGS if getattr(self, name) is not None}

    def controllers(self) -> set[str]:
        return set(self.requested().values())

    def validate(self, ncpus: int | None = None) -> None:
        """Refuse what Docker refuses, with its wording where it has one."""
        _validate_memory(self)
        _validate_cpu(self, ncpus if ncpus is not None else len(os.sched_getaffinity(0)))
        if self.oom_score_adj is not None and not -1000 <= self.oom_score_adj <= 1000:
            raise UsageError(f"Invalid value {self.oom_score_adj}, range for oom score adj "
                             "is [-1000, 1000]")

    def merged(self, update: Limits) -> Limits:
        """These limits with every field `update` sets replaced (`pyc update`)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update({f.name: getattr(update, f.name) for f in fields(update)
                       if getattr(update, f.name) is not None})
        return Limits(**values)


def _validate_memory(lim: Limits) -> None:
    if lim.memory is not None and 0 < lim.memory < MIN_MEMORY:
        raise UsageError("Minimum memory limit allowed is 6MB")
    if lim.memory_swap is not None and lim.memory_swap != UNLIMITED:
        if lim.memory is None:
            raise UsageError("You should always set the Memory limit when using "
                             "Memoryswap limit")
        if lim.memory_swap < lim.memory:
            raise UsageError("Minimum memoryswap limit should be larger than memory limit, "
                             "see usage")
    if (lim.memory_reservation is not None and lim.memory is not None
            and lim.memory_reservation > lim.memory):
        raise UsageError("Minimum memory limit can not be less than memory reservation "
                         "limit, see usage")


def _validate_cpu(lim: Limits, ncpus: int) -> None:
    if lim.cpus is not None and not 0.01 <= lim.cpus <= ncpus:
        raise UsageError(f"range of CPUs is from 0.01 to {ncpus}.00, as there are only "
                         f"{ncpus} CPUs available")
    if lim.cpus is not None and lim.cpu_period:
        raise UsageError("Conflicting options: Nano CPUs and CPU Period cannot both be set")
    if lim.cpus is not None and lim.cpu_quota and lim.cpu_quota > 0:
        raise UsageError("Conflicting options: Nano CPUs and CPU Quota cannot both be set")
    if lim.cpu_period and not 1000 <= lim.cpu_period <= 1_000_000:
        raise UsageError("CPU cfs period can not be less than 1ms (i.e. 1000) or larger than "
                         "1s (i.e. 1000000)")
    if lim.cpu_quota is not None and 0 < lim.cpu_quota < 1000:
        raise UsageError("CPU cfs quota can not be less than 1ms (i.e. 1000)")
    if lim.cpu_shares is not None and not 0 <= lim.cpu_shares <= MAX_SHARES:
        raise UsageError(f"invalid --cpu-shares {lim.cpu_shares}: the range is "
                         f"{MIN_SHARES} to {MAX_SHARES}")
    for flag, value in (("--cpuset-cpus", lim.cpuset_cpus), ("--cpuset-mems", lim.cpuset_mems)):
        if value is not None and not _CPUSET.match(value):
            raise UsageError(f"invalid value {value!r} for {flag}: expected a list like 0-3,5")


def memsw(lim: Limits) -> int | None:
    """Memory plus swap in bytes, -1 for unlimited, None when not limited at all."""
    if lim.memory is None or lim.memory <= 0:
        return None
    if lim.memory_swap is None or lim.memory_swap == 0:
        return 2 * lim.memory  # Docker: as much swap as memory
    return lim.memory_swap


def cpu_weight(shares: int) -> int:
    """runc's ConvertCPUSharesToCgroupV2Value: [2, 262144] onto [1, 10000]."""
    if shares == 0:
        return 100  # "unset" in Docker: the v2 default weight
    shares = max(MIN_SHARES, min(MAX_SHARES, shares))
    return 1 + ((shares - 2) * 9999) // 262142


def cpu_quota(cpus: float) -> int:
    return max(1000, round(cpus * CFS_PERIOD_US))  # the kernel refuses quotas below 1 ms


def cfs(lim: Limits) -> tuple[int | None, int | None]:
    """(quota, period) in microseconds for the cgroup, None where left as it is; a quota
    of -1 is no limit. --cpus is a quota over the default period."""
    if lim.cpus is not None:
        return cpu_quota(lim.cpus), CFS_PERIOD_US
    quota = None if lim.cpu_quota is None else (lim.cpu_quota if lim.cpu_quota > 0 else -1)
    return quota, lim.cpu_period or None


def _pids(limit: int) -> str:
    return "max" if limit <= 0 else str(limit)


def v1_files(lim: Limits) -> list[tuple[str, str, str]]:
    """[(controller, file, value)] in the order to write them."""
    out: list[tuple[str, str, str]] = []
    if lim.memory is not None:
        out.append(("memory", "memory.limit_in_bytes", str(lim.memory if lim.memory > 0 else -1)))
        swap = memsw(lim)
        if swap is not None:
            out.append(("memory", "memory.memsw.limit_in_bytes", str(swap)))
    if lim.memory_reservation is not None:
        out.append(("memory", "memory.soft_limit_in_bytes", str(lim.memory_reservation)))
    quota, period = cfs(lim)
    if period is not None:
        out.append(("cpu", "cpu.cfs_period_us", str(period)))
    if quota is not None:
        out.append(("cpu", "cpu.cfs_quota_us", str(quota)))
    if lim.cpu_shares is not None:
        out.append(("cpu", "cpu.shares", str(lim.cpu_shares or 1024)))
    out += _cpuset_files(lim)
    if lim.pids_limit is not None:
        out.append(("pids", "pids.max", _pids(lim.pids_limit)))
    return out


def v2_files(lim: Limits) -> list[tuple[str, str, str]]:
    """[(controller, file, value)] for cgroup v2, in the order to write them."""
    out: list[tuple[str, str, str]] = []
    if lim.memory is not None:
        out.append(("memory", "memory.max", str(lim.memory) if lim.memory > 0 else "max"))
        swap = memsw(lim)
        if swap is not None:
            # v2 limits swap alone, Docker's flag is memory + swap
            value = "max" if swap == UNLIMITED else str(max(0, swap - (lim.memory or 0)))
            out.append(("memory", "memory.swap.max", value))
    if lim.memory_reservation is not None:
        out.append(("memory", "memory.low", str(lim.memory_reservation)))
    quota, period = cfs(lim)
    if quota is not None or period is not None:
        # one file for both: an unset half is the kernel's default (no limit, 100 ms)
        shown = "max" if quota is None or quota < 0 else str(quota)
        out.append(("cpu", "cpu.max", f"{shown} {period or CFS_PERIOD_US}"))
    if lim.cpu_shares is not None:
        out.append(("cpu", "cpu.weight", str(cpu_weight(lim.cpu_shares))))
    out += _cpuset_files(lim)
    if lim.pids_limit is not None:
        out.append(("pids", "pids.max", _pids(lim.pids_limit)))
    return out


def _cpuset_files(lim: Limits) -> list[tuple[str, str, str]]:
    out = []
    if lim.cpuset_cpus is not None:
        out.append(("cpuset", "cpuset.cpus", lim.cpuset_cpus))
    if lim.cpuset_mems is not None:
        out.append(("cpuset", "cpuset.mems", lim.cpuset_mems))
    return out
