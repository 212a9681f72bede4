"""The copying driver: every layer copied into one directory. Slow, but works everywhere.

Whiteouts in unpacked layers are either overlay-style (a 0/0 character device, an opaque
xattr) or OCI-style (`.wh.NAME`, `.wh..wh..opq`); both are applied.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from pathlib import Path

from pycontainer.errors import ContainerRuntimeError
from pycontainer.linux import userns
from pycontainer.storage.driver import RootfsPlan, remove_tree

_OPAQUE_XATTRS = ("trusted.overlay.opaque", "user.overlay.opaque")


class VfsDriver:
    name = "vfs"

    def prepare(self, storage_dir: Path, lowers: list[Path]) -> RootfsPlan:
        storage_dir.mkdir(mode=0o755, exist_ok=True)
        target = storage_dir / "rootfs"
        target.mkdir(mode=0o755, exist_ok=True)

        def child() -> int:
            for layer in lowers:
                apply_layer(str(layer), str(target))
            return 0

        if os.getuid() == 0:
            child()
        elif userns.run_in_userns(child, userns.default_mapping()) != 0:
            raise ContainerRuntimeError("could not copy the image layers (vfs driver)")
        return RootfsPlan("vfs", [str(p) for p in lowers], source=str(target))

    def remove(self, storage_dir: Path, mapping: userns.IdMapping) -> None:
        remove_tree(storage_dir, mapping)


def _is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def _opaque(path: str) -> bool:
    for name in _OPAQUE_XATTRS:
        with contextlib.suppress(OSError):
            if os.getxattr(path, name, follow_symlinks=False) == b"y":
                return True
    return os.path.lexists(os.path.join(path, ".wh..wh..opq"))


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def apply_layer(src: str, dst: str) -> None:
    for root, dirs, files in os.walk(src):
        rel = os.path.relpath(root, src)
        out_dir = os.path.normpath(os.path.join(dst, rel))
        if rel != "." and _opaque(root) and os.path.isdir(out_dir):
            for entry in os.listdir(out_dir):
                _remove(os.path.join(out_dir, entry))
        for name in list(dirs) + files:
            _apply_entry(os.path.join(root, name), out_dir, name, name in dirs)


def _apply_entry(path: str, out_dir: str, name: str, is_dir: bool) -> None:
    st = os.lstat(path)
    if name == ".wh..wh..opq":
        return
    if name.startswith(".wh."):
        _remove(os.path.join(out_dir, name[4:]))
        return
    out = os.path.join(out_dir, name)
    if _is_whiteout(st):
        _remove(out)
        return
    if is_dir and not stat.S_ISLNK(st.st_mode):
        if not os.path.isdir(out) or os.path.islink(out):
            _remove(out)
            os.mkdir(out)
    else:
        _remove(out)
        if stat.S_ISLNK(st.st_mode):
            os.symlink(os.readlink(path), out)
        elif stat.S_ISREG(st.st_mode):
            shutil.copyfile(path, out, follow_symlinks=False)
        else:
            os.mknod(out, st.st_mode, st.st_rdev)
    with contextlib.suppress(OSError):
        os.lchown(out, st.st_uid, st.st_gid)
    if not stat.S_ISLNK(st.st_mode):
        os.chmod(out, stat.S_IMODE(st.st_mode))
        os.utime(out, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)
