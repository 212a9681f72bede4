"""User namespaces: /etc/subuid and /etc/subgid, id maps, and entering a mapped namespace.

A rootless container's user namespace maps container uid 0 to the user and container uids
1..N to the user's subordinate range, as Podman does. Writing a map with more than the user's
own id needs the setuid helpers newuidmap/newgidmap; with no subordinate range pyc falls back
to mapping only the user's own id (written directly, which the kernel allows).
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Callable
from dataclasses import dataclass

from pycontainer import binaries
from pycontainer.errors import HostError
from pycontainer.linux import syscalls

SUBUID = "/etc/subuid"
SUBGID = "/etc/subgid"


@dataclass(frozen=True)
class IdRange:
    """One line of /etc/subuid: `count` ids starting at `start` on the host."""

    start: int
    count: int


@dataclass(frozen=True)
class IdMapEntry:
    """One line of /proc/PID/uid_map: container ids `inner`.. map to host ids `outer`.."""

    inner: int
    outer: int
    count: int


@dataclass(frozen=True)
class IdMapping:
    uids: tuple[IdMapEntry, ...]
    gids: tuple[IdMapEntry, ...]
    #: True when only the user's own id is mapped (no subordinate ranges).
    single: bool = False

    def host_uid(self, inner: int) -> int | None:
        return _to_host(self.uids, inner)

    def host_gid(self, inner: int) -> int | None:
        return _to_host(self.gids, inner)

    @property
    def size(self) -> int:
        return sum(e.count for e in self.uids)


def _to_host(entries: tuple[IdMapEntry, ...], inner: int) -> int | None:
    for e in entries:
        if e.inner <= inner < e.inner + e.count:
            return e.outer + inner - e.inner
    return None


def parse_subid_file(text: str, user: str, uid: int) -> list[IdRange]:
    """The ranges for `user` (by name or numeric uid) in /etc/subuid-format text."""
    ranges = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(":")
        if len(parts) != 3 or parts[0] not in (user, str(uid)):
            continue
        try:
            start, count = int(parts[1]), int(parts[2])
        except ValueError:
            continue
        if count > 0:
            ranges.append(IdRange(start, count))
    return ranges


def subid_ranges(path: str, uid: int | None = None) -> list[IdRange]:
    uid = os.getuid() if uid is None else uid
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:
        user = str(uid)
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return []
    return parse_subid_file(text, user, uid)


def mapping_for(own: int, ranges: list[IdRange]) -> tuple[IdMapEntry, ...]:
    """Container 0 -> `own`, then the subordinate ranges in order from container id 1."""
    entries = [IdMapEntry(0, own, 1)]
    inner = 1
    for r in ranges:
        entries.append(IdMapEntry(inner, r.start, r.count))
        inner += r.count
    return tuple(entries)


def default_mapping() -> IdMapping:
    """The mapping rootless containers get; a single-id mapping without subordinate ids."""
    uid, gid = os.getuid(), os.getgid()
    uranges, granges = subid_ranges(SUBUID, uid), subid_ranges(SUBGID, uid)
    if not uranges or not granges or not have_idmap_helpers():
        return IdMapping((IdMapEntry(0, uid, 1),), (IdMapEntry(0, gid, 1),), single=True)
    return IdMapping(mapping_for(uid, uranges), mapping_for(gid, granges))


def keep_id_mapping(base: IdMapping, uid: int, gid: int) -> IdMapping:
    """`--userns=keep-id`: the user's own ids appear as themselves inside the container."""
    return IdMapping(_keep(base.uids, uid), _keep(base.gids, gid), base.single)


def _keep(entries: tuple[IdMapEntry, ...], own: int) -> tuple[IdMapEntry, ...]:
    # Host ids in order: own first, then the subordinate ranges; lay them out so that inner id
    # `own` is the host `own`, and the rest fill 0..own-1 and own+1.. in order.
    hosts = [(e.outer, e.count) for e in entries if not (e.count == 1 and e.outer == own)]
    out: list[IdMapEntry] = [IdMapEntry(own, own, 1)]
    inner = 0
    for outer, count in hosts:
        while count > 0:
            if inner == own:
                inner += 1
                continue
            limit = own - inner if inner < own else count
            take = min(count, limit)
            out.append(IdMapEntry(inner, outer, take))
            inner, outer, count = inner + take, outer + take, count - take
    return tuple(sorted(out, key=lambda e: e.inner))


def have_idmap_helpers() -> bool:
    return bool(binaries.find("newuidmap") and binaries.find("newgidmap"))


def format_map(entries: tuple[IdMapEntry, ...]) -> str:
    return "".join(f"{e.inner} {e.outer} {e.count}\n" for e in entries)


def write_maps(pid: int, mapping: IdMapping) -> None:
    """Give process `pid` (just unshared into a new user namespace) its id maps."""
    if mapping.single or os.getuid() == 0:
        if os.getuid() != 0:
            with open(f"/proc/{pid}/setgroups", "w") as f:
                f.write("deny")
        with open(f"/proc/{pid}/uid_map", "w") as f:
            f.write(format_map(mapping.uids))
        with open(f"/proc/{pid}/gid_map", "w") as f:
            f.write(format_map(mapping.gids))
        return
    procs = [
        _spawn_helper("newuidmap", pid, mapping.uids),
        _spawn_helper("newgidmap", pid, mapping.gids),
    ]
    for name, child in procs:
        _, status = os.waitpid(child, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise HostError(
                f"{name} failed to map ids for the user namespace",
                hint="run `pyc system check` to see what the host lacks",
            )


def _spawn_helper(name: str, pid: int, entries: tuple[IdMapEntry, ...]) -> tuple[str, int]:
    path = binaries.find(name)
    if path is None:
        raise HostError(f"{name} is not installed", hint="apt-get install uidmap")
    args = [name, str(pid)]
    for e in entries:
        args += [str(e.inner), str(e.outer), str(e.count)]
    return name, os.posix_spawn(path, args, os.environ)


def fork_in_userns(
    child: Callable[[], int], mapping: IdMapping, extra_flags: int = 0
) -> int:
    """Fork a process that enters a new user namespace mapped by `mapping`, then runs `child`.

    `child` runs as root of the new namespace (with `extra_flags` namespaces also unshared) and
    its return value is the process's exit status. Returns the child's pid; the caller reaps it.
    """
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(ready_r)
        os.close(go_w)
        status = 1
        try:
            syscalls.unshare(syscalls.CLONE_NEWUSER)
            os.write(ready_w, b"1")
            os.close(ready_w)
            if os.read(go_r, 1) != b"1":
                os._exit(1)
            os.close(go_r)
            os.setresgid(0, 0, 0)
            os.setresuid(0, 0, 0)
            if extra_flags:
                syscalls.unshare(extra_flags)
            status = child()
        except BaseException as exc:  # noqa: BLE001 - report and leave the child
            _child_error(exc)
        finally:
            os._exit(status)
    os.close(ready_w)
    os.close(go_r)
    try:
        if os.read(ready_r, 1) != b"1":
            os.waitpid(pid, 0)
            raise HostError(
                "cannot create a user namespace",
                hint="run `pyc system check` to see what the host lacks",
            )
        write_maps(pid, mapping)
        os.write(go_w, b"1")
    except BaseException:
        os.close(go_w)
        os.close(ready_r)
        os.waitpid(pid, 0)
        raise
    os.close(go_w)
    os.close(ready_r)
    return pid


def _child_error(exc: BaseException) -> None:
    import sys

    msg = getattr(exc, "message", None) or str(exc)
    try:
        sys.stderr.write(f"Error: {msg}\n")
        sys.stderr.flush()
    except OSError:
        pass


def run_in_userns(child: Callable[[], int], mapping: IdMapping, extra_flags: int = 0) -> int:
    """Run `child` in a fresh mapped user namespace and return its exit status."""
    pid = fork_in_userns(child, mapping, extra_flags)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)
