"""One container's cgroup: move processes in, set limits, read statistics, freeze, kill, remove.

A `ContainerCgroup` is a version and its directories: v1 has one per controller
({"memory": ".../memory/.../pyc/ID", ...}), v2 one for all ({"": ".../pyc/ID"}). It holds no
other state, so the runtime stores `to_dict()` in the container's state and any later pyc
process (`stats`, `pause`, `rm`) rebuilds it with `from_dict()` — rediscovering the paths could
give another answer from a shell in another cgroup. Created by `cgroups.create()`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import time
from collections.abc import Callable, Mapping
from typing import TypedDict

from pycontainer.errors import ContainerRuntimeError, HostError
from pycontainer.linux.cgroup_limits import FLAGS, Limits, v1_files, v2_files
from pycontainer.linux.cgroup_record import CgroupJSON, CgroupRecord, dirs_of

V2 = ""  # the key of the single v2 directory in `dirs`
_SEE = "see `pyc system check`"


class ContainerCgroup:
    def __init__(self, version: str, dirs: dict[str, str],
                 warnings: list[str] | None = None) -> None:
        self.version = version
        self.dirs = dirs
        #: limits dropped under `[engine] cgroup_limits = "warn"`, for the caller to show
        self.warnings = warnings or []

    @property
    def enabled(self) -> bool:
        """False for the no-op cgroup of a host without delegation (and no limits asked)."""
        return bool(self.dirs)

    def to_dict(self) -> CgroupJSON:
        return {"version": self.version, "dirs": dict(self.dirs)}

    @classmethod
    def from_dict(cls, record: Mapping[str, object]) -> ContainerCgroup:
        return cls(str(record.get("version", "none")), dirs_of(record))

    def record(self) -> CgroupRecord:
        """What the container's state keeps of it."""
        return CgroupRecord(self.version, dict(self.dirs))

    @classmethod
    def from_record(cls, record: CgroupRecord | None) -> ContainerCgroup:
        """The container's cgroup from its state's record (None: the no-op cgroup)."""
        if record is None:
            return cls("none", {})
        return cls(record.version, dict(record.dirs))

    def _dir(self, ctrl: str) -> str | None:
        return self.dirs.get(V2 if self.version == "v2" else ctrl)

    def _file(self, ctrl: str, name: str) -> str | None:
        d = self._dir(ctrl)
        return os.path.join(d, name) if d else None

    # --- processes -------------------------------------------------------------------------

    def add(self, pid: int) -> None:
        """Move `pid` (and, from then on, its children) into the container's cgroup."""
        self.adder()(pid)

    def adder(self) -> Callable[[int], None]:
        """add() in two steps: open the cgroup.procs files now, move a pid in later. The
        launcher needs it: once the container's init has called pivot_root in the mount
        namespace they share, the launcher no longer sees the host's /sys/fs/cgroup."""
        fds: dict[str, int] = {}
        try:
            for d in sorted(set(self.dirs.values())):
                fds[d] = os.open(os.path.join(d, "cgroup.procs"), os.O_WRONLY | os.O_CLOEXEC)
        except OSError as exc:
            for fd in fds.values():
                os.close(fd)
            raise HostError(f"cannot open cgroup {exc.filename}: {exc.strerror}; "
                            f"{_SEE}") from None

        def add(pid: int) -> None:
            try:
                for d, fd in fds.items():
                    _write_pid(fd, pid, d, self.version)
            finally:
                for fd in fds.values():
                    os.close(fd)

        return add

    def procs(self) -> set[int]:
        """Every process in the cgroup, also in cgroups made below it (runc makes one)."""
        pids: set[int] = set()
        for d in set(self.dirs.values()):
            for sub in _tree(d):
                with contextlib.suppress(OSError):
                    pids.update(int(p) for p in read_file(os.path.join(sub, "cgroup.procs"))
                                .split())
        return pids

    def kill_all(self, timeout: float = 5.0) -> None:
        """SIGKILL every process in the cgroup and wait until none is left.

        v2's cgroup.kill is atomic; elsewhere the cgroup is frozen while we signal, so a fork
        loop cannot create processes faster than we kill them.
        """
        deadline = time.monotonic() + timeout
        kill_file = self._file(V2, "cgroup.kill") if self.version == "v2" else None
        delay = 0.005
        while pids := self.procs():
            if time.monotonic() > deadline:
                raise ContainerRuntimeError(f"processes {sorted(pids)} survived SIGKILL")
            if kill_file and os.path.exists(kill_file):
                write_file(kill_file, "1")
            else:
                self._kill_frozen(pids)
            time.sleep(delay)
            delay = min(delay * 2, 0.1)

    def _kill_frozen(self, pids: set[int]) -> None:
        can_freeze = self._freezer_file() is not None
        if can_freeze:
            with contextlib.suppress(ContainerRuntimeError, OSError):
                self.freeze(timeout=1.0)
            pids = self.procs()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        if can_freeze:  # a frozen task dies only once thawed
            with contextlib.suppress(ContainerRuntimeError, OSError):
                self.thaw()

    def remove(self, timeout: float = 5.0) -> None:
        """Remove the cgroup; call it on every exit path, it is idempotent.

        Retries while exiting tasks drain; processes still there after half the timeout (the
        orphans of a crashed runtime) are killed.
        """
        deadline = time.monotonic() + timeout
        killed = False
        for d in sorted(set(self.dirs.values())):
            while not _rmdir(d):
                now = time.monotonic()
                if not killed and now > deadline - timeout / 2:
                    killed = True
                    with contextlib.suppress(ContainerRuntimeError):
                        self.kill_all(timeout=max(0.1, deadline - now))
                elif now > deadline:
                    raise ContainerRuntimeError(f"cannot remove cgroup {d}: it is still busy")
                time.sleep(0.02)
            # the shared `pyc` level goes when its last container does; create() copes
            with contextlib.suppress(OSError):
                os.rmdir(os.path.dirname(d))

    # --- limits ----------------------------------------------------------------------------

    def update(self, limits: Limits) -> None:
        """Write every limit that `limits` sets (create and `pyc update`)."""
        files = v2_files(limits) if self.version == "v2" else v1_files(limits)
        if not files:
            return
        if self.version == "v1" and any(f[1] == "memory.memsw.limit_in_bytes" for f in files):
            # memsw must stay >= the memory limit at every step: lift it, then set both
            path = self._file("memory", "memory.memsw.limit_in_bytes")
            if path and os.path.exists(path):
                write_file(path, "-1")
        for ctrl, name, value in files:
            self._write_limit(ctrl, name, value)

    def _write_limit(self, ctrl: str, name: str, value: str) -> None:
        path = self._file(ctrl, name)
        if path is None:
            flags = "/".join(flag for flag, c in FLAGS.values() if c == ctrl)
            raise HostError(f"{flags} need the cgroup {ctrl} controller, which this "
                            f"container's cgroup lacks; {_SEE}")
        try:
            write_file(path, value)
        except FileNotFoundError:
            if name.startswith("memory.memsw") or name == "memory.swap.max":
                # Docker does the same: limit memory, say that swap is not limited
                self.warnings.append("the kernel does not account swap: memory limited "
                                     "without swap")
                return
            raise HostError(f"cannot set {name}: the {ctrl} controller is not enabled in "
                            f"{os.path.dirname(path)}; {_SEE}") from None
        except OSError as exc:
            raise ContainerRuntimeError(f"cannot set {name} to {value}: {exc.strerror}") from None

    # --- freezer ---------------------------------------------------------------------------

    def _freezer_file(self) -> str | None:
        path = (self._file(V2, "cgroup.freeze") if self.version == "v2"
                else self._file("freezer", "freezer.state"))
        return path if path and os.path.exists(path) else None

    def frozen(self) -> bool:
        path = self._freezer_file()
        if path is None:
            return False
        if self.version == "v2":
            return _keyed(os.path.join(os.path.dirname(path), "cgroup.events")).get("frozen") == 1
        return read_file(path) == "FROZEN"

    def freeze(self, timeout: float = 5.0) -> None:
        """Stop every process (`pyc pause`); returns once the kernel reports them frozen."""
        self._set_frozen(True, timeout)

    def thaw(self, timeout: float = 5.0) -> None:
        self._set_frozen(False, timeout)

    def _set_frozen(self, frozen: bool, timeout: float) -> None:
        path = self._freezer_file()
        if path is None:
            raise HostError(f"pausing needs the cgroup freezer, which this container's "
                            f"cgroup lacks; {_SEE}")
        value = ("1" if frozen else "0") if self.version == "v2" else (
            "FROZEN" if frozen else "THAWED")
        deadline = time.monotonic() + timeout
        while True:
            write_file(path, value)  # v1 may stay FREEZING: writing again retries the freeze
            if self.frozen() == frozen:
                return
            if time.monotonic() > deadline:
                if frozen:
                    with contextlib.suppress(OSError):
                        write_file(path, "0" if self.version == "v2" else "THAWED")
                raise ContainerRuntimeError(f"cgroup {os.path.dirname(path)} did not "
                                            f"{'freeze' if frozen else 'thaw'} in {timeout}s")
            time.sleep(0.01)

    # --- statistics ------------------------------------------------------------------------

    def oom_kills(self) -> int:
        """How many processes the memory limit killed (v2 memory.events, v1 memory.oom_control
        since Linux 4.13; failcnt is no proof: it also counts reclaim that succeeded)."""
        if self.version == "v2":  # memory.events counts the whole subtree
            path = self._file("memory", "memory.events")
            return _keyed(path).get("oom_kill", 0) if path else 0
        # v1 counts each cgroup alone: add those below (runc's, when it runs the container)
        d = self._dir("memory")
        return sum(_keyed(os.path.join(sub, "memory.oom_control")).get("oom_kill", 0)
                   for sub in (_tree(d) if d else []))

    def oom_killed(self) -> bool:
        return self.oom_kills() > 0

    def stats(self) -> CgroupStats:
        """{"memory": {usage, limit}, "cpu": {usage_ns}, "pids": {current, limit},
        "blkio": {read_bytes, write_bytes}, "oom_kills"}; missing controllers read as 0/None.
        Memory usage excludes inactive page cache, as `docker stats` shows it."""
        if not self.dirs:
            return {}
        v2 = self.version == "v2"
        return {
            "memory": _memory_stats(self._file, v2),
            "cpu": {"usage_ns": _cpu_usage_ns(self._file, v2)},
            "pids": _pids_stats(self._file, v2),
            "blkio": _io_bytes(self._file, v2),
            "oom_kills": self.oom_kills(),
        }


class CgroupStats(TypedDict, total=False):
    """`ContainerCgroup.stats()` ({} without a cgroup)."""

    memory: dict[str, int | None]  # usage, limit
    cpu: dict[str, int]  # usage_ns
    pids: dict[str, int | None]  # current, limit
    blkio: dict[str, int]  # read_bytes, write_bytes
    oom_kills: int


FileOf = Callable[[str, str], "str | None"]


def _read_int(path: str | None) -> int | None:
    if path is None:
        return None
    try:
        text = read_file(path)
    except OSError:
        return None
    return None if text == "max" else int(text)


def _memory_stats(file: FileOf, v2: bool) -> dict[str, int | None]:
    usage = _read_int(file("memory", "memory.current" if v2 else "memory.usage_in_bytes"))
    stat = _keyed(file("memory", "memory.stat"))
    if usage is not None:
        usage -= stat.get("inactive_file" if v2 else "total_inactive_file", 0)
    limit = _read_int(file("memory", "memory.max" if v2 else "memory.limit_in_bytes"))
    host = _host_memory()
    if limit is None or (host and limit > host):
        limit = host  # unlimited: Docker shows the host's memory
    return {"usage": max(usage, 0) if usage is not None else None, "limit": limit}


def _host_memory() -> int | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in read_file("/proc/meminfo").splitlines():
            if line.startswith("MemTotal:"):  # "MemTotal:  24683520 kB"
                return int(line.split()[1]) * 1024
    return None


def _cpu_usage_ns(file: FileOf, v2: bool) -> int:
    if v2:  # cpu.stat's usage_usec is core v2: there even without the cpu controller
        return _keyed(file("cpu", "cpu.stat")).get("usage_usec", 0) * 1000
    return _read_int(file("cpuacct", "cpuacct.usage")) or 0


def _pids_stats(file: FileOf, v2: bool) -> dict[str, int | None]:
    current = _read_int(file("pids", "pids.current"))
    if current is None:  # no pids controller: count the tasks
        path = file("pids", "cgroup.threads" if v2 else "tasks")
        with contextlib.suppress(OSError):
            current = len(read_file(path).split()) if path else None
    return {"current": current, "limit": _read_int(file("pids", "pids.max"))}


def _io_bytes(file: FileOf, v2: bool) -> dict[str, int]:
    read = write = 0
    path = (file("io", "io.stat") if v2
            else file("blkio", "blkio.throttle.io_service_bytes_recursive"))
    if path is None:
        return {"read_bytes": 0, "write_bytes": 0}
    with contextlib.suppress(OSError, ValueError):
        for line in read_file(path).splitlines():
            words = line.split()
            if v2:  # "8:0 rbytes=1 wbytes=2 rios=3 ..."
                kv = dict(w.split("=", 1) for w in words[1:] if "=" in w)
                read += int(kv.get("rbytes", 0))
                write += int(kv.get("wbytes", 0))
            elif len(words) == 3 and words[1] in ("Read", "Write"):  # "8:0 Read 4096"
                read += int(words[2]) if words[1] == "Read" else 0
                write += int(words[2]) if words[1] == "Write" else 0
    return {"read_bytes": read, "write_bytes": write}


def _write_pid(fd: int, pid: int, d: str, version: str) -> None:
    try:
        os.write(fd, str(pid).encode())
    except PermissionError:
        raise HostError(_add_denied(version, pid, d)) from None
    except OSError as exc:
        raise ContainerRuntimeError(
            f"cannot move process {pid} into cgroup {d}: {exc.strerror}") from None


def _add_denied(version: str, pid: int, d: str) -> str:
    if version == "v2":
        return (f"cannot move process {pid} into cgroup {d}: cgroup v2 lets a user move a "
                "process only within a subtree it owns, and pyc runs outside it; start pyc "
                f"from inside the delegated cgroup (e.g. `systemd-run --user --scope`); {_SEE}")
    return (f"cannot move process {pid} into cgroup {d}: permission denied (on cgroup v1 the "
            "process must still run as this user); " + _SEE)


def _tree(path: str) -> list[str]:
    """`path` and the cgroups below it."""
    return [sub for sub, _dirs, _files in os.walk(path)] or [path]


def _rmdir(path: str) -> bool:
    """True when `path` is gone; False while it still has tasks."""
    # cgroups the container made inside its own (nested engines, systemd) go first
    for sub, _dirs, _files in os.walk(path, topdown=False):
        if sub != path:
            with contextlib.suppress(OSError):
                os.rmdir(sub)
    try:
        os.rmdir(path)
    except FileNotFoundError:
        return True
    except OSError as exc:
        if exc.errno in (errno.EBUSY, errno.ENOTEMPTY):
            return False
        raise ContainerRuntimeError(f"cannot remove cgroup {path}: {exc.strerror}") from None
    return True


def _keyed(path: str | None) -> dict[str, int]:
    """A flat-keyed cgroup file ("key value" lines) as a dict; {} when missing."""
    out: dict[str, int] = {}
    if path is None:
        return out
    try:
        text = read_file(path)
    except OSError:
        return out
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        with contextlib.suppress(ValueError):
            out[key] = int(value)
    return out


def read_file(path: str) -> str:
    with open(path) as f:
        return f.read().strip()


def write_file(path: str, value: str) -> None:
    # cgroup files take one value per write(2); no O_CREAT: a missing file is a missing
    # controller, never something to create
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, value.encode())
    finally:
        os.close(fd)
