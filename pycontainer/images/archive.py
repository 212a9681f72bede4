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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from pycontainer.errors import HostError, UnsafeArchive
from pycontainer.images import tarstream as ts
from pycontainer.images.compression import DecompressingReader
from pycontainer.images.tarsplit import SplitWriter
from pycontainer.linux.fs import safe_join

WH_PREFIX = ".wh."
WH_OPAQUE = ".wh..wh..opq"
OPAQUE_XATTR = "user.overlay.opaque"
SETID = 0o6000
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass
class Extractor:
    """Extract tar members under `root`. `chown`: apply image ownership (False when only one
    id is mapped, so everything ends up owned by container root).

    Each entry is created with its final mode (the umask is 0 while unpacking) and by the
    namespace's root, so it already has owner 0:0: chown and chmod are only called when
    the image says otherwise (kernel work per file is most of an unpack; this saves two of
    six calls for a typical file). Exceptions: chown clears set-id bits, so those files
    get chmod after it; a set-group-id directory gives new entries its group (and its bit
    to new subdirectories), so entries below one are always chowned and chmodded."""

    root: str
    chown: bool = True
    size: int = 0
    skipped: list[str] = field(default_factory=list)
    #: what this extractor created: relative path -> "d" (a real directory) or "f" (else)
    _kinds: dict[str, str] = field(default_factory=dict)
    #: directories (relative) with the set-group-id bit
    _setgid: set[str] = field(default_factory=set)
    _dir_times: list[tuple[str, int]] = field(default_factory=list)
    #: told where each file's content is in the stream (images.tarsplit); `lossy` once an
    #: entry replaced one written before (its content is gone: the split cannot rebuild it)
    split: SplitWriter | None = None
    lossy: bool = False

    def extract_all(self, tar: ts.TarReader) -> None:
        if os.stat(self.root).st_mode & stat.S_ISGID:  # e.g. a store in a shared dir
            self._setgid.add("")
        for member in tar:
            self.extract(tar, member)
        for path, mtime in reversed(self._dir_times):
            with contextlib.suppress(OSError):
                os.utime(path, ns=(mtime, mtime), follow_symlinks=False)

    def extract(self, tar: ts.TarReader, m: ts.Member) -> None:
        rel = self._relative(m.name)
        if not rel:  # the layer root itself: take its mode, not its place
            if m.type == ts.DIR:
                self._attrs(self.root, "", m, fresh=False)
            return
        parent, _, base = rel.rpartition("/")
        parent_path = self._parent(parent)
        if base.startswith(WH_PREFIX):
            self._whiteout(parent_path, base)
            return
        path = f"{parent_path}/{base}"
        if m.type == ts.DIR:
            if self._kinds.get(rel) == "d":  # listed again: only its attributes change
                self._attrs(path, rel, m, fresh=False)
                return
            self._clear(path, rel)
            os.mkdir(path, m.mode)
            self._kinds[rel] = "d"
            self._attrs(path, rel, m, fresh=parent not in self._setgid)
            return
        self._clear(path, rel)
        if m.type in ts.REGULAR:
            self._write_file(tar, m, path, parent)
        elif not self._create(m, path):
            return
        else:
            self._attrs(path, rel, m, fresh=m.type != ts.LNK and parent not in self._setgid)
        self._kinds[rel] = "f"

    def _write_file(self, tar: ts.TarReader, m: ts.Member, path: str, parent: str) -> None:
        """Create a regular file with its content and attributes, all through one fd: the
        path is looked up once (lookups are a large part of the kernel's work here)."""
        fd = os.open(path, _NEW_FILE, m.mode)
        if self.split is not None:
            self.split.file(path[len(self.root) + 1:], m.size)
        try:
            for piece in tar.data(m):
                while piece:
                    piece = piece[os.write(fd, piece):]
            if self.chown and (m.uid or m.gid or parent in self._setgid):
                self._chown(m, lambda: os.fchown(fd, m.uid, m.gid))
            if m.mode & SETID:  # after chown, which clears them
                os.fchmod(fd, m.mode)
            if m.pax:
                for key, value in m.xattrs():
                    with contextlib.suppress(OSError):  # e.g. trusted.* is not ours to set
                        os.setxattr(fd, key, value)
            os.utime(fd, ns=(m.mtime_ns, m.mtime_ns))
        finally:
            os.close(fd)
        self.size += m.size

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

    def _clear(self, path: str, rel: str) -> None:
        """Remove whatever an earlier member put at `path`, so a new entry replaces it
        (never open through it)."""
        kind = self._kinds.pop(rel, None)
        if kind is None:
            return
        self.lossy = True
        if kind == "d":
            shutil.rmtree(path)
            prefix = rel + "/"
            self._kinds = {k: v for k, v in self._kinds.items() if not k.startswith(prefix)}
        else:
            os.unlink(path)

    def _create(self, m: ts.Member, path: str) -> bool:
        if m.type == ts.SYM:
            os.symlink(m.linkname, path)
        elif m.type == ts.LNK:
            self._hardlink(m, path)
        elif m.type == ts.FIFO:
            os.mkfifo(path, m.mode)
        else:  # character and block devices: not creatable rootless; unknown types
            self.skipped.append(m.name)
            return False
        return True

    def _hardlink(self, m: ts.Member, path: str) -> None:
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

    def _attrs(self, path: str, rel: str, m: ts.Member, fresh: bool) -> None:
        """Owner, xattrs, mode and times of a non-regular entry. `fresh`: just created with
        m.mode by root, outside any set-group-id directory (see the class doc)."""
        if self.chown and (m.uid or m.gid or not fresh):
            self._chown(m, lambda: os.lchown(path, m.uid, m.gid))
        if m.pax:
            for key, value in m.xattrs():
                with contextlib.suppress(OSError):  # e.g. trusted.* is not ours to set
                    os.setxattr(path, key, value, follow_symlinks=False)
        if m.type == ts.SYM:
            with contextlib.suppress(OSError):
                os.utime(path, ns=(m.mtime_ns, m.mtime_ns), follow_symlinks=False)
            return
        # mkdir ignores set-id bits in its mode, and chown clears them on other entries
        if not fresh or m.mode & SETID:
            os.chmod(path, m.mode)
        if m.type == ts.DIR:
            if m.mode & stat.S_ISGID:
                self._setgid.add(rel)
            else:
                self._setgid.discard(rel)
            self._dir_times.append((path, m.mtime_ns))
        else:
            os.utime(path, ns=(m.mtime_ns, m.mtime_ns))

    @staticmethod
    def _chown(m: ts.Member, do: Callable[[], None]) -> None:
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


def unpack(stream: BinaryIO, root: str, chown: bool = True) -> tuple[str, int, int]:
    """Unpack a (compressed) layer from `stream` into the existing dir `root`.

    Returns (diff id, uncompressed tar size, size of the unpacked files)."""
    diff_id, tar_size, size, _ = unpack_split(stream, root, chown)
    return diff_id, tar_size, size


def unpack_split(stream: BinaryIO, root: str, chown: bool = True,
                 split_path: str = "") -> tuple[str, int, int, bool]:
    """Unpack a (compressed) layer from `stream` into the existing dir `root`, writing its
    tar-split to the new file `split_path` if given.

    Returns (diff id, uncompressed tar size, size of the unpacked files, split written)."""
    reader = DecompressingReader(stream, threaded=True)
    split = SplitWriter(split_path) if split_path else None
    ex = Extractor(root, chown, split=split)
    tar = ts.TarReader(reader.chunk, split.raw if split else None)
    umask = os.umask(0)  # entries are created with their final modes
    try:
        ex.extract_all(tar)
        if split is not None:  # the rest of the stream belongs to the diff id too
            split.raw(tar.rest())
            while chunk := reader.chunk():
                split.raw(chunk)
    except BaseException:
        if split is not None:
            split.discard()
        raise
    finally:
        os.umask(umask)
    reader.drain()
    if split is not None:
        if ex.lossy:
            split.discard()
        else:
            split.close()
    return reader.diff_id, reader.size, ex.size, split is not None and not ex.lossy
