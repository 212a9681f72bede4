"""fuse-overlayfs: overlay semantics through FUSE where the kernel refuses a native mount."""

from __future__ import annotations

import os
import subprocess
import time
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


def mount(plan: RootfsPlan, target: str) -> int:
    """Start fuse-overlayfs on `target` in the foreground; returns its pid once mounted.

    The caller (the container's launcher) owns the process: it dies with the mount namespace
    owner's cleanup, which kills it after the container exits.
    """
    lowers = ":".join(reversed(plan.lowers))
    opts = f"lowerdir={lowers},upperdir={plan.upper},workdir={plan.work}"
    proc = subprocess.Popen(["fuse-overlayfs", "-f", "-o", opts, target],
                            stdin=subprocess.DEVNULL, close_fds=True)
    st_dev = os.stat(target).st_dev
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ContainerRuntimeError("fuse-overlayfs failed to mount the root file system")
        if os.stat(target).st_dev != st_dev:
            return proc.pid
        time.sleep(0.002)
    proc.kill()
    raise ContainerRuntimeError("fuse-overlayfs did not mount the root file system in time")
