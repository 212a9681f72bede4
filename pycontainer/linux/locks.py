"""flock(2)-based locks that serialise pyc processes working on the same object."""

from __future__ import annotations

import fcntl
import os
import time
from types import TracebackType

from pycontainer.errors import LockTimeout


class FileLock:
    """An exclusive (or shared) advisory lock on `path`, created if missing.

    The kernel drops a flock when its holder dies, so a killed pyc never leaves a stale lock.
    """

    def __init__(self, path: str | os.PathLike[str], shared: bool = False, timeout: float = 60):
        self.path = os.fspath(path)
        self.shared = shared
        self.timeout = timeout
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        op = fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX
        deadline = time.monotonic() + self.timeout
        delay = 0.001
        while True:
            try:
                fcntl.flock(fd, op | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(fd)
                    raise LockTimeout(
                        f"timed out waiting for lock {self.path}: another pyc holds it"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
