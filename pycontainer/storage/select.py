"""Choosing the storage driver for container root file systems, and saying why.

Native overlay inside the user namespace (kernel >= 5.11 with `userxattr`) is fastest; where it
cannot be mounted, fuse-overlayfs (needs the program and read-write /dev/fuse); the copying
`vfs` driver always works. The probe result is cached in the runtime dir because it costs a
fork and a mount, and `run` is a hot path.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pycontainer.errors import PycError
from pycontainer.linux import syscalls, userns
from pycontainer.storage.overlay import overlay_options

if TYPE_CHECKING:
    from pycontainer.storage.driver import Driver

DRIVERS = ("overlay", "fuse-overlayfs", "vfs")


@dataclass(frozen=True)
class DriverChoice:
    name: str
    reason: str


def probe_native_overlay(mapping: userns.IdMapping | None = None) -> str | None:
    """Try an overlay mount in a fresh user+mount namespace; None if it works, else why not."""
    import tempfile  # lazily: the probe runs once, its result is cached

    base = tempfile.mkdtemp(prefix="pyc-ovl-probe-")
    try:
        for d in ("l", "u", "w", "m"):
            os.mkdir(os.path.join(base, d))
        Path(base, "l", "f").write_bytes(b"x")

        def child() -> int:
            syscalls.mount(None, "/", None, syscalls.MS_REC | syscalls.MS_PRIVATE)
            opts = overlay_options(*(os.path.join(base, d) for d in ("l", "u", "w")))
            try:
                syscalls.mount("overlay", os.path.join(base, "m"), "overlay", 0, opts)
            except OSError as exc:
                return 100 + (exc.errno or 0) % 100
            return 0 if os.path.exists(os.path.join(base, "m", "f")) else 99

        if os.getuid() == 0:
            status = _fork_with_ns(child)
        else:
            status = userns.run_in_userns(
                child, mapping or userns.default_mapping(), syscalls.CLONE_NEWNS
            )
        if status == 0:
            return None
        if status >= 100:
            return f"mount failed: {os.strerror(status - 100)}"
        return f"probe exited with status {status}"
    except (OSError, PycError) as exc:  # any failure means "not usable", with the reason
        return str(exc)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _fork_with_ns(child: object) -> int:
    pid = os.fork()
    if pid == 0:  # pragma: no cover
        code = 1
        try:
            syscalls.unshare(syscalls.CLONE_NEWNS)
            code = child()  # type: ignore[operator]
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def fuse_overlayfs_problem() -> str | None:
    from pycontainer import binaries

    if not binaries.find("fuse-overlayfs"):
        return "fuse-overlayfs is not installed"
    if not os.access("/dev/fuse", os.R_OK | os.W_OK):
        return "/dev/fuse is not readable and writable"
    return None


def choose(runtime_dir: Path | None = None, forced: str | None = None) -> DriverChoice:
    """The driver to use; `forced` comes from config or PYC_STORAGE_DRIVER."""
    forced = forced or os.environ.get("PYC_STORAGE_DRIVER") or None
    if forced:
        return DriverChoice(forced, f"set by configuration ({forced})")
    cache = runtime_dir / "storage-driver.json" if runtime_dir else None
    if cache is not None:
        try:
            data = json.loads(cache.read_text())
            return DriverChoice(data["name"], data["reason"])
        except (OSError, ValueError, KeyError):
            pass
    choice = _probe_choice()
    if cache is not None and cache.parent.is_dir():
        from pycontainer.linux.fs import atomic_write_json

        atomic_write_json(cache, {"name": choice.name, "reason": choice.reason})
    return choice


def _probe_choice() -> DriverChoice:
    native = probe_native_overlay()
    if native is None:
        return DriverChoice("overlay", "native overlay mounts inside the user namespace")
    fuse = fuse_overlayfs_problem()
    if fuse is None:
        return DriverChoice("fuse-overlayfs", f"native overlay unavailable ({native})")
    return DriverChoice("vfs", f"native overlay unavailable ({native}); {fuse}")


def driver(name: str) -> Driver:
    """The driver named in a container's rootfs plan (here, beside the choice, not in
    `driver`, which the drivers themselves import)."""
    if name == "overlay":
        from pycontainer.storage.overlay import OverlayDriver

        return OverlayDriver()
    if name == "fuse-overlayfs":
        from pycontainer.storage.fuse_overlay import FuseOverlayDriver

        return FuseOverlayDriver()
    from pycontainer.storage.vfs import VfsDriver

    return VfsDriver()
