"""Unpacked layers: `layers/<diff-id hex>/` directories, each usable as an overlay lower dir.

A layer is unpacked exactly once, by a child process inside a user namespace mapped like the
containers' (`linux.userns.default_mapping()`), so image ownership lands on the user's
subordinate ids. The child reads the layer from a pipe, so a pull can unpack while it
downloads. It unpacks into `layers/.tmp-<pid>-<hex>` and the parent renames that into place
only after both the compressed digest and the diff id are verified. If the parent dies, the
child sees the control pipe close and removes its temp dir itself: no half layer is visible.

Protocol with the child (one line of JSON on the result pipe, one byte on the control pipe):
    parent -> data pipe: the layer bytes, then close
    child  -> result:    {"diff_id", "tar_size", "size"} or {"error", "kind"}
    parent -> control:   b"c" (committed: keep) or b"a"/EOF (abort: the child removes)
"""

from __future__ import annotations

import array
import contextlib
import fcntl
import json
import os
import shutil
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TypedDict

from pycontainer import errors
from pycontainer.linux import userns
from pycontainer.linux.fs import atomic_write_json, read_json

if TYPE_CHECKING:
    from collections.abc import Callable



class LayerMeta(TypedDict, total=False):
    """layers/<hex>.json: an unpacked layer's diff id, unpacked size and tar size."""

    diff_id: str
    size: int
    tar_size: int
    split: bool  # a tar-split beside it rebuilds the layer tar (images.tarsplit)


class UnpackResult(LayerMeta, total=False):
    """The unpacker child's verdict: the layer's meta, or what went wrong."""

    error: str
    kind: str


F_SETPIPE_SZ = 1031
FS_IOC_GETFLAGS = 0x80086601
FS_IOC_SETFLAGS = 0x40086602
FS_TOPDIR_FL = 0x00020000
#: CPU time to create one file: ~10 us in a healthy ext4 block group, ~600 us in one whose
#: free inodes were all deleted in the last minute or so (see mark_topdir).
HOT_CREATE_NS = 150_000
PLACEMENT_TRIES = 4
_warned_single = False


def mapping() -> userns.IdMapping:
    """The id mapping for unpacking; warns once (one line) when only one id is mapped."""
    global _warned_single
    m = userns.default_mapping()
    if m.single and not _warned_single and os.getuid() != 0:
        _warned_single = True
        sys.stderr.write("WARN: no subordinate ids for this user (/etc/subuid): "
                         "all image files will be owned by root in containers\n")
    return m


def mark_topdir(path: Path) -> None:
    """Ask ext4 to place each layer dir made below `path` in a block group of its own
    (Orlov's top-level spreading: the group with the most free inodes and fewest dirs).

    Why: without it a layer's ~10k inodes go into the block group of the store's parent dir.
    On ext4 without a journal, allocating an inode scans the group's free slots from the
    start and skips every inode deleted in the last minute (`recently_deleted()`); a group
    where files were just removed (tmp dirs, a previous layer) makes each create walk
    thousands of slots: measured 2-5 s of kernel time for the Debian layer, 0.3 s in a fresh
    group. Elsewhere the flag only spreads layers across groups (as home dirs are), and
    file systems without it refuse the ioctl, which is fine."""
    flags = array.array("i", [0])
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        fcntl.ioctl(fd, FS_IOC_GETFLAGS, flags, True)
        if not flags[0] & FS_TOPDIR_FL:
            flags[0] |= FS_TOPDIR_FL
            fcntl.ioctl(fd, FS_IOC_SETFLAGS, flags, True)
    except OSError:
        pass
    finally:
        os.close(fd)


def make_layer_dir(layers_dir: Path) -> Path:
    """A new, empty `layers/.tmp-<pid>-<hex>` to unpack into, in a block group where creating
    files is cheap.

    The block group of a new dir below `layers/` is chosen by ext4 (mark_topdir), and may be
    one where a layer was just removed: then each of the layer's ~10k creates costs ~600 us
    of kernel time instead of ~10 (3-6 s in all). One probe file tells; another name makes
    ext4 start its search elsewhere. Placement only: any outcome is correct."""
    mark_topdir(layers_dir)
    tried: list[tuple[int, Path]] = []
    try:
        for _ in range(PLACEMENT_TRIES):
            tmp = layers_dir / f".tmp-{os.getpid()}-{os.urandom(6).hex()}"
            os.mkdir(tmp, 0o755)
            tried.append((_create_cost(tmp), tmp))
            if tried[-1][0] < HOT_CREATE_NS:
                break
    except BaseException:
        _rmdirs(p for _, p in tried)
        raise
    best = min(tried, key=lambda t: t[0])[1]
    _rmdirs(p for _, p in tried if p != best)
    return best


def _rmdirs(paths: Iterable[Path]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            os.rmdir(path)


def _create_cost(directory: Path) -> int:
    probe = directory / ".probe"
    start = time.thread_time_ns()
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    cost = time.thread_time_ns() - start
    os.close(fd)
    os.unlink(probe)
    return cost


class Unpacker:
    """One layer being unpacked by a child in the user namespace. Start it from a thread-free
    point (it forks); feed it with `write`, then `finish`, then `commit` or `abort`."""

    def __init__(self, layers_dir: Path, expected_diff_id: str = "",
                 id_mapping: userns.IdMapping | None = None) -> None:
        self.expected = expected_diff_id
        self.tmp = make_layer_dir(layers_dir)
        #: the tar-split the child writes (images.tarsplit); moved into place on commit
        self.split_tmp = Path(f"{self.tmp}.split")
        m = id_mapping or mapping()
        data_r, self._data_w = os.pipe()
        self._res_r, res_w = os.pipe()
        ctl_r, self._ctl_w = os.pipe()
        with contextlib.suppress(OSError):
            fcntl.fcntl(self._data_w, F_SETPIPE_SZ, 1 << 20)
        keep = (data_r, res_w, ctl_r)
        chown = not m.single or os.getuid() == 0

        def child() -> int:
            _close_others(keep)
            return _child_main(data_r, res_w, ctl_r, str(self.tmp), chown, self.expected,
                               str(self.split_tmp))

        if os.getuid() == 0:
            self.pid = _fork_plain(child)
        else:
            self.pid = userns.fork_in_userns(child, m)
        for fd in keep:
            os.close(fd)
        self.result: UnpackResult = {}

    def write(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view:
            try:
                n = os.write(self._data_w, view)
            except BrokenPipeError:
                return  # the child failed; finish() reports why
            view = view[n:]

    def feed(self, stream: BinaryIO) -> None:
        while chunk := stream.read(1 << 20):
            self.write(chunk)

    def finish(self) -> UnpackResult:
        """End of data: wait for the child's verdict; raises what went wrong in the child."""
        self._close_data()
        res_r, self._res_r = self._res_r, -1
        with os.fdopen(res_r, "rb") as f:
            line = f.readline()
        try:
            self.result = json.loads(line) if line else {"error": "layer unpacker died",
                                                         "kind": "HostError"}
        except ValueError:
            self.result = {"error": "layer unpacker sent garbage", "kind": "HostError"}
        if "error" in self.result:
            self._end(b"a")
            cls = getattr(errors, str(self.result.get("kind")), errors.PycError)
            if not (isinstance(cls, type) and issubclass(cls, errors.PycError)):
                cls = errors.PycError
            raise cls(str(self.result["error"]))
        return self.result

    def commit(self, final: Path) -> None:
        try:
            os.rename(self.tmp, final)
        except OSError:
            if not final.is_dir():  # someone else committed it meanwhile: keep theirs
                self._end(b"a")
                raise
            self._end(b"a")
            return
        self._end(b"c")

    def abort(self) -> None:
        self._close_data()
        if self._res_r >= 0:
            os.close(self._res_r)
            self._res_r = -1
        self._end(b"a")

    def _close_data(self) -> None:
        # Each fd is closed exactly once and forgotten: closing a number twice could close
        # a file another thread has opened since (a lock file, a socket).
        if self._data_w >= 0:
            os.close(self._data_w)
            self._data_w = -1

    def _end(self, verdict: bytes) -> None:
        if self._ctl_w < 0:
            return
        with contextlib.suppress(OSError):  # the child may be gone already
            os.write(self._ctl_w, verdict)
        os.close(self._ctl_w)
        self._ctl_w = -1
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def _close_others(keep: tuple[int, ...]) -> None:
    # Other layers' pipe ends must not stay open here, or their children never see EOF.
    lo = 3
    for fd in sorted(keep):
        os.closerange(lo, fd)
        lo = fd + 1
    os.closerange(lo, 65536)


def _fork_plain(child: Callable[[], int]) -> int:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        status = 1
        try:
            status = child()
        finally:
            os._exit(status)
    return pid


def _child_main(data_r: int, res_w: int, ctl_r: int, dest: str, chown: bool,
                expected: str, split: str) -> int:  # pragma: no cover - runs in the child
    from pycontainer.images import archive

    try:
        with os.fdopen(data_r, "rb", buffering=0) as stream:
            diff_id, tar_size, size, has_split = archive.unpack_split(stream, dest, chown, split)
        if expected and diff_id != expected:
            raise errors.IntegrityError(f"layer diff id mismatch: expected {expected}, "
                                        f"got {diff_id}")
        result: UnpackResult = {"diff_id": diff_id, "tar_size": tar_size, "size": size,
                                "split": has_split}
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises it
        kind = type(exc).__name__ if isinstance(exc, errors.PycError) else "PycError"
        msg = getattr(exc, "message", None) or f"unpacking layer: {exc}"
        result = {"error": msg, "kind": kind}
    with contextlib.suppress(OSError):
        os.write(res_w, json.dumps(result).encode() + b"\n")
    verdict = b""
    with contextlib.suppress(OSError):
        verdict = os.read(ctl_r, 1)
    if verdict != b"c":
        shutil.rmtree(dest, ignore_errors=True)
        with contextlib.suppress(OSError):
            os.unlink(split)
    return 0


class LayerStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def ensure(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, diff_id: str) -> Path:
        return self.root / diff_id.split(":", 1)[1]

    def meta_path(self, diff_id: str) -> Path:
        return self.root / (diff_id.split(":", 1)[1] + ".json")

    def split_path(self, diff_id: str) -> Path:
        """The layer's tar-split (images.tarsplit): its tar stream can be rebuilt."""
        return self.root / (diff_id.split(":", 1)[1] + ".tar-split.gz")

    def sources_path(self, diff_id: str) -> Path:
        """Where the layer's compressed forms are known to be (images.layersources)."""
        return self.root / (diff_id.split(":", 1)[1] + ".sources.json")

    def has_split(self, diff_id: str) -> bool:
        return self.split_path(diff_id).is_file()

    def has(self, diff_id: str) -> bool:
        return self.meta_path(diff_id).is_file() and self.path(diff_id).is_dir()

    def meta(self, diff_id: str) -> LayerMeta:
        try:
            obj: LayerMeta = read_json(self.meta_path(diff_id))
            return obj if isinstance(obj, dict) else {}
        except (OSError, ValueError):
            return {}

    def write_meta(self, diff_id: str, meta: LayerMeta) -> None:
        atomic_write_json(self.meta_path(diff_id), meta)

    def all(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return ["sha256:" + n for n in os.listdir(self.root)
                if len(n) == 64 and not n.startswith(".")]

    def remove(self, diff_ids: list[str]) -> None:
        """Remove layers (and stale temp dirs): inside the user namespace, because their
        files belong to subordinate ids the user cannot delete directly."""
        paths = [self.meta_path(d) for d in diff_ids]
        paths += [f(d) for d in diff_ids for f in (self.split_path, self.sources_path)]
        for p in paths:  # meta first: a layer without meta is not "present"
            with contextlib.suppress(FileNotFoundError):
                os.unlink(p)
        dirs = [str(self.path(d)) for d in diff_ids] + self._stale_temp()
        dirs = [d for d in dirs if os.path.lexists(d)]
        if dirs:
            remove_trees(dirs)

    def _stale_temp(self) -> list[str]:
        from pycontainer.images.blobs import pid_alive

        out = []
        if self.root.is_dir():
            for name in os.listdir(self.root):
                if name.startswith(".tmp-"):
                    pid = name.split("-")[1]
                    if pid.isdigit() and not pid_alive(int(pid)):
                        out.append(str(self.root / name))
        return out


def remove_trees(dirs: list[str]) -> None:
    def child() -> int:
        for d in dirs:
            _remove(d)
        return 0

    if os.getuid() == 0:
        for d in dirs:
            _remove(d)
        return
    userns.run_in_userns(child, mapping())


def _remove(path: str) -> None:
    # a stale temp may be a tar-split file (".tmp-<pid>-<hex>.split"), not a dir
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            os.unlink(path)
