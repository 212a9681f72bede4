"""An overlay upper dir as an OCI layer tar (a changeset with whiteouts).

The upper dir holds a container's (or a build step's) changes in overlay's native format:
a removed file is a 0/0 character device, a directory that replaced a lower one carries the
`user.overlay.opaque=y` (or `trusted.` / fuse-overlayfs) xattr. The layer spec wants
`.wh.NAME` files and `.wh..wh..opq` markers instead.

It must be read from *inside* the user namespace: there, files owned by subordinate ids show
the ids the container saw (0, 1000, ...), which is what the tar must record, and root of the
namespace may read every file. `stream_upper` forks that reader and returns the pipe.

Reproducible: entries in sorted order (parents first), numeric ids without user names, and
with `epoch` (SOURCE_DATE_EPOCH) every mtime later than it is clamped to it.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from pycontainer.linux import userns

WH_PREFIX = ".wh."
WH_OPAQUE = ".wh..wh..opq"
OPAQUE_XATTRS = ("user.overlay.opaque", "trusted.overlay.opaque", "user.fuseoverlayfs.opaque")
#: overlay's own bookkeeping; never part of a layer
PRIVATE_XATTR_PREFIXES = ("user.overlay.", "trusted.overlay.", "user.fuseoverlayfs.")


@dataclass
class DiffOptions:
    epoch: int | None = None  # SOURCE_DATE_EPOCH: clamp mtimes
    #: container paths created only as mount points (/etc/hosts, cache targets, /proc...):
    #: removed from the upper dir first when empty and absent from every lower
    stubs: list[str] = field(default_factory=list)
    lowers: list[str] = field(default_factory=list)


def _is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def _is_opaque(path: str) -> bool:
    for name in OPAQUE_XATTRS:
        with contextlib.suppress(OSError):
            if os.getxattr(path, name, follow_symlinks=False) == b"y":
                return True
    return False


def _xattrs(path: str) -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError:
        return out
    for name in sorted(names):
        if name.startswith(PRIVATE_XATTR_PREFIXES):
            continue
        with contextlib.suppress(OSError):
            value = os.getxattr(path, name, follow_symlinks=False)
            out["SCHILY.xattr." + name] = value.decode("utf-8", "surrogateescape")
    return out


def walk(root: str, rel: str = "") -> Iterator[tuple[str, str, os.stat_result]]:
    """(relative path, host path, lstat) of everything below `root`, sorted, parents first."""
    base = os.path.join(root, rel) if rel else root
    for name in sorted(os.listdir(base)):
        path = os.path.join(base, name)
        relpath = f"{rel}/{name}" if rel else name
        st = os.lstat(path)
        yield relpath, path, st
        if stat.S_ISDIR(st.st_mode):
            yield from walk(root, relpath)


class _TarWriter:
    def __init__(self, out: BinaryIO, epoch: int | None) -> None:
        self.tar = tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT)  # noqa: SIM115
        self.epoch = epoch
        self.links: dict[tuple[int, int], str] = {}

    def info(self, name: str, st: os.stat_result) -> tarfile.TarInfo:
        ti = tarfile.TarInfo(name)
        ti.mode = stat.S_IMODE(st.st_mode)
        ti.uid, ti.gid, ti.uname, ti.gname = st.st_uid, st.st_gid, "", ""
        mtime = int(st.st_mtime)
        ti.mtime = min(mtime, self.epoch) if self.epoch is not None else mtime
        return ti

    def whiteout(self, rel: str, st: os.stat_result) -> None:
        parent, name = os.path.split(rel)
        ti = self.info(os.path.join(parent, WH_PREFIX + name), st)
        ti.mode = 0
        self.tar.addfile(ti)

    def add(self, rel: str, path: str, st: os.stat_result) -> None:
        ti = self.info(rel, st)
        ti.pax_headers = _xattrs(path)
        mode = st.st_mode
        if stat.S_ISDIR(mode):
            ti.type, ti.name = tarfile.DIRTYPE, rel + "/"
        elif stat.S_ISLNK(mode):
            ti.type, ti.linkname = tarfile.SYMTYPE, os.readlink(path)
        elif stat.S_ISFIFO(mode):
            ti.type = tarfile.FIFOTYPE
        elif stat.S_ISREG(mode):
            key = (st.st_dev, st.st_ino)
            if st.st_nlink > 1 and key in self.links:
                ti.type, ti.linkname = tarfile.LNKTYPE, self.links[key]
                self.tar.addfile(ti)
                return
            self.links[key] = rel
            ti.size = st.st_size
            with open(path, "rb") as f:
                self.tar.addfile(ti, f)
            return
        else:
            return  # sockets and devices: nothing a layer can carry rootless
        self.tar.addfile(ti)

    def close(self) -> None:
        self.tar.close()


def write_tar(upper: str, out: BinaryIO, epoch: int | None = None) -> None:
    """Write the layer tar of `upper` to `out` (call inside the user namespace)."""
    writer = _TarWriter(out, epoch)
    for rel, path, st in walk(upper):
        if _is_whiteout(st):
            writer.whiteout(rel, st)
            continue
        writer.add(rel, path, st)
        if stat.S_ISDIR(st.st_mode) and _is_opaque(path):
            marker = writer.info(f"{rel}/{WH_OPAQUE}", st)
            marker.mode = 0
            writer.tar.addfile(marker)
    writer.close()


def remove_stubs(upper: str, stubs: list[str], lowers: list[str]) -> None:
    """Drop mount-point stubs the runtime created (empty, and in no lower), then any parent
    directory that only existed for them."""
    for stub in sorted(stubs, key=lambda p: -p.count("/")):
        rel = stub.strip("/")
        while rel:
            path = os.path.join(upper, rel)
            if not _removable_stub(path, rel, lowers):
                break
            with contextlib.suppress(OSError):
                os.rmdir(path) if os.path.isdir(path) else os.unlink(path)
            rel = os.path.dirname(rel)


def _removable_stub(path: str, rel: str, lowers: list[str]) -> bool:
    try:
        st = os.lstat(path)
    except OSError:
        return False
    if stat.S_ISDIR(st.st_mode):
        if os.listdir(path) or _is_opaque(path):
            return False
    elif not (stat.S_ISREG(st.st_mode) and st.st_size == 0):
        return False
    return not any(os.path.lexists(os.path.join(lower, rel)) for lower in lowers)


@dataclass
class LayerStream:
    """The tar being written by the reader child: read `stream`, then `wait()`."""

    stream: BinaryIO
    pid: int

    def wait(self) -> int:
        with contextlib.suppress(OSError):
            self.stream.close()
        _, status = os.waitpid(self.pid, 0)
        return os.waitstatus_to_exitcode(status)


def stream_upper(upper: str, mapping: userns.IdMapping, opts: DiffOptions) -> LayerStream:
    """Fork a reader in a user namespace mapped like the container's; it writes the layer
    tar of `upper` to the returned stream (removing `opts.stubs` first)."""
    read_fd, write_fd = os.pipe()

    def child() -> int:
        os.close(read_fd)
        with os.fdopen(write_fd, "wb") as out:
            remove_stubs(upper, opts.stubs, opts.lowers)
            write_tar(upper, out, opts.epoch)
        return 0

    if os.getuid() == 0:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - child
            code = 1
            try:
                code = child()
            finally:
                os._exit(code)
    else:
        pid = userns.fork_in_userns(child, mapping)
    os.close(write_fd)
    return LayerStream(os.fdopen(read_fd, "rb"), pid)
