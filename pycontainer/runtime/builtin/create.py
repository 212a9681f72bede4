"""`create` for the builtin runtime: unshare the spec's namespaces and fork the container."""

from __future__ import annotations

import os

from pycontainer.linux import syscalls as sc
from pycontainer.oci.runtime import Spec
from pycontainer.runtime.base import Stdio

NS_FLAGS = {
    "pid": sc.CLONE_NEWPID, "network": sc.CLONE_NEWNET, "ipc": sc.CLONE_NEWIPC,
    "uts": sc.CLONE_NEWUTS, "cgroup": sc.CLONE_NEWCGROUP,
    # The container gets a mount namespace of its own, copied from the launcher's (which
    # holds the rootfs): its pivot_root must not move the root of a fuse-overlayfs daemon
    # serving that rootfs from the launcher's namespace.
    "mount": sc.CLONE_NEWNS,
}


class BuiltinRuntime:
    name = "builtin"

    def create(self, container_id: str, bundle: str, spec: Spec, stdio: Stdio,
               start_fd: int, error_fd: int) -> int:
        """Called in the launcher (root of the user namespace, in the mount namespace that
        holds the rootfs). The spec's namespaces are new, except those given by path
        (joined with setns: `--network container:`)."""
        flags = 0
        for ns in spec.linux.namespaces:
            if ns.type in NS_FLAGS and not ns.path:
                flags |= NS_FLAGS[ns.type]
        for ns in spec.linux.namespaces:
            if ns.path:
                fd = os.open(ns.path, os.O_RDONLY | os.O_CLOEXEC)
                try:
                    sc.setns(fd, 0)
                finally:
                    os.close(fd)
        if flags:
            sc.unshare(flags)
        rootfs = os.path.join(bundle, spec.root_path)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the container
            from pycontainer.runtime.builtin.init import container_main

            container_main(spec, rootfs, stdio, start_fd, error_fd)
        return pid

    def start(self, container_id: str, start_fd: int, error_fd: int) -> None:
        return None  # the container's own process waits on start_fd
