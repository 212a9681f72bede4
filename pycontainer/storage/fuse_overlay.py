"""fuse-overlayfs: overlay semantics through FUSE where the kernel refuses a native mount."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pycontainer.errors import ContainerRuntimeError
from pycontainer.linux import userns
from pycontainer.storage.driver import RootfsPlan, remove_tree


class FuseOverlayDriver:
    name = "fuse-overlayfs"

    def prepare(self, storage_dir: Path, lowers: list[Path]) -> RootfsPlan:
        upper, work = storage_dir / "diff", storage_dir / "work"
        for d in (storage_dir, upper, work):
            d.mkdir(mode=0o755, exist_ok=True)
        return RootfsPlan("fuse-overlayfs", [str(p) for p in lowers], str(upper), str(work))

    def remove(self, storage_dir: Path, mapping: userns.IdMapping) -> None:
        remove_tree(storage_dir, mapping)


def mount(plan: RootfsPlan, target: str) -> list[int]:
    """Mount `plan` on `target` with fuse-overlayfs (call inside the container's user and
    mount namespaces). It daemonizes once the mount is ready (its foreground mode does not
    serve requests reliably here); the daemon ends up a child of the supervisor, a child
    subreaper, which ends it after the container. Returns no pid to track."""
    lowers = ":".join(reversed(plan.lowers))
    opts = f"lowerdir={lowers},upperdir={plan.upper},workdir={plan.work}"
    from pycontainer import binaries

    res = subprocess.run([binaries.require("fuse-overlayfs"), "-o", opts, target],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, close_fds=True, timeout=30)
    if res.returncode != 0:
        raise ContainerRuntimeError(f"fuse-overlayfs failed: {res.stderr.strip()[-300:]}")
    return []
