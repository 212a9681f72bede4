"""The storage driver contract: a container's root file system as a plan to mount.

`prepare` creates the container's writable layer and returns a `RootfsPlan`; the plan is
*executed* inside the container's own mount namespace (see runtime.launch), so nothing is
mounted on the host. `remove` deletes the writable layer (inside the user namespace when it
holds files owned by subordinate ids).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pycontainer.linux import userns
from pycontainer.oci.rootfs import RootfsPlan as RootfsPlan  # its home is the base layer

if TYPE_CHECKING:
    from collections.abc import Callable


class Driver(Protocol):
    name: str

    def prepare(self, storage_dir: Path, lowers: list[Path]) -> RootfsPlan: ...

    def remove(self, storage_dir: Path, mapping: userns.IdMapping) -> None: ...


def remove_tree(path: Path, mapping: userns.IdMapping) -> None:
    """Delete `path`, entering the user namespace when subordinate ids own parts of it."""
    if not os.path.lexists(path):
        return
    shutil.rmtree(path, onerror=_chmod_retry)
    if not os.path.lexists(path) or os.getuid() == 0:
        return

    def child() -> int:
        shutil.rmtree(path, ignore_errors=True)
        return 0

    userns.run_in_userns(child, mapping)
    shutil.rmtree(path, ignore_errors=True)


def _chmod_retry(func: Callable[[str], object], path: str, exc_info: object) -> None:
    # overlay's work/work is created mode 000: our own directories we may chmod and retry.
    with contextlib.suppress(OSError):
        os.chmod(os.path.dirname(path), 0o700)
        if os.path.isdir(path) and not os.path.islink(path):
            os.chmod(path, 0o700)
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
