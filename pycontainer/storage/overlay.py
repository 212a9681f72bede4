"""Native overlay inside the user namespace (kernel >= 5.11 with `userxattr`)."""

from __future__ import annotations

import os
from pathlib import Path

from pycontainer.errors import ContainerRuntimeError
from pycontainer.linux import syscalls, userns
from pycontainer.storage.driver import RootfsPlan, remove_tree

# mount(2) data is limited to one page; longer lowerdir lists are passed relative to a
# common parent (the layer store), which the mounter chdirs into.
_PAGE = 4096


def overlay_options(lower: str, upper: str, work: str) -> str:
    opts = f"lowerdir={lower},upperdir={upper},workdir={work}"
    return opts + ",userxattr" if in_user_namespace() else opts


def in_user_namespace() -> bool:
    """True inside a user namespace (the mounter is uid 0 there, so getuid() cannot tell):
    overlay must then use user.overlay.* xattrs (`userxattr`), which layers unpacked in the
    namespace carry (opaque directories, redirects)."""
    try:
        with open("/proc/self/uid_map") as f:
            return f.read().split() != ["0", "0", "4294967295"]
    except OSError:
        return os.getuid() != 0


class OverlayDriver:
    name = "overlay"

    def prepare(self, storage_dir: Path, lowers: list[Path]) -> RootfsPlan:
        upper, work = storage_dir / "diff", storage_dir / "work"
        for d in (storage_dir, upper, work):
            d.mkdir(mode=0o755, exist_ok=True)
        return RootfsPlan("overlay", [str(p) for p in lowers], str(upper), str(work))

    def remove(self, storage_dir: Path, mapping: userns.IdMapping) -> None:
        remove_tree(storage_dir, mapping)


def mount(plan: RootfsPlan, target: str) -> None:
    """Mount `plan` on `target` (call inside the container's user and mount namespaces)."""
    lowers = list(reversed(plan.lowers))  # overlay lists the top-most layer first
    if not lowers:
        raise ContainerRuntimeError("an overlay needs at least one lower layer")
    if len(lowers) == 1:
        # overlay needs two lowers when there is no upper; with an upper one is fine
        pass
    opts = overlay_options(":".join(lowers), plan.upper, plan.work)
    if len(opts) >= _PAGE:
        parent = os.path.commonpath(lowers)
        os.chdir(parent)
        rel = ":".join(os.path.relpath(p, parent) for p in lowers)
        opts = overlay_options(rel, plan.upper, plan.work)
    syscalls.mount("overlay", target, "overlay", 0, opts)
