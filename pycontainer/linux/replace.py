"""Records rewritten in place by rename: one copy for the stores and the supervisor (which
imports nothing but `os` here, to stay small)."""

from __future__ import annotations

import os


def write_replace(path: str | os.PathLike[str], data: bytes, mode: int = 0o600) -> None:
    """Readers see the old or the new file, never a part. No fsync: these are hot paths
    (`run`, the supervisor's state) whose state is re-derived on the next sync; a crash may
    lose the last write, never leave a torn one (ext4's rename ordering, auto_da_alloc). The
    pid in the temporary name keeps two writers from sharing one."""
    tmp = f"{os.fspath(path)}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(tmp, path)
