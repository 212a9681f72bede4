"""Working on a container's files with its root as the process's `/`.

A path opened on the host side of a container's root file system follows the container's
symlinks on the host: `/target -> /` in the container makes `<rootfs>/target/etc/passwd` the
host's file (the CVE-2018-15664 class). With `chroot(rootfs)` every lookup the kernel does,
through absolute link targets and `..` alike, stays below the rootfs, exactly as it does for
a process inside the container. Meant for a child process that is root of the container's
user namespace in a private mount namespace (CAP_SYS_CHROOT there).
"""

from __future__ import annotations

import contextlib
import os
import tarfile
from collections.abc import Iterator


@contextlib.contextmanager
def entered_root(root: str) -> Iterator[None]:
    """Run the block with `root` as `/` (and the working directory), then return to the
    old root. Paths given to the block are container paths."""
    if os.path.realpath(root) == "/":
        yield
        return
    old_root = os.open("/", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    old_cwd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.chroot(root)
        os.chdir("/")
        try:
            yield
        finally:
            # back out: the caller unmounts the rootfs by its host path afterwards
            os.fchdir(old_root)
            os.chroot(".")
            os.fchdir(old_cwd)
    finally:
        os.close(old_root)
        os.close(old_cwd)


def no_name_lookups() -> None:
    """Keep tarfile from resolving owner names in this process.

    Inside a container's root, getpwuid() would read the container's nsswitch.conf and could
    load a `libnss_*.so` the container supplies into this process (CVE-2019-14271); the ids
    are what matters, so archives made here carry numeric owners only.
    """
    tarfile.pwd = None  # type: ignore[attr-defined]
    tarfile.grp = None  # type: ignore[attr-defined]
