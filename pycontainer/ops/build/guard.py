"""The build's guard: a small forked watcher that cleans up after a build killed by SIGKILL.

A RUN step's container is reparented to the build process (its child subreaper); when the
build is SIGKILLed the container's init is reparented again, to the host's init, and runs
on (Podman 4.3 leaves it too). PR_SET_PDEATHSIG cannot help: the launcher exits right after
creating the container (the death of that first parent would fire it), and setuid clears it.
So the build forks this guard once, with its scratch directory, and tells it over a pipe
which processes a step runs. The guard only reads; EOF without the "done" line means the
build died: it SIGKILLs what is still registered (checked against each one's start time,
so a reused pid is never hit; the container's init takes its whole pid namespace, and with
it the mounts of its private mount namespace), then removes the scratch directory.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from pycontainer.linux import proc, userns

DONE = b"done\n"


class BuildGuard:
    def __init__(self) -> None:
        self.pid = 0
        self.fd = -1

    def start(self, scratch: Path, mapping: userns.IdMapping) -> None:
        if self.pid:
            return
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the guard
            code = 1
            try:
                os.close(w)
                _guard_main(r, scratch, mapping)
                code = 0
            finally:
                os._exit(code)
        os.close(r)
        os.set_inheritable(w, False)
        self.pid, self.fd = pid, w

    def watch(self, *pids: int) -> None:
        self._send(b"".join(b"+%d %d\n" % (p, proc.start_time(p) or 0) for p in pids if p))

    def forget(self, *pids: int) -> None:
        self._send(b"".join(b"-%d\n" % p for p in pids if p))

    def close(self) -> None:
        """The build ended on its own (its scratch is removed): the guard leaves quietly."""
        if not self.pid:
            return
        self._send(DONE)
        os.close(self.fd)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        self.pid, self.fd = 0, -1

    def _send(self, data: bytes) -> None:
        if self.fd >= 0 and data:
            with contextlib.suppress(OSError):
                os.write(self.fd, data)


def _guard_main(fd: int, scratch: Path, mapping: userns.IdMapping) -> None:  # pragma: no cover
    os.setsid()  # the terminal's ^C reaches the build, which cleans up itself
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_IGN)
    null = os.open(os.devnull, os.O_RDWR)
    for target in (0, 1, 2):  # hold none of the build's pipes: its reader sees EOF
        os.dup2(null, target)
    os.closerange(3, fd)
    os.closerange(fd + 1, 65536)
    watched, done = _read_orders(fd)
    if done:
        return
    for pid, started in watched.items():
        proc.kill(pid, signal.SIGKILL, started or None)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(proc.alive(p, s or None) for p, s in
                                              watched.items()):
        time.sleep(0.02)
    from pycontainer.storage.driver import remove_tree

    remove_tree(scratch, mapping)


def _read_orders(fd: int) -> tuple[dict[int, int], bool]:
    """Follow the build's orders up to EOF: ({pid: start time} still running, done?)."""
    watched: dict[int, int] = {}
    rest = b""
    while chunk := os.read(fd, 4096):
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        for line in lines:
            if line + b"\n" == DONE:
                return watched, True
            if line.startswith(b"+"):
                pid, _, started = line[1:].partition(b" ")
                watched[int(pid)] = int(started or 0)
            elif line.startswith(b"-"):
                watched.pop(int(line[1:]), None)
    return watched, False
