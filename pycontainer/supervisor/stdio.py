"""The container's stdio as the supervisor holds it: pipes, or a pty whose master the
container's runtime sends back over a socket (runc's --console-socket protocol).

Plain classes, no dataclasses: this module is imported by the long-lived supervisor.
"""

from __future__ import annotations

import _socket
import os
import struct


class HeldStdio:
    """The supervisor's ends (`outputs` maps a readable fd to its stream name) and the
    container's ends (`child`: stdin, stdout, stderr, console socket; -1 when unused)."""

    def __init__(self) -> None:
        self.outputs: dict[int, str] = {}
        self.stdin_w = -1
        self.console: _socket.socket | None = None
        self.master = -1
        self.child = {"stdin": -1, "stdout": -1, "stderr": -1, "console": -1}

    def close_child_ends(self) -> None:
        for key, fd in self.child.items():
            if fd >= 0:
                os.close(fd)
            self.child[key] = -1

    def receive_master(self) -> int:
        """Wait for the pty master; -1 if the container died before sending it."""
        assert self.console is not None
        _, ancillary, _, _ = self.console.recvmsg(16, _socket.CMSG_SPACE(4))
        self.console.close()
        self.console = None
        fds = [struct.unpack("i", data[:4])[0] for level, kind, data in ancillary
               if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS]
        if not fds:
            return -1
        self.master = fds[0]
        os.set_blocking(self.master, False)
        self.outputs = {self.master: "stdout"}
        self.stdin_w = self.master
        return self.master


def make(tty: bool, stdin: bool) -> HeldStdio:
    held = HeldStdio()
    if tty:
        parent, child = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_STREAM, 0)
        held.console = parent
        held.child["console"] = child.detach()
        os.set_inheritable(held.child["console"], True)
        return held
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    if stdin:
        in_r, held.stdin_w = os.pipe()
    else:
        in_r = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    for fd in (out_r, err_r):
        os.set_blocking(fd, False)
    held.outputs = {out_r: "stdout", err_r: "stderr"}
    held.child.update(stdin=in_r, stdout=out_w, stderr=err_w)
    return held
