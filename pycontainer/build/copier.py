"""COPY / ADD / WORKDIR as file operations: which source files, their content hash (for the
layer cache), and carrying them out on a mounted root file system.

Planning and hashing run in the CLI process on the build context (the user's own files);
`apply` runs in a child inside the user namespace, where `dst_root` is the step's overlay
mount and ownership can be set to any container id.

Docker's rules kept here: a directory source copies its *contents*; several sources (or a
glob matching several) need a destination ending in `/`; a destination that is an existing
directory (or ends in `/`) receives sources by their base name; missing parents are created
0755 root; files keep their mode and mtime unless `--chmod`; ownership is 0:0 from the
context and kept from a stage, unless `--chown`; symlinks are copied as symlinks, except
that a source named directly is followed inside the context (a link leading out of it is
"not found"; nothing outside is ever read); ADD unpacks local tar archives.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import json
import os
import shutil
import stat
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pycontainer.build.context import DockerIgnore
from pycontainer.errors import BuildError

if TYPE_CHECKING:
    from pycontainer.jsontypes import JSON

HASH_CHUNK = 1 << 20


@dataclass
class FsOp:
    """One filesystem step, as data (it crosses into the user namespace child)."""

    kind: str  # "copy" or "mkdir"
    dest: str  # absolute container path; a trailing "/" means "a directory"
    sources: list[str] = field(default_factory=list)  # relative to the source root
    src_root: str = ""  # host path (context dir, or where a stage is mounted)
    from_context: bool = True
    ignore: str = ""  # .dockerignore text (context only)
    dockerfile: str = "Dockerfile"
    chown: str | None = None
    chmod: str | None = None
    extract: bool = False  # ADD: unpack local tar archives
    #: ADD <url>: the downloaded file's mode and mtime (0600, Last-Modified)
    url_file: bool = False
    mtime: int | None = None

    def to_json(self) -> JSON:
        return dict(self.__dict__)


def url_name(url: str) -> str:
    """The file name ADD gives a download: the URL path's last part."""
    path = url.split("?", 1)[0].split("#", 1)[0].rstrip("/")
    return os.path.basename(path.split("://", 1)[-1].partition("/")[2]) or "download"


# -- sources ------------------------------------------------------------------------------------


def _has_glob(text: str) -> bool:
    return any(c in text for c in "*?[")


def _clean_rel(path: str) -> str:
    rel = os.path.normpath("/" + path).lstrip("/")
    return rel or "."


def match_sources(root: str, pattern: str, ignore: DockerIgnore | None) -> list[str]:
    """Relative paths under `root` that `pattern` names (Go filepath.Match per component)."""
    rel = _clean_rel(pattern)
    if not _has_glob(rel):
        # a link is looked up in the context, never outside it (Docker's scoped lookup)
        path = scoped_path(root, rel)
        if os.path.lexists(path) and not (ignore and rel != "." and ignore.excluded(rel)):
            return [rel]
        return []
    parts = rel.split("/")
    found = [""]
    for part in parts:
        nxt = []
        for base in found:
            try:
                names = sorted(os.listdir(scoped_path(root, base) if base else root))
            except OSError:
                continue
            nxt += [f"{base}/{n}" if base else n for n in names if fnmatch.fnmatchcase(n, part)]
        found = nxt
    return [f for f in found if not (ignore and ignore.excluded(f))]


def expand(op: FsOp) -> list[str]:
    """The op's sources, globbed; BuildError when one matches nothing."""
    ignore = DockerIgnore(op.ignore, op.dockerfile) if op.from_context else None
    out: list[str] = []
    for src in op.sources:
        hits = match_sources(op.src_root, src, ignore)
        # a glob can match a link whose target is not in the context (outside, say)
        if not hits or not all(os.path.lexists(scoped_path(op.src_root, h)) for h in hits):
            where = "build context" if op.from_context else "source stage"
            raise BuildError(f"file not found in {where} or excluded by .dockerignore: "
                             f"stat {src}: file does not exist")
        out += hits
    return out


def walk_source(root: str, rel: str, ignore: DockerIgnore | None) -> Iterator[str]:
    """`rel` and, for a directory, everything below it (sorted), minus ignored paths.

    `rel` itself is looked up inside `root` (a link to a directory of the context gives that
    directory's files); below it no link is followed: links are copied as links, so nothing
    outside the context is ever listed or read. `source_path` gives each one's real path.
    """
    yield rel
    yield from _walk_below(scoped_path(root, rel), rel, ignore)


def _walk_below(path: str, rel: str, ignore: DockerIgnore | None) -> Iterator[str]:
    if not _real_dir(path):
        return
    for name in sorted(os.listdir(path)):
        child = f"{rel}/{name}" if rel != "." else name
        full = os.path.join(path, name)
        if ignore is not None and ignore.excluded(child):
            if _real_dir(full) and not ignore.skip_dir(child):
                yield from _walk_below(full, child, ignore)
            continue
        yield child
        yield from _walk_below(full, child, ignore)


def _real_dir(path: str) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def source_path(base: str, src: str, rel: str) -> str:
    """The file `walk_source(root, src)` named `rel`, given `base = scoped_path(root, src)`."""
    if rel == src:
        return base
    return os.path.join(base, rel[len(src) + 1:] if src != "." else rel)


# -- content hash (the cache key of COPY / ADD) ----------------------------------------------


class HashCache:
    """Content hashes of files remembered by (size, mtime, ctime, inode): a fully cached
    rebuild reads no file whose metadata did not change."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.data: dict[str, list[Any]] = {}
        self.used: set[str] = set()
        self.dirty = False
        if path is not None:
            with contextlib.suppress(OSError, ValueError):
                loaded = json.loads(path.read_text())
                self.data = loaded if isinstance(loaded, dict) else {}

    def file_hash(self, path: str, st: os.stat_result) -> str:
        key = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
        hit = self.data.get(path)
        self.used.add(path)
        if hit and hit[:4] == key:
            return str(hit[4])
        h = hashlib.sha256()
        # O_NOFOLLOW: callers resolved the path in the context; a link swapped in since
        # is not read through
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC), "rb") as f:
            while chunk := f.read(HASH_CHUNK):
                h.update(chunk)
        self.data[path] = [*key, h.hexdigest()]
        self.dirty = True
        return h.hexdigest()

    def save(self) -> None:
        """Keep what this build used: files since deleted or no longer copied drop out."""
        if self.path is None or not (self.dirty or set(self.data) - self.used):
            return
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        tmp.write_text(json.dumps({k: v for k, v in self.data.items() if k in self.used}))
        os.replace(tmp, self.path)
        self.dirty = False


def content_hash(op: FsOp, cache: HashCache) -> str:
    """sha256 over the paths, modes and bytes (and link targets) of what `op` copies."""
    h = hashlib.sha256()
    ignore = DockerIgnore(op.ignore, op.dockerfile) if op.from_context else None
    for src in expand(op):
        base = scoped_path(op.src_root, src)  # a link cannot lead out of the context
        for rel in walk_source(op.src_root, src, ignore):
            path = source_path(base, src, rel)
            st = os.lstat(path)
            mode = stat.S_IMODE(st.st_mode)
            if stat.S_ISLNK(st.st_mode):
                entry = f"L {rel} {os.readlink(path)}"
            elif stat.S_ISDIR(st.st_mode):
                entry = f"D {rel} {mode:o}"
            elif stat.S_ISREG(st.st_mode):
                entry = f"F {rel} {mode:o} {cache.file_hash(path, st)}"
            else:
                entry = f"O {rel} {st.st_mode:o}"
            h.update(entry.encode("utf-8", "surrogateescape") + b"\n")
    return "sha256:" + h.hexdigest()


# -- applying (inside the user namespace) ----------------------------------------------------


def scoped_path(root: str, path: str, follow_last: bool = True) -> str:
    """`root/path` with symlinks resolved inside `root` (an image's absolute link points into
    the image, never at the host)."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    current, hops = "", 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            current = os.path.dirname(current)
            continue
        candidate = f"{current}/{part}"
        full = root + candidate
        if os.path.islink(full) and (parts or follow_last):
            hops += 1
            if hops > 40:  # a link left unresolved would be followed by the kernel
                raise BuildError(f"too many levels of symbolic links: {path}")
            target = os.readlink(full)
            parts = [p for p in target.split("/") if p not in ("", ".")] + parts
            current = "" if target.startswith("/") else current
            continue
        current = candidate
    return root + current


def _ids(spec: str, root: str) -> tuple[int, int]:
    """`--chown=user[:group]` by number or by name in the image's passwd/group."""
    user, _, group = spec.partition(":")
    uid = _lookup(root, "etc/passwd", user, 2)
    if group:
        gid = _lookup(root, "etc/group", group, 2)
    elif user.isdigit():
        gid = uid
    else:
        gid = _lookup(root, "etc/passwd", user, 3)
    return uid, gid


def _lookup(root: str, rel: str, name: str, column: int) -> int:
    if name.isdigit():
        return int(name)
    try:
        text = Path(scoped_path(root, rel)).read_text(errors="replace")
    except OSError:
        text = ""
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) > column and fields[0] == name:
            return int(fields[column])
    raise BuildError(f"unable to convert uid/gid chown string to host mapping: "
                     f"no such user or group {name!r}")


@dataclass
class _Target:
    uid: int | None
    gid: int | None
    mode: int | None
    ignore: DockerIgnore | None
    src_root: str
    #: (st_dev, st_ino) of a source copied with several links -> its copy: the other
    #: names become hard links to it (one inode, as BuildKit and buildah keep them)
    links: dict[tuple[int, int], str] = field(default_factory=dict)


def mkdirs(path: str, root: str, created: list[tuple[str, float, float]]) -> None:
    """`mkdir -p` as root 0755; remembers existing parents' times to restore (reproducible)."""
    if os.path.isdir(path):
        return
    parent = os.path.dirname(path)
    if parent != path and len(parent) >= len(root):
        mkdirs(parent, root, created)
    pst = os.stat(parent)
    created.append((parent, pst.st_atime, pst.st_mtime))
    os.mkdir(path, 0o755)  # owned by root of the user namespace, where this runs


def apply(op: FsOp, dst_root: str) -> None:
    """Carry out `op` on the mounted root `dst_root` (inside the user namespace)."""
    touched: list[tuple[str, float, float]] = []
    if op.kind == "mkdir":
        mkdirs(scoped_path(dst_root, op.dest), dst_root, touched)
    else:
        _copy(op, dst_root, touched)
    for path, atime, mtime in reversed(touched):  # parents keep their time, as in Docker
        with contextlib.suppress(OSError):
            os.utime(path, (atime, mtime))


def _copy(op: FsOp, dst_root: str, touched: list[tuple[str, float, float]]) -> None:
    sources = expand(op)
    uid = gid = None
    if op.chown:
        uid, gid = _ids(op.chown, dst_root)
    elif op.from_context:
        uid = gid = 0
    mode = int(op.chmod, 8) if op.chmod else None
    t = _Target(uid, gid, mode, DockerIgnore(op.ignore, op.dockerfile) if op.from_context
                else None, op.src_root)
    dest_is_dir = op.dest.endswith("/") or len(sources) > 1
    if len(sources) > 1 and not op.dest.endswith("/"):
        raise BuildError("When using COPY with more than one source file, the destination "
                         "must be a directory and end with a /")
    dest = scoped_path(dst_root, op.dest.rstrip("/") or "/")
    for src in sources:
        src_path = scoped_path(op.src_root, src)  # a link cannot lead out of the context
        if os.path.isdir(src_path):
            mkdirs(dest, dst_root, touched)
            _chown_new_dir(dest, t)
            _copy_tree(src, src_path, dest, t, touched)
        elif op.extract and _is_archive(src_path):
            mkdirs(dest, dst_root, touched)
            _extract(src_path, dest)
        else:
            target = os.path.join(dest, os.path.basename(src)) \
                if dest_is_dir or os.path.isdir(dest) else dest
            mkdirs(os.path.dirname(target), dst_root, touched)
            _copy_one(src_path, target, t, follow=True)
            if op.url_file:
                os.chmod(target, mode if mode is not None else 0o600)
                if op.mtime is not None:
                    os.utime(target, (op.mtime, op.mtime))


def _chown_new_dir(path: str, t: _Target) -> None:
    if t.uid is not None and t.gid is not None and not os.listdir(path):
        os.chown(path, t.uid, t.gid)


def _copy_tree(src: str, src_path: str, dest: str, t: _Target,
               touched: list[tuple[str, float, float]]) -> None:
    dirs: list[tuple[str, os.stat_result]] = []
    for rel in walk_source(t.src_root, src, t.ignore):
        if rel == src:
            continue
        sub = rel[len(src) + 1:] if src != "." else rel
        target = os.path.join(dest, sub)
        st = _copy_one(source_path(src_path, src, rel), target, t, follow=False)
        if st is not None and stat.S_ISDIR(st.st_mode):
            dirs.append((target, st))
    for target, st in reversed(dirs):  # directory times last: copying into them changes them
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))


def _copy_one(src: str, dst: str, t: _Target, follow: bool) -> os.stat_result | None:
    st = os.stat(src) if follow else os.lstat(src)
    fmt = stat.S_IFMT(st.st_mode)
    if os.path.lexists(dst) and not (fmt == stat.S_IFDIR and os.path.isdir(dst)):
        if os.path.isdir(dst) and not os.path.islink(dst):
            shutil.rmtree(dst)
        else:
            os.unlink(dst)
    if fmt == stat.S_IFDIR:
        if not os.path.isdir(dst):
            os.mkdir(dst, 0o755)
    elif fmt == stat.S_IFLNK:
        os.symlink(os.readlink(src), dst)
    elif fmt == stat.S_IFREG and st.st_nlink > 1 and (st.st_dev, st.st_ino) in t.links:
        os.link(t.links[(st.st_dev, st.st_ino)], dst)
        return st  # the same inode: its owner, mode and times are set already
    elif fmt == stat.S_IFREG:
        shutil.copyfile(src, dst, follow_symlinks=True)
        if st.st_nlink > 1:
            t.links[(st.st_dev, st.st_ino)] = dst
    else:
        return None  # devices, fifos and sockets are not copied
    uid = st.st_uid if t.uid is None else t.uid
    gid = st.st_gid if t.gid is None else t.gid
    os.chown(dst, uid, gid, follow_symlinks=False)
    if fmt != stat.S_IFLNK:
        os.chmod(dst, t.mode if t.mode is not None else stat.S_IMODE(st.st_mode))
    os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)
    return st


def _is_archive(path: str) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False


def _extract(archive: str, dest: str) -> None:
    with tarfile.open(archive, "r:*") as tar:
        extract_tar(tar, dest)


def _inside(root: str, path: str) -> bool:
    return path == root or path.startswith(root + "/")


def extract_tar(tar: tarfile.TarFile, dest: str) -> None:
    """Extract every member below `dest`, refusing names and links that lead out of it
    (checked member by member, so a symlink made by an earlier member counts); device
    nodes are skipped (a user namespace cannot make them)."""
    root = os.path.realpath(dest)
    if hasattr(tarfile, "fully_trusted_filter"):  # checked here, on every Python
        tar.extraction_filter = tarfile.fully_trusted_filter
    for member in tar:
        if member.isdev():
            continue
        name = os.path.normpath(member.name.lstrip("/"))
        parent = os.path.realpath(os.path.join(root, os.path.dirname(name)))
        if name.startswith("..") or not _inside(root, parent):
            raise BuildError(f"archive member {member.name!r} would leave the destination")
        if member.islnk():
            target = os.path.normpath(member.linkname.lstrip("/"))
            if target.startswith(".."):
                raise BuildError(f"archive link {member.name!r} points outside it")
            member.linkname = target
        member.name = name
        tar.extract(member, root, numeric_owner=True)


ApplyFn = Callable[[FsOp, str], None]
