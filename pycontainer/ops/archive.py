"""The Engine API's `/containers/{id}/archive` (what `docker cp` calls): stat a container
path, read it as a tar, extract a tar into a directory of the container.

Every path is looked up by a child that has the container's root as its `/`
(`container_fs.spawn_in_fs` + `entered_root`), so `..` and the container's symlinks resolve
inside it, never on the host. An upload is spooled first and checked to be a tar whose
members all stay below the target, so a bad body changes nothing in the container.
"""

from __future__ import annotations

import marshal
import os
import posixpath
import stat
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from pycontainer.errors import NotFound, PycError, UnsafeArchive, UsageError
from pycontainer.linux.inroot import entered_root, no_name_lookups
from pycontainer.ops import container_fs as cfs
from pycontainer.paths import Paths

# Go's os.FileMode type bits (the stat header's `mode` is one)
_DIR, _SYMLINK, _DEVICE, _PIPE, _SOCKET = 1 << 31, 1 << 27, 1 << 26, 1 << 25, 1 << 24
_SETUID, _SETGID, _CHARDEV, _STICKY = 1 << 23, 1 << 22, 1 << 21, 1 << 20


class PathNotFound(NotFound):
    pass


def go_mode(mode: int) -> int:
    """A Unix st_mode as Go's os.FileMode (what Docker's clients decode)."""
    out = mode & 0o777
    kind = stat.S_IFMT(mode)
    out |= {stat.S_IFDIR: _DIR, stat.S_IFLNK: _SYMLINK, stat.S_IFIFO: _PIPE,
            stat.S_IFSOCK: _SOCKET, stat.S_IFBLK: _DEVICE,
            stat.S_IFCHR: _DEVICE | _CHARDEV}.get(kind, 0)
    for bit, go in ((stat.S_ISUID, _SETUID), (stat.S_ISGID, _SETGID), (stat.S_ISVTX, _STICKY)):
        if mode & bit:
            out |= go
    return out


def container_path(path: str | None) -> str:
    """An absolute, normalised container path; a `..` that climbs above `/` is refused."""
    if not path:
        raise UsageError("path is required")
    depth = 0
    for part in path.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                raise UnsafeArchive(f"invalid path {path!r}: it climbs out of the container's "
                                    "root")
        elif part not in ("", "."):
            depth += 1
    norm = posixpath.normpath("/" + path.lstrip("/"))
    # Docker keeps a trailing "/." (the directory's contents) and "/" (must be a directory)
    if path.endswith("/.") and norm != "/":
        return norm + "/."
    return norm


def _stat_in_root(path: str) -> dict[str, Any]:
    st = os.lstat(path)  # FileNotFoundError: the caller's 404
    link = os.path.realpath(path) if stat.S_ISLNK(st.st_mode) else ""
    name = posixpath.basename(path.rstrip("/")) or "/"
    return {"name": name, "size": st.st_size, "mode": go_mode(st.st_mode),
            "mtime_ns": st.st_mtime_ns, "linkTarget": link}


def _run(paths: Paths, ref: str, fn: Callable[[], Any]) -> Any:
    """fn() in the container's root; its result, or its error raised here."""
    store, c = cfs._container(paths, ref)
    r, w = os.pipe()

    def child(root: str) -> None:
        os.close(r)
        no_name_lookups()
        try:
            with entered_root(root):
                result: Any = ("ok", fn())
        except FileNotFoundError as exc:
            result = ("missing", str(exc.filename or ""))
        except (OSError, PycError, tarfile.TarError) as exc:
            result = ("error", getattr(exc, "message", None) or str(exc))
        cfs._write_all(w, marshal.dumps(result))

    pid = cfs.spawn_in_fs(store, c, child)
    os.close(w)
    data = cfs._read_all(r)
    cfs.wait(pid)
    if not data:
        raise PycError(f"could not read the files of container {ref}")
    result = marshal.loads(data)
    if result[0] == "missing":
        raise PathNotFound(f"Could not find the file {result[1]} in container {ref}")
    if result[0] == "error":
        raise UsageError(result[1])
    return result[1]


def path_stat(paths: Paths, ref: str, path: str | None) -> dict[str, Any]:
    """Docker's container path stat: {name, size, mode (Go), mtime (RFC 3339), linkTarget}."""
    from pycontainer.formats.timestamps import rfc3339

    where = container_path(path)
    st = _run(paths, ref, lambda: _stat_in_root(where))
    return {"name": st["name"], "size": st["size"], "mode": st["mode"],
            "mtime": rfc3339(st["mtime_ns"]), "linkTarget": st["linkTarget"]}


def read_tar(paths: Paths, ref: str, path: str | None) -> tuple[dict[str, Any],
                                                                  Iterator[bytes]]:
    """(the path's stat, its tar stream): the entry is named as the path's last part.
    Closing the iterator early (a client gone) ends the child."""
    info = path_stat(paths, ref, path)  # 404 before any byte of the stream
    where = container_path(path)
    store, c = cfs._container(paths, ref)
    r, w = os.pipe()

    def child(root: str) -> None:
        os.close(r)
        no_name_lookups()
        with os.fdopen(w, "wb") as out, entered_root(root), \
                tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            tar.add(where.removesuffix("/."),
                    arcname=posixpath.basename(where.rstrip("/")) or ".")

    pid = cfs.spawn_in_fs(store, c, child)
    os.close(w)
    return info, _chunks(r, pid)


def export_tar(paths: Paths, ref: str) -> Iterator[bytes]:
    """`export` as a stream of chunks (the API's): the container's whole file system, as
    `container_fs.export` writes it. Closing the iterator early ends the child."""
    store, c = cfs._container(paths, ref)  # errors before the stream starts
    r, w = os.pipe()

    def child(root: str) -> None:
        os.close(r)  # else the child would hold its own reader and never see EPIPE
        no_name_lookups()  # numeric owners, as Docker's export
        with os.fdopen(w, "wb") as out, entered_root(root):
            cfs._tar_tree("/", out, skip_mounts=True)

    pid = cfs.spawn_in_fs(store, c, child)
    os.close(w)
    return _chunks(r, pid)


def _chunks(fd: int, pid: int) -> Iterator[bytes]:
    try:
        while data := os.read(fd, 1 << 16):
            yield data
    finally:
        os.close(fd)  # a writer left mid-stream gets EPIPE and exits
        cfs.wait(pid)


def _spool(chunks: Iterable[bytes], spool: IO[bytes]) -> None:
    for chunk in chunks:
        spool.write(chunk)
    spool.seek(0)


def check_tar(spool: IO[bytes]) -> None:
    """Refuse a body that is not a tar, or whose members would land above the target."""
    try:
        with tarfile.open(fileobj=spool, mode="r|") as tar:
            for member in tar:
                for name in (member.name, member.linkname if member.islnk() else ""):
                    norm = posixpath.normpath(name) if name else "."
                    if norm == ".." or norm.startswith("../") or name.startswith("/"):
                        raise UnsafeArchive(f"refusing to extract {member.name!r}: it would "
                                            "land outside the target directory")
    except tarfile.TarError as exc:
        raise UsageError(f"the request body is not a tar archive: {exc}") from None
    finally:
        spool.seek(0)


def write_tar(paths: Paths, ref: str, path: str | None, chunks: Iterable[bytes],
              no_overwrite_dir_non_dir: bool = False, copy_uid_gid: bool = False) -> None:
    """Extract the tar in `chunks` into the existing directory `path` of the container.
    Owned by the container's root unless `copy_uid_gid` keeps the tar's owners."""
    where = container_path(path)
    with tempfile.TemporaryFile(prefix="pyc-archive-") as spool:
        _spool(chunks, spool)
        check_tar(spool)

        def extract() -> None:
            if not os.path.exists(where):
                raise FileNotFoundError(2, "missing", path)
            if not os.path.isdir(where):
                raise UsageError("extraction point is not a directory")
            cfs.extract(spool, where, None, owner=None if copy_uid_gid else 0,
                        keep_kinds=no_overwrite_dir_non_dir)

        _run(paths, ref, extract)
