"""Unpacking one layer tar (a changeset) into a directory usable as an overlay lower dir.

Runs inside the user namespace (see images.layers), so chown to image ids works through the
user's subuid map. What it refuses or neutralises, and why:

- names that climb out with `..` (refused) and absolute names (made relative, as Docker does);
- writing through a symlink: every parent of a member must be a real directory created in
  this layer, never a symlink (a symlink `a -> /etc` followed by `a/passwd` is refused);
- hard links whose target is outside the layer or not yet extracted (refused);
- device nodes (skipped: an unprivileged user namespace cannot create them).

Whiteouts become overlay's native format: `.wh.NAME` -> a 0/0 character device `NAME`, and
`.wh..wh..opq` -> the xattr `user.overlay.opaque=y` on its directory (overlay mounted with
`userxattr` in a user namespace reads the `user.overlay.*` names).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import tarfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import BinaryIO

from pycontainer.errors import HostError, IntegrityError, UnsafeArchive
from pycontainer.images.compression import CHUNK, DecompressingReader
from pycontainer.linux.fs import safe_join

WH_PREFIX = ".wh."
WH_OPAQUE = ".wh..wh..opq"
OPAQUE_XATTR = "user.overlay.opaque"


#: Small regular files are written by a few threads: creating a file costs far more in the
#: kernel (and on a busy disk) than parsing its header, and threads overlap that latency.
WRITERS = int(os.environ.get("PYC_UNPACK_WRITERS", "4"))
SMALL_FILE = 1 << 20
MAX_QUEUED = 128


@dataclass
class Extractor:
    """Extract tar members under `root`. `chown`: apply image ownership (False when only one
    id is mapped, so everything ends up owned by container root). `writers`: threads for
    small files (0: write everything in order, in this thread)."""

    root: str
    chown: bool = True
    writers: int = WRITERS
    size: int = 0
    skipped: list[str] = field(default_factory=list)
    #: what this extractor created: relative path -> "d" (a real directory) or "f" (else)
    _kinds: dict[str, str] = field(default_factory=dict)
    _dir_times: list[tuple[str, float]] = field(default_factory=list)
    _pending: set[str] = field(default_factory=set)
    _errors: list[BaseException] = field(default_factory=list)

    def extract_all(self, tf: tarfile.TarFile) -> None:
        self._pool = ThreadPoolExecutor(self.writers) if self.writers else None
        self._slots = threading.BoundedSemaphore(MAX_QUEUED)
        try:
            for member in tf:
                self.extract(tf, member)
        finally:
            self._barrier()
            if self._pool:
                self._pool.shutdown()
        for path, mtime in reversed(self._dir_times):
            with contextlib.suppress(OSError):
                os.utime(path, (mtime, mtime), follow_symlinks=False)

    def _submit(self, tf: tarfile.TarFile, m: tarfile.TarInfo, path: str) -> None:
        src = tf.extractfile(m)
        assert src is not None and self._pool is not None
        data = src.read()
        self.size += m.size
        if self._errors:
            raise self._errors[0]
        self._slots.acquire()
        self._pending.add(path)
        self._pool.submit(self._write_small, path, data, m)

    def _write_small(self, path: str, data: bytes, m: tarfile.TarInfo) -> None:
        try:
            self._write_file(path, m, data)
        except BaseException as exc:  # noqa: BLE001 - re-raised by the reading thread
            self._errors.append(exc)
        finally:
            self._slots.release()

    def _write_file(self, path: str, m: tarfile.TarInfo, data: bytes | BinaryIO) -> None:
        """Create a regular file with its content and attributes, all through one fd: the
        path is looked up once (lookups are a large part of the kernel's work here)."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                     | os.O_CLOEXEC, 0o600)
        try:
            if isinstance(data, bytes):
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
            else:
                while chunk := data.read(CHUNK):
                    os.write(fd, chunk)
            if self.chown:
                self._chown(m, lambda: os.fchown(fd, m.uid, m.gid))
            os.fchmod(fd, m.mode & 0o7777)  # after chown, which clears set-id bits
            self._xattrs(path, m)
            os.utime(fd, (m.mtime, m.mtime))
        finally:
            os.close(fd)

    def _barrier(self) -> None:
        """Wait until every queued file is written (before touching a path one may use)."""
        if self._pending:
            for _ in range(MAX_QUEUED):
                self._slots.acquire()
            for _ in range(MAX_QUEUED):
                self._slots.release()
            self._pending.clear()
        if self._errors:
            raise self._errors[0]

    def _wait_for(self, path: str) -> None:
        if path in self._pending:
            self._barrier()

    def extract(self, tf: tarfile.TarFile, m: tarfile.TarInfo) -> None:
        rel = self._relative(m.name)
        if not rel:  # the layer root itself: take its mode, not its place
            if m.isdir():
                self._attrs(self.root, m)
            return
        parent, base = os.path.split(rel)
        parent_path = self._parent(parent)
        if base.startswith(WH_PREFIX):
            self._whiteout(parent_path, base)
            return
        path = os.path.join(parent_path, base)
        if m.isdir():
            self._mkdir(path, rel)
        else:
            self._clear(path, rel)
            if m.isreg():
                if self._pool and m.size <= SMALL_FILE:
                    self._submit(tf, m, path)
                else:
                    src = tf.extractfile(m)
                    assert src is not None
                    self._write_file(path, m, src)  # type: ignore[arg-type]
                    self.size += m.size
                self._kinds[rel] = "f"
                return
            if not self._create(m, path):
                return
            self._kinds[rel] = "f"
        self._attrs(path, m)

    def _relative(self, name: str) -> str:
        """The member's path relative to the layer root; absolute names are made relative,
        names that climb out with ".." are refused (by safe_join)."""
        parts = [p for p in name.split("/") if p and p != "."]
        if ".." in parts or "\\" in name:
            return str(safe_join("/", name))[1:]
        return "/".join(parts)

    def _parent(self, rel_dir: str) -> str:
        """The real directory `root/rel_dir`, creating missing levels; never via a symlink.

        What exists is known from `_kinds` (the layer dir starts empty and only this
        extractor writes to it), so no lstat is needed: that keeps the kernel work down to
        the creates themselves."""
        if not rel_dir:
            return self.root
        kind = self._kinds.get(rel_dir)
        path = os.path.join(self.root, rel_dir)
        if kind == "d":
            return path
        if kind is not None:
            raise UnsafeArchive(f"layer writes through {rel_dir!r}, which is not a "
                                "directory (a symlink escape?)")
        self._parent(os.path.dirname(rel_dir))
        os.mkdir(path, 0o755)
        self._kinds[rel_dir] = "d"
        return path

    def _mkdir(self, path: str, rel: str) -> None:
        kind = self._kinds.get(rel)
        if kind == "d":
            return
        if kind is not None:
            self._clear(path, rel)
        os.mkdir(path, 0o700)
        self._kinds[rel] = "d"

    def _clear(self, path: str, rel: str) -> None:
        """Remove whatever an earlier member put at `path`, so a new entry replaces it
        (never open through it)."""
        kind = self._kinds.pop(rel, None)
        if kind is None:
            return
        self._barrier()  # a queued file may be this path or live below it
        if kind == "d":
            shutil.rmtree(path)
            prefix = rel + "/"
            self._kinds = {k: v for k, v in self._kinds.items() if not k.startswith(prefix)}
        else:
            os.unlink(path)

    def _create(self, m: tarfile.TarInfo, path: str) -> bool:
        if m.issym():
            os.symlink(m.linkname, path)
        elif m.islnk():
            self._hardlink(m, path)
        elif m.isfifo():
            os.mkfifo(path, 0o600)
        else:  # character and block devices: not creatable rootless
            self.skipped.append(m.name)
            return False
        return True

    def _hardlink(self, m: tarfile.TarInfo, path: str) -> None:
        target_rel = self._relative(m.linkname)
        parent, base = os.path.split(target_rel)
        if not base:
            raise UnsafeArchive(f"hard link {m.name!r} points at the layer root")
        kind = self._kinds.get(target_rel)
        if kind is None:
            raise UnsafeArchive(f"hard link {m.name!r} -> {m.linkname!r}: target is not in "
                                "the layer")
        if kind == "d":
            raise UnsafeArchive(f"hard link {m.name!r} -> {m.linkname!r} is a directory")
        target = os.path.join(self.root, parent, base)
        self._wait_for(target)
        os.link(target, path, follow_symlinks=False)

    def _whiteout(self, parent: str, base: str) -> None:
        if base == WH_OPAQUE:
            try:
                os.setxattr(parent, OPAQUE_XATTR, b"y", follow_symlinks=False)
            except OSError as exc:
                raise HostError(f"cannot mark {parent} opaque: {exc.strerror}") from None
            return
        if base.startswith(WH_PREFIX + WH_PREFIX):  # other aufs metadata: meaningless here
            return
        name = base[len(WH_PREFIX):]
        path = os.path.join(parent, name)
        rel = os.path.relpath(path, self.root)
        self._clear(path, rel)
        try:
            os.mknod(path, stat.S_IFCHR | 0o000, os.makedev(0, 0))
        except OSError as exc:
            raise HostError(f"cannot create whiteout {rel}: {exc.strerror}") from None
        self._kinds[rel] = "f"

    def _attrs(self, path: str, m: tarfile.TarInfo) -> None:
        if self.chown:
            self._chown(m, lambda: os.lchown(path, m.uid, m.gid))
        self._xattrs(path, m)
        if m.issym():
            with contextlib.suppress(OSError):
                os.utime(path, (m.mtime, m.mtime), follow_symlinks=False)
            return
        os.chmod(path, m.mode & 0o7777)
        if m.isdir():
            self._dir_times.append((path, m.mtime))
        else:
            os.utime(path, (m.mtime, m.mtime))

    @staticmethod
    def _chown(m: tarfile.TarInfo, do: Callable[[], None]) -> None:
        try:
            do()
        except OSError as exc:
            if exc.errno != errno.EINVAL:
                raise
            raise HostError(
                f"{m.name} is owned by {m.uid}:{m.gid}, outside the ids mapped into the "
                "user namespace",
                hint="ask the administrator for a larger range in /etc/subuid and "
                     "/etc/subgid (usermod --add-subuids)") from None

    @staticmethod
    def _xattrs(path: str, m: tarfile.TarInfo) -> None:
        for key, value in m.pax_headers.items():
            if key.startswith("SCHILY.xattr."):
                with contextlib.suppress(OSError):  # e.g. trusted.* is not ours to set
                    os.setxattr(path, key[len("SCHILY.xattr."):],
                                value.encode("utf-8", "surrogateescape"),
                                follow_symlinks=False)


def unpack(stream: BinaryIO, root: str, chown: bool = True,
           writers: int = WRITERS) -> tuple[str, int, int]:
    """Unpack a (compressed) layer from `stream` into the existing dir `root`.

    Returns (diff id, uncompressed tar size, size of the unpacked files)."""
    reader = DecompressingReader(stream, threaded=True)
    tf = tarfile.open(fileobj=reader, mode="r|", bufsize=16384)  # type: ignore[call-overload]  # noqa: SIM115
    ex = Extractor(root, chown, writers)
    try:
        ex.extract_all(tf)
    except tarfile.TarError as exc:
        raise IntegrityError(f"layer is not a valid tar archive: {exc}") from None
    reader.drain()
    return reader.diff_id, reader.size, ex.size
