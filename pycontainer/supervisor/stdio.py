"""The container's stdio as the supervisor holds it: pipes, or a pty whose master the
container's runtime sends back over a socket (runc's --console-socket protocol)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field

from pycontainer.runtime.base import Stdio


@dataclass
class HeldStdio:
    """The supervisor's ends. `outputs` maps a readable fd to its stream name."""

    child: Stdio
    outputs: dict[int, str] = field(default_factory=dict)
    stdin_w: int = -1
    console: socket.socket | None = None
    master: int = -1
    _child_fds: list[int] = field(default_factory=list)

    def close_child_ends(self) -> None:
        for fd in self._child_fds:
            os.close(fd)
        self._child_fds = []

    def receive_master(self) -> int:
        """Wait for the pty master; -1 if the container died before sending it."""
        assert self.console is not None
        _, fds, _, _ = socket.recv_fds(self.console, 16, 1)
        self.console.close()
        self.console = None
        if not fds:
            return -1
        self.master = fds[0]
        os.set_blocking(self.master, False)
        self.outputs = {self.master: "stdout"}
        self.stdin_w = self.master
        return self.master


def make(tty: bool, stdin: bool) -> HeldStdio:
    if tty:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        child_fd = child.detach()
        os.set_inheritable(child_fd, True)
        held = HeldStdio(Stdio(-1, -1, -1, console_socket=child_fd), console=parent)
        held._child_fds = [child_fd]
        return held
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    if stdin:
        in_r, in_w = os.pipe()
    else:
        in_r, in_w = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC), -1
    for fd in (out_r, err_r):
        os.set_blocking(fd, False)
    held = HeldStdio(Stdio(in_r, out_w, err_w), {out_r: "stdout", err_r: "stderr"}, in_w)
    held._child_fds = [in_r, out_w, err_w]
    return held
