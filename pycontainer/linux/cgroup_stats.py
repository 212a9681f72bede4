"""A container cgroup's figures as Docker's stats API reports them (cgroup v1 and v2).

`ContainerCgroup.stats()` gives the summary `pyc stats` prints; this module reads the raw
counters behind it (CPU user/system time, per-CPU usage, throttling, the whole memory.stat,
per-device I/O), which the Engine API's `/containers/{id}/stats` passes on in Docker's names.
"""

from __future__ import annotations

import contextlib
import os
from typing import TypedDict

from pycontainer.linux.cgroup_container import ContainerCgroup, _keyed, _read_int, read_file

_NS = 1_000_000_000


class CpuFigures(TypedDict, total=False):
    total: int  # ns, as all the times
    user: int
    system: int
    percpu: list[int] | None
    periods: int
    throttled: int
    throttled_time: int


class MemoryFigures(TypedDict, total=False):
    usage: int
    limit: int
    stats: dict[str, int]  # memory.stat
    max_usage: int  # v1 only
    failcnt: int  # v1 only


class IoEntry(TypedDict):
    major: int
    minor: int
    op: str
    value: int


class Figures(TypedDict, total=False):
    cpu: CpuFigures
    memory: MemoryFigures
    pids: dict[str, int | None]
    io: list[IoEntry]


def detailed(cg: ContainerCgroup) -> Figures:
    """{"cpu": {...}, "memory": {...}, "pids": {...}, "io": [...]}; {} without a cgroup."""
    if not cg.enabled:
        return {}
    v2 = cg.version == "v2"
    summary = cg.stats()
    return {"cpu": _cpu(cg, v2, summary["cpu"]["usage_ns"]), "memory": _memory(cg, v2),
            "pids": summary["pids"], "io": _io(cg, v2)}


def _cpu(cg: ContainerCgroup, v2: bool, total: int) -> CpuFigures:
    if v2:
        stat = _keyed(cg._file("cpu", "cpu.stat"))
        return {"total": total, "user": stat.get("user_usec", 0) * 1000,
                "system": stat.get("system_usec", 0) * 1000, "percpu": None,
                "periods": stat.get("nr_periods", 0), "throttled": stat.get("nr_throttled", 0),
                "throttled_time": stat.get("throttled_usec", 0) * 1000}
    ticks = os.sysconf("SC_CLK_TCK")
    times = _keyed(cg._file("cpuacct", "cpuacct.stat"))  # user/system in clock ticks
    percpu = None
    path = cg._file("cpuacct", "cpuacct.usage_percpu")
    with contextlib.suppress(OSError, ValueError, TypeError):
        percpu = [int(x) for x in read_file(path).split()] if path else None
    throttle = _keyed(cg._file("cpu", "cpu.stat"))
    return {"total": total, "user": times.get("user", 0) * _NS // ticks,
            "system": times.get("system", 0) * _NS // ticks, "percpu": percpu,
            "periods": throttle.get("nr_periods", 0),
            "throttled": throttle.get("nr_throttled", 0),
            "throttled_time": throttle.get("throttled_time", 0)}


def _memory(cg: ContainerCgroup, v2: bool) -> MemoryFigures:
    """usage as the kernel counts it (page cache included: clients subtract inactive_file),
    the limit (the host's memory when unlimited, as Docker shows it) and memory.stat."""
    summary = cg.stats()["memory"]
    usage = _read_int(cg._file("memory", "memory.current" if v2
                                else "memory.usage_in_bytes")) or 0
    out: MemoryFigures = {"usage": usage, "limit": summary["limit"] or 0,
                          "stats": _keyed(cg._file("memory", "memory.stat"))}
    if not v2:
        out["max_usage"] = _read_int(cg._file("memory", "memory.max_usage_in_bytes")) or 0
        out["failcnt"] = _read_int(cg._file("memory", "memory.failcnt")) or 0
    return out


def _io(cg: ContainerCgroup, v2: bool) -> list[IoEntry]:
    """Docker's io_service_bytes_recursive: {major, minor, op, value} per device."""
    path = (cg._file("io", "io.stat") if v2
            else cg._file("blkio", "blkio.throttle.io_service_bytes_recursive"))
    out: list[IoEntry] = []
    if path is None:
        return out
    with contextlib.suppress(OSError, ValueError):
        for line in read_file(path).splitlines():
            words = line.split()
            if not words or ":" not in words[0]:
                continue
            major, minor = (int(x) for x in words[0].split(":", 1))
            if v2:  # "8:0 rbytes=1 wbytes=2 rios=3 ..."
                kv = dict(w.split("=", 1) for w in words[1:] if "=" in w)
                for op, key in (("read", "rbytes"), ("write", "wbytes")):
                    out.append({"major": major, "minor": minor, "op": op,
                                "value": int(kv.get(key, 0))})
            elif len(words) == 3:  # "8:0 Read 4096"
                out.append({"major": major, "minor": minor, "op": words[1],
                            "value": int(words[2])})
    return out


def system_cpu_ns() -> int:
    """The host's CPU time of every kind since boot (Docker's system_cpu_usage)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in read_file("/proc/stat").splitlines():
            if line.startswith("cpu "):
                ticks = sum(int(x) for x in line.split()[1:8])
                return ticks * _NS // os.sysconf("SC_CLK_TCK")
    return 0


def online_cpus() -> int:
    """The CPUs /proc/stat lists (Docker counts its cpuN lines)."""
    with contextlib.suppress(OSError):
        n = sum(1 for line in read_file("/proc/stat").splitlines()
                if line.startswith("cpu") and line[3:4].isdigit())
        if n:
            return n
    return os.cpu_count() or 1
