"""COPY / ADD / WORKDIR: file operations on the step's overlay, in a user namespace child.

The child mounts the parent state's layers with a fresh upper dir (and, for `--from`, the
source stage read-only), carries out the operation with `build.copier.apply` as root of the
namespace (so `--chown` reaches any container id), unmounts, and writes the upper dir as a
layer tar to the parent, which stores it. Overlay copy-up keeps the parents' metadata, so
the layer records existing directories exactly as the image had them, as Docker's do.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from pycontainer.build import copier
from pycontainer.build.backend import Layer, State
from pycontainer.build.copier import FsOp
from pycontainer.errors import BuildError, PycError
from pycontainer.linux import syscalls as sc
from pycontainer.linux import userns
from pycontainer.ops.build.store import ingest
from pycontainer.storage import overlay
from pycontainer.storage.diff import LayerStream, write_tar
from pycontainer.storage.driver import RootfsPlan

if TYPE_CHECKING:
    from pycontainer.ops.build.backend import StoreBackend

#: rootless on the host: the overlays a build mounts in its user namespace need `userxattr`
#: (decided here, in the CLI process: inside the namespace getuid() is always 0)
HOST_ROOTLESS = os.getuid() != 0


def fs_step(b: StoreBackend, state: State, op: FsOp, source: State | None) -> Layer | None:
    work = b.work_dir("fs")
    try:
        plan = b.prepare_rootfs(work / "storage", b.lowers(state))
        src_lowers = [str(p) for p in b.lowers(source)] if source is not None else None
        stream = _fork(b, plan, work, op, src_lowers)
        failed: PycError | None = None
        try:
            layer = ingest(b.store, stream.stream)
        except PycError as exc:  # the child's own error, when it has one, says more
            failed = exc
        code = stream.wait()
        if code != 0:
            raise BuildError(_child_error(work) or f"{op.kind} failed (status {code})")
        if failed is not None:
            raise failed
        return layer
    finally:
        b.remove_work(work)


def _child_error(work: Path) -> str:
    try:
        return str(json.loads((work / "error.json").read_text())["error"])
    except (OSError, ValueError, KeyError):
        return ""


def mount_view(lowers: list[str], target: str) -> None:
    """Mount layers read-only at `target` (overlay needs two lowers without an upper)."""
    if len(lowers) == 1:
        sc.mount(lowers[0], target, None, sc.MS_BIND | sc.MS_REC)
    elif lowers:
        opts = "lowerdir=" + ":".join(reversed(lowers))
        opts += ",userxattr" if HOST_ROOTLESS else ""
        sc.mount("overlay", target, "overlay", sc.MS_RDONLY, opts)


def _fork(b: StoreBackend, plan: RootfsPlan, work: Path, op: FsOp,
          src_lowers: list[str] | None) -> LayerStream:
    read_fd, write_fd = os.pipe()
    merged, src = work / "merged", work / "src"
    merged.mkdir()
    src.mkdir()

    def child() -> int:  # pragma: no cover - runs in the user namespace
        os.close(read_fd)
        try:
            sc.mount(None, "/", None, sc.MS_REC | sc.MS_PRIVATE)
            overlay.mount(plan, str(merged))
            if src_lowers is not None:
                mount_view(src_lowers, str(src))
                op.src_root = str(src)
            copier.apply(op, str(merged))
            os.chdir("/")
            sc.umount2(str(merged), sc.MNT_DETACH)
            with os.fdopen(write_fd, "wb") as out:
                write_tar(plan.upper, out, b.epoch)
            return 0
        except Exception as exc:  # noqa: BLE001 - reported to the parent through a file
            msg = getattr(exc, "message", None) or f"{op.kind}: {exc}"
            (work / "error.json").write_text(json.dumps({"error": msg}))
            return 1

    pid = userns.fork_in_userns(child, b.mapping, sc.CLONE_NEWNS)
    os.close(write_fd)
    return LayerStream(os.fdopen(read_fd, "rb"), pid)
