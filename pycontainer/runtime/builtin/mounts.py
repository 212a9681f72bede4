"""Mounting the spec's file systems into the rootfs, pivot_root, masked and read-only paths."""

from __future__ import annotations

import contextlib
import errno
import os
import stat

from pycontainer.linux import syscalls as sc
from pycontainer.oci.runtime import Mount, Spec

_FLAGS = {
    "ro": sc.MS_RDONLY, "nosuid": sc.MS_NOSUID, "nodev": sc.MS_NODEV, "noexec": sc.MS_NOEXEC,
    "sync": sc.MS_SYNCHRONOUS, "dirsync": sc.MS_DIRSYNC, "noatime": sc.MS_NOATIME,
    "nodiratime": sc.MS_NODIRATIME, "relatime": sc.MS_RELATIME,
    "strictatime": sc.MS_STRICTATIME, "bind": sc.MS_BIND, "rbind": sc.MS_BIND | sc.MS_REC,
}
_IGNORED = {"rw", "suid", "dev", "exec", "atime", "diratime", "defaults"}
_PROPAGATION = {"private", "rprivate", "slave", "rslave", "shared", "rshared",
                "unbindable", "runbindable"}

# statvfs flags the kernel locks on mounts inherited into a user namespace: a remount
# must keep them or it fails with EPERM.
_LOCKED = ((os.ST_RDONLY, sc.MS_RDONLY), (os.ST_NOSUID, sc.MS_NOSUID),
           (os.ST_NODEV, sc.MS_NODEV), (os.ST_NOEXEC, sc.MS_NOEXEC),
           (os.ST_NOATIME, sc.MS_NOATIME), (os.ST_NODIRATIME, sc.MS_NODIRATIME),
           (os.ST_RELATIME, sc.MS_RELATIME))


def parse_options(options: list[str]) -> tuple[int, str]:
    flags, data = 0, []
    for opt in options:
        if opt in _FLAGS:
            flags |= _FLAGS[opt]
        elif opt in _IGNORED or opt in _PROPAGATION:
            continue
        else:
            data.append(opt)
    return flags, ",".join(data)


def secure_join(root: str, path: str) -> str:
    """`root/path` with symlinks resolved *inside* root, so an image cannot point a mount
    target at the host."""
    todo = [p for p in path.split("/") if p not in ("", ".")]
    done: list[str] = []
    hops = 0
    while todo:
        part = todo.pop(0)
        if part == "..":
            if done:
                done.pop()
            continue
        full = os.path.join(root, *done, part)
        if os.path.islink(full):
            hops += 1
            if hops > 40:  # a link left in the result would be followed by the kernel
                raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), path)
            target = os.readlink(full)
            todo = [p for p in target.split("/") if p not in ("", ".")] + todo
            if target.startswith("/"):
                done = []
            continue
        done.append(part)
    return os.path.join(root, *done) if done else root


def _ensure_target(target: str, source_is_dir: bool) -> None:
    if os.path.lexists(target):
        return
    if source_is_dir:
        os.makedirs(target, 0o755, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), 0o755, exist_ok=True)
        os.close(os.open(target, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o644))


def remount_bind(target: str, flags: int) -> None:
    """Apply `flags` (ro, nosuid, ...) to an existing bind mount, keeping locked flags."""
    current = os.statvfs(target).f_flag
    for st_flag, ms_flag in _LOCKED:
        if current & st_flag:
            flags |= ms_flag
    sc.mount(None, target, None, sc.MS_BIND | sc.MS_REMOUNT | flags)


def mount_one(rootfs: str, m: Mount) -> None:
    target = secure_join(rootfs, m.destination)
    flags, data = parse_options(m.options)
    kind = m.type or ("bind" if flags & sc.MS_BIND else "none")
    if kind == "bind" or flags & sc.MS_BIND:
        src = m.source or ""
        _ensure_target(target, os.path.isdir(src))
        rec = sc.MS_REC if "rbind" in m.options else 0
        sc.mount(src, target, None, sc.MS_BIND | rec)
        extra = flags & ~(sc.MS_BIND | sc.MS_REC)
        if extra:
            remount_bind(target, extra)
        return
    _ensure_target(target, True)
    try:
        sc.mount(m.source or kind, target, kind, flags, data or None)
    except OSError as exc:
        if kind == "sysfs" and exc.errno in (errno.EPERM, errno.EACCES):
            # sysfs needs the network namespace's owner: fall back to the host's, read-only
            sc.mount("/sys", target, None, sc.MS_BIND | sc.MS_REC)
            remount_bind(target, sc.MS_RDONLY | sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC)
        elif kind == "mqueue" and exc.errno in (errno.EPERM, errno.EACCES):
            return  # no mqueue for this IPC namespace: Podman skips it too
        else:
            raise


# runtime-spec "default devices": every runtime provides them (rootless: bind-mounted from
# the host, since a user namespace cannot mknod).
DEFAULT_DEVICES = ("null", "zero", "full", "random", "urandom", "tty")


def default_devices(rootfs: str) -> None:
    dev = secure_join(rootfs, "/dev")
    for name in DEFAULT_DEVICES:
        target = os.path.join(dev, name)
        if os.path.lexists(target) and not os.path.isfile(target):
            continue
        _ensure_target(target, False)
        sc.mount(f"/dev/{name}", target, None, sc.MS_BIND)
        remount_bind(target, sc.MS_NOSUID | sc.MS_NOEXEC)


def dev_links(rootfs: str) -> None:
    dev = os.path.join(rootfs, "dev")
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2"),
                         ("core", "/proc/kcore"), ("ptmx", "pts/ptmx")):
        path = os.path.join(dev, name)
        if name == "core" and not os.path.exists("/proc/kcore"):
            continue  # as runc: no link to a file the kernel does not have
        if os.path.lexists(path):
            if name != "ptmx":
                continue
            os.unlink(path)
        os.symlink(target, path)


def pivot(rootfs: str) -> None:
    """runc's pivot_root(".", ".") trick: no temporary directory left in the rootfs."""
    os.chdir(rootfs)
    sc.pivot_root(".", ".")
    sc.umount2(".", sc.MNT_DETACH)
    os.chdir("/")


def mask_paths(paths: list[str]) -> None:
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            sc.mount("tmpfs", path, "tmpfs", sc.MS_RDONLY, None)
        else:
            sc.mount("/dev/null", path, None, sc.MS_BIND)


def readonly_paths(paths: list[str]) -> None:
    for path in paths:
        if not os.path.exists(path):
            continue
        sc.mount(path, path, None, sc.MS_BIND | sc.MS_REC)
        remount_bind(path, sc.MS_RDONLY | sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC)


def write_sysctls(values: dict[str, str]) -> None:
    """linux.sysctl: written under the new /proc before /proc/sys turns read-only (runc)."""
    for key, value in values.items():
        path = "/proc/sys/" + key.replace(".", "/")
        try:
            with open(path, "w") as f:
                f.write(value)
        except OSError as exc:
            raise OSError(exc.errno, f"cannot set sysctl {key}={value}: {exc.strerror}") from None


def propagation_flags(name: str | None) -> int:
    """`rootfsPropagation` as mount flags; runc's default is rslave."""
    base = {"private": sc.MS_PRIVATE, "slave": sc.MS_SLAVE, "shared": sc.MS_SHARED,
            "unbindable": sc.MS_UNBINDABLE}
    if not name:
        return sc.MS_REC | sc.MS_SLAVE
    if name.removeprefix("r") not in base or name not in _PROPAGATION:
        raise ValueError(f"invalid rootfsPropagation {name!r}")
    flags = base[name.removeprefix("r")]
    return flags | sc.MS_REC if name.startswith("r") else flags


def setup_rootfs(spec: Spec, rootfs: str) -> None:
    """Everything up to and including pivot_root, then the masks, in runc's order.

    The first step matters most when pyc runs as root: this mount namespace was copied from
    one whose mounts may be shared with the host's (systemd makes / rshared), and an unmount
    in a peer propagates back. Nothing is mounted or unmounted before / stops propagating
    to the host (runc's prepareRoot)."""
    propagation = propagation_flags(spec.linux.rootfs_propagation)
    sc.mount(None, "/", None, propagation)
    sc.mount(rootfs, rootfs, None, sc.MS_BIND | sc.MS_REC)
    for m in spec.mounts:
        mount_one(rootfs, m)
    default_devices(rootfs)
    dev_links(rootfs)
    pivot(rootfs)
    if propagation & sc.MS_SHARED:  # runc: a shared root is made so again after pivot_root
        sc.mount(None, "/", None, propagation)
    write_sysctls(spec.linux.sysctl)
    mask_paths(spec.linux.masked_paths)
    readonly_paths(spec.linux.readonly_paths)
    if spec.root_readonly:
        remount_bind("/", sc.MS_RDONLY)
    with contextlib.suppress(OSError):
        os.umask(0o022)
