"""The launcher: the rootless half of starting a container, before any runtime runs.

It forks a process into a new user namespace mapped with the user's subordinate ids
(Podman's rootless user namespace, but one per container and without a pause process), gives
it a private mount namespace, mounts the container's rootfs there (native overlay,
fuse-overlayfs or the vfs copy) and then hands the bundle to the chosen runtime. Nothing is
mounted on the host, and everything disappears with the container's last process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pycontainer.linux import signals, userns
from pycontainer.linux import syscalls as sc
from pycontainer.oci.runtime import Spec
from pycontainer.runtime import select as runtimes
from pycontainer.runtime.base import ContainerError, Stdio
from pycontainer.storage.driver import RootfsPlan

if TYPE_CHECKING:
    from collections.abc import Callable

    from pycontainer.jsontypes import JSON

PR_SET_DUMPABLE = 4


@dataclass
class LaunchConfig:
    container_id: str
    bundle: str
    rootfs: JSON
    uid_map: list[list[int]] = field(default_factory=list)  # [inner, outer, count]
    gid_map: list[list[int]] = field(default_factory=list)
    single_mapping: bool = False
    runtime: str = "builtin"
    #: state directory for an external runtime (`runc --root`)
    runtime_root: str = ""
    #: join this user namespace (setns) instead of creating one: the rootless network
    #: namespace's, for user-defined networks, or another container's for `container:`
    userns_path: str = ""
    #: [[container path, volume dir]]: fill each new volume from the image before mounting
    copy_up: list[list[str]] = field(default_factory=list)
    #: the container's cgroup (linux.cgroups.ContainerCgroup.to_dict()); {}: none
    cgroup: JSON = field(default_factory=dict)

    def mapping(self) -> userns.IdMapping:
        def entries(rows: list[list[int]]) -> tuple[userns.IdMapEntry, ...]:
            return tuple(userns.IdMapEntry(*r) for r in rows)

        return userns.IdMapping(entries(self.uid_map), entries(self.gid_map),
                                self.single_mapping)

    @classmethod
    def with_mapping(cls, mapping: userns.IdMapping, **kw: Any) -> LaunchConfig:
        return cls(uid_map=[[e.inner, e.outer, e.count] for e in mapping.uids],
                   gid_map=[[e.inner, e.outer, e.count] for e in mapping.gids],
                   single_mapping=mapping.single, **kw)


@dataclass
class Launched:
    pid: int = 0
    launcher_pid: int = 0
    helper_pids: list[int] = field(default_factory=list)
    error: ContainerError | None = None


def mount_rootfs(plan: RootfsPlan, target: str) -> list[int]:
    """Mount the plan on `target` in the current mount namespace; helper pids (fuse)."""
    if plan.driver == "overlay":
        from pycontainer.storage import overlay

        overlay.mount(plan, target)
        return []
    if plan.driver == "fuse-overlayfs":
        from pycontainer.storage import fuse_overlay

        return fuse_overlay.mount(plan, target)
    sc.mount(plan.source, target, None, sc.MS_BIND | sc.MS_REC)
    return []


def _launcher(cfg: LaunchConfig, spec: Spec, stdio: Stdio, start_fd: int, error_fd: int,
              report_w: int) -> int:
    """Runs as root of the new user namespace (the process `A`)."""
    stage = "rootfs"
    try:
        # Becoming a subordinate uid (keep-id maps 0 elsewhere) cleared "dumpable": the user
        # could then not open /proc/PID/ns/net of the container for slirp4netns or a veth.
        sc.prctl(PR_SET_DUMPABLE, 1)
        sc.mount(None, "/", None, sc.MS_REC | sc.MS_PRIVATE)
        target = os.path.join(cfg.bundle, spec.root_path)
        for pid in mount_rootfs(RootfsPlan.from_dict(cfg.rootfs), target):
            os.write(report_w, f"H{pid}\n".encode())
        stage = "copy-up"
        copy_up(target, cfg.copy_up)
        stage = "create"
        runtime = runtimes.get(cfg.runtime, cfg.runtime_root)
        confine = _confiner(cfg, spec)  # before create: the init's pivot_root moves our root
        signals.reset()  # what runc (or the builtin init) and the container inherit
        pid = runtime.create(cfg.container_id, cfg.bundle, spec, stdio, start_fd, error_fd)
        stage = "cgroup"
        confine(pid)  # into its cgroup before it execs
        os.write(report_w, f"P{pid}\n".encode())
        os.close(report_w)
        stage = "start"
        runtime.start(cfg.container_id, start_fd, error_fd)
        return 0
    except ContainerError as exc:
        os.write(report_w, b"E" + exc.encode() + b"\n")
    except BaseException as exc:  # noqa: BLE001 - reported to the supervisor
        err = exc.errno if isinstance(exc, OSError) and exc.errno else 0
        os.write(report_w, b"E" + ContainerError(stage, err, str(exc)).encode() + b"\n")
    return 1


def _confiner(cfg: LaunchConfig, spec: Spec) -> Any:
    from pycontainer.runtime import confine

    if cfg.runtime in ("", "builtin", "pyc"):
        return confine.prepare(cfg.cgroup, spec.process.oom_score_adj)
    # runc has switched to the image's user by the time create returns (see confine.py);
    # it sets oomScoreAdj itself
    confine.prepare(cfg.cgroup, None, kill=False)(os.getpid())
    return lambda pid: None


def launch(cfg: LaunchConfig, spec: Spec, stdio: Stdio, start_fd: int, error_fd: int) -> Launched:
    """Fork the launcher and return the container's pid (or its error). The caller must be a
    child subreaper so that the container is reparented to it when the launcher exits."""
    report_r, report_w = os.pipe()

    def child() -> int:
        os.close(report_r)
        return _launcher(cfg, spec, stdio, start_fd, error_fd, report_w)

    if os.getuid() == 0:
        a_pid = _fork_root(child)
    elif cfg.userns_path:
        a_pid = _fork_joined(child, cfg.userns_path)
    else:
        a_pid = userns.fork_in_userns(child, cfg.mapping(), sc.CLONE_NEWNS)
    os.close(report_w)
    result = Launched(launcher_pid=a_pid)
    with os.fdopen(report_r, "rb") as f:
        for line in f:
            if line.startswith(b"H"):
                result.helper_pids.append(int(line[1:]))
            elif line.startswith(b"P"):
                result.pid = int(line[1:])
                break
            elif line.startswith(b"E"):
                result.error = ContainerError.decode(line[1:])
                break
    if result.pid == 0 and result.error is None:
        result.error = ContainerError("create", 0, "the container's launcher died")
    return result


def copy_up(rootfs: str, pairs: list[list[str]]) -> None:
    """Docker's volume copy-up, as root of the container's user namespace (owners kept): the
    image's content at each container path goes into the still-empty volume directory."""
    if not pairs:
        return
    from pycontainer.linux.copytree import copy_tree
    from pycontainer.runtime.builtin.mounts import secure_join

    for dest, volume_dir in pairs:
        src = secure_join(rootfs, dest)
        if os.path.isdir(src) and not os.path.islink(src) and not os.listdir(volume_dir):
            copy_tree(src, volume_dir)


def _fork_joined(child: Callable[[], int], userns_path: str) -> int:
    """Fork a launcher that joins an existing user namespace and unshares a mount
    namespace in it (the fork keeps this process single-threaded for setns)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover
        code = 1
        try:
            fd = os.open(userns_path, os.O_RDONLY | os.O_CLOEXEC)
            sc.setns(fd, sc.CLONE_NEWUSER)
            os.close(fd)
            os.setresgid(0, 0, 0)
            os.setresuid(0, 0, 0)
            sc.unshare(sc.CLONE_NEWNS)
            code = child()
        except BaseException as exc:  # noqa: BLE001 - reported on stderr, then exit
            import sys

            sys.stderr.write(f"Error: cannot join {userns_path}: {exc}\n")
        finally:
            os._exit(code)
    return pid


def _fork_root(child: Callable[[], int]) -> int:
    pid = os.fork()
    if pid == 0:  # pragma: no cover
        code = 1
        try:
            sc.unshare(sc.CLONE_NEWNS)
            code = child()
        finally:
            os._exit(code)
    return pid
