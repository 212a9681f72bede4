"""`pyc stats`: live resource use of containers, from their cgroups and network namespaces.

CPU % is computed like Docker's: the container's CPU time between two samples divided by the
wall time between them (Docker divides by the host's CPU time and multiplies by the number of
CPUs, which is the same), so one busy core is 100%. The first report of a stream, and
`--no-stream`, therefore wait for a second sample.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field

from pycontainer.containers.lifecycle import Status
from pycontainer.containers.store import ContainerStore
from pycontainer.errors import PycError
from pycontainer.linux.cgroup_container import ContainerCgroup
from pycontainer.linux.cgroup_record import CgroupRecord
from pycontainer.paths import Paths

SAMPLE_SECONDS = 1.0


@dataclass
class StatsOptions:
    containers: list[str] = field(default_factory=list)  # none: every running container
    all: bool = False  # also stopped containers (their figures are zero)


@dataclass
class StatsEntry:
    id: str
    name: str
    #: what the user named (Docker's .Container), else the id
    ref: str
    running: bool = False
    cpu_percent: float = 0.0
    mem_usage: int = 0
    mem_limit: int = 0
    mem_percent: float = 0.0
    net_rx: int = 0
    net_tx: int = 0
    block_read: int = 0
    block_write: int = 0
    pids: int = 0
    #: cumulative CPU time and when it was read (for the next sample's CPU %)
    cpu_ns: int = 0
    at: float = 0.0


class Sampler:
    """Samples the chosen containers; `next()` returns a report with CPU % from the last."""

    def __init__(self, paths: Paths, opts: StatsOptions) -> None:
        self.store = ContainerStore(paths)
        self.opts = opts
        self.last: dict[str, StatsEntry] = {}
        if opts.containers:  # Docker: a named container that does not exist is an error
            for ref in opts.containers:
                self.store.resolve(ref)

    def next(self) -> list[StatsEntry]:
        entries = self._sample()
        if any(e.running and e.id not in self.last for e in entries):
            time.sleep(SAMPLE_SECONDS)
            self.last = {e.id: e for e in entries}
            entries = self._sample()
        for e in entries:
            prev = self.last.get(e.id)
            if prev is not None and e.running and e.at > prev.at:
                busy = max(0, e.cpu_ns - prev.cpu_ns) / 1e9
                e.cpu_percent = 100.0 * busy / (e.at - prev.at)
        self.last = {e.id: e for e in entries}
        return entries

    def _targets(self) -> list[tuple[str, str]]:
        if self.opts.containers:
            out = []
            for ref in self.opts.containers:
                with contextlib.suppress(PycError):
                    out.append((self.store.resolve(ref), ref))
            return out
        return [(cid, cid) for cid in self.store.ids()]

    def _sample(self) -> list[StatsEntry]:
        out = []
        for cid, ref in self._targets():
            try:
                c = self.store.load(cid)
            except PycError:
                continue  # removed meanwhile
            self.store.sync(c)  # read-only: no lock, no save
            running = c.state.status in (Status.RUNNING, Status.PAUSED, Status.STOPPING)
            if not running and not (self.opts.all or self.opts.containers):
                continue
            entry = StatsEntry(cid, c.name, ref, running)
            if running:
                _fill(entry, c.state.cgroup, c.state.pid)
            out.append(entry)
        return out


def _fill(e: StatsEntry, record: CgroupRecord | None, pid: int) -> None:
    stats = ContainerCgroup.from_record(record).stats()
    e.at = time.monotonic()
    e.net_rx, e.net_tx = net_io(pid)
    if not stats:
        return  # no cgroup (a host without delegation): only the network figures
    mem = stats["memory"]
    e.mem_usage, e.mem_limit = mem["usage"] or 0, mem["limit"] or 0
    e.mem_percent = 100.0 * e.mem_usage / e.mem_limit if e.mem_limit else 0.0
    e.cpu_ns = stats["cpu"]["usage_ns"]
    e.block_read = stats["blkio"]["read_bytes"]
    e.block_write = stats["blkio"]["write_bytes"]
    e.pids = stats["pids"]["current"] or 0


def net_io(pid: int) -> tuple[int, int]:
    """(received, sent) bytes on the container's interfaces, loopback excluded (Docker's)."""
    rx = tx = 0
    try:
        with open(f"/proc/{pid}/net/dev") as f:
            lines = f.read().splitlines()[2:]  # two header lines
    except OSError:
        return 0, 0
    for line in lines:
        name, _, counters = line.partition(":")
        fields = counters.split()
        if name.strip() == "lo" or len(fields) < 9:
            continue
        rx += int(fields[0])
        tx += int(fields[8])
    return rx, tx
