"""Copy a directory tree keeping owners, modes, times, symlinks and xattrs (a volume's copy-up).

Meant to run as root of a container's user namespace, where `lchown` to the image's ids works
because they are mapped; outside one, ownership that cannot be set is skipped silently.
"""

from __future__ import annotations

import contextlib
import os
import stat


def copy_tree(src: str, dst: str) -> None:
    """Copy the content of directory `src` into the existing directory `dst`, and give `dst`
    the owner, mode and times of `src` (Docker's copy-up of an image path into a volume)."""
    st = os.lstat(src)
    for entry in os.scandir(src):
        _copy_entry(entry.path, os.path.join(dst, entry.name))
    _copy_meta(src, dst, st)


def _copy_entry(src: str, dst: str) -> None:
    st = os.lstat(src)
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        os.mkdir(dst, 0o700)
        for entry in os.scandir(src):
            _copy_entry(entry.path, os.path.join(dst, entry.name))
    elif stat.S_ISLNK(mode):
        os.symlink(os.readlink(src), dst)
    elif stat.S_ISREG(mode):
        _copy_file(src, dst)
    elif stat.S_ISFIFO(mode):
        os.mkfifo(dst, 0o600)
    else:
        return  # devices and sockets cannot be made in a user namespace: Docker skips too
    _copy_meta(src, dst, st)


def _copy_file(src: str, dst: str) -> None:
    fin = os.open(src, os.O_RDONLY | os.O_CLOEXEC)
    try:
        fout = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            size = os.fstat(fin).st_size
            copied = 0
            while copied < size:
                n = os.copy_file_range(fin, fout, size - copied)
                if n == 0:
                    break
                copied += n
        except OSError:
            # copy_file_range fails across some file systems (overlay lowers on old kernels)
            os.lseek(fin, 0, os.SEEK_SET)
            os.ftruncate(fout, 0)
            while chunk := os.read(fin, 1 << 20):
                os.write(fout, chunk)
        finally:
            os.close(fout)
    finally:
        os.close(fin)


def _copy_meta(src: str, dst: str, st: os.stat_result) -> None:
    link = stat.S_ISLNK(st.st_mode)
    with contextlib.suppress(OSError):
        for name in os.listxattr(src, follow_symlinks=False):
            if name.startswith(("user.", "security.capability")) and not name.startswith(
                    "user.overlay."):
                os.setxattr(dst, name, os.getxattr(src, name, follow_symlinks=False),
                            follow_symlinks=False)
    with contextlib.suppress(OSError):
        os.chown(dst, st.st_uid, st.st_gid, follow_symlinks=False)
    if not link:
        # after chown, which clears setuid/setgid bits
        os.chmod(dst, stat.S_IMODE(st.st_mode))
    with contextlib.suppress(OSError, NotImplementedError):
        os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)
