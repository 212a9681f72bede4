"""One container's resource use in Docker's stats schema (the Engine API's
`/containers/{id}/stats`), from the same cgroup and network counters as `pyc stats`.

Each object carries the previous sample as `precpu_stats` (clients compute CPU % as
Δtotal_usage / Δsystem_cpu_usage × online_cpus), so a stream sends one per second and a
single answer (`stream=false`) takes two samples a second apart unless `one-shot` asks for
one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from pycontainer.containers.lifecycle import Status
from pycontainer.containers.store import ContainerStore
from pycontainer.paths import Paths

if TYPE_CHECKING:
    from pycontainer.jsontypes import JSON
    from pycontainer.linux.cgroup_stats import CpuFigures, Figures

ZERO_TIME = "0001-01-01T00:00:00Z"
INTERVAL = 1.0


def _now() -> str:
    from pycontainer.formats.timestamps import rfc3339

    return rfc3339()


def _networks(pid: int) -> dict[str, dict[str, int]]:
    """Per interface (loopback excluded, as Docker's), from /proc/PID/net/dev."""
    keys = ("rx_bytes", "rx_packets", "rx_errors", "rx_dropped")
    tx = ("tx_bytes", "tx_packets", "tx_errors", "tx_dropped")
    out: dict[str, dict[str, int]] = {}
    try:
        with open(f"/proc/{pid}/net/dev") as f:
            lines = f.read().splitlines()[2:]  # two header lines
    except OSError:
        return out
    for line in lines:
        name, _, counters = line.partition(":")
        fields = [int(x) for x in counters.split()]
        if name.strip() == "lo" or len(fields) < 12:
            continue
        out[name.strip()] = {**dict(zip(keys, fields[0:4], strict=True)),
                             **dict(zip(tx, fields[8:12], strict=True))}
    return out


def _cpu(raw: Figures, running: bool) -> JSON:
    from pycontainer.linux import cgroup_stats

    cpu: CpuFigures = raw.get("cpu") or {}
    usage: JSON = {"total_usage": cpu.get("total", 0),
                   "usage_in_kernelmode": cpu.get("system", 0),
                   "usage_in_usermode": cpu.get("user", 0)}
    if cpu.get("percpu"):
        usage["percpu_usage"] = cpu["percpu"]
    return {"cpu_usage": usage,
            "system_cpu_usage": cgroup_stats.system_cpu_ns() if running else 0,
            "online_cpus": cgroup_stats.online_cpus() if running else 0,
            "throttling_data": {"periods": cpu.get("periods", 0),
                                "throttled_periods": cpu.get("throttled", 0),
                                "throttled_time": cpu.get("throttled_time", 0)}}


def sample(store: ContainerStore, cid: str) -> JSON:
    """The container's figures now, in Docker's schema (zeros when it is not running)."""
    from pycontainer.linux import cgroup_stats
    from pycontainer.linux.cgroup_container import ContainerCgroup

    c = store.load(cid)
    store.sync(c)  # read-only: no lock, no save
    running = c.state.status in (Status.RUNNING, Status.PAUSED, Status.STOPPING)
    raw: Figures = cgroup_stats.detailed(ContainerCgroup.from_record(c.state.cgroup)) \
        if running else {}
    pids = raw.get("pids") or {}
    memory = raw.get("memory") or {}
    out: JSON = {
        "read": _now() if running else ZERO_TIME, "name": "/" + c.name, "id": c.id,
        "pids_stats": {k: v for k, v in (("current", pids.get("current") or 0),
                                         ("limit", pids.get("limit"))) if v is not None},
        "blkio_stats": {"io_service_bytes_recursive": raw.get("io") if running else None,
                        "io_serviced_recursive": None, "io_queue_recursive": None,
                        "io_service_time_recursive": None, "io_wait_time_recursive": None,
                        "io_merged_recursive": None, "io_time_recursive": None,
                        "sectors_recursive": None},
        "num_procs": 0, "storage_stats": {},
        "cpu_stats": _cpu(raw, running),
        "memory_stats": memory,
    }
    if running and c.state.pid:
        out["networks"] = _networks(c.state.pid)
    return out


def _with_previous(current: JSON, previous: JSON | None) -> JSON:
    empty = {"cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0,
                           "usage_in_usermode": 0},
             "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}}
    current["preread"] = previous["read"] if previous else ZERO_TIME
    current["precpu_stats"] = previous["cpu_stats"] if previous else empty
    return current


def stats(paths: Paths, ref: str, stream: bool = True, one_shot: bool = False,
          stop: Callable[[], bool] = lambda: False) -> Iterator[JSON]:
    """Docker's stats objects for container `ref`: one a second while `stream` (until the
    container is gone or `stop()`), else one (after two samples unless `one_shot`).
    ContainerNotFound is raised at once, before the first object."""
    from pycontainer.errors import ContainerNotFound

    store = ContainerStore(paths)
    cid = store.resolve(ref)
    return _objects(store, cid, stream, one_shot, stop, ContainerNotFound)


def _objects(store: ContainerStore, cid: str, stream: bool, one_shot: bool,
             stop: Callable[[], bool], gone: type[Exception]) -> Iterator[JSON]:
    previous = None
    if not stream and not one_shot:
        previous = sample(store, cid)
        if previous["read"] != ZERO_TIME and _wait(INTERVAL, stop):
            return
    while True:
        try:
            current = _with_previous(sample(store, cid), previous)
        except gone:
            return  # removed meanwhile: the stream ends, as Docker's does
        yield current
        if not stream or _wait(INTERVAL, stop):
            return
        previous = current


def _wait(seconds: float, stop: Callable[[], bool]) -> bool:
    """Sleep, waking to ask `stop()`; True when it says stop."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if stop():
            return True
        time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
    return stop()
