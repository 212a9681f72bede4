"""External OCI runtimes (runc, crun, a path) driven through their command line.

They run inside the user namespace pyc's launcher created, as Podman runs rootless runc, so
the spec carries no user namespace. A failed `create` is classified from the runtime's JSON
log: external runtimes have no errno channel, so this is the one place that reads error text.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile

from pycontainer.errors import ContainerRuntimeError
from pycontainer.oci.runtime import Spec
from pycontainer.runtime.base import ContainerError, Stdio


class ExternalRuntime:
    def __init__(self, name: str, state_dir: str) -> None:
        from pycontainer import binaries

        path = binaries.find(name)
        if not path:
            raise ContainerRuntimeError(f"OCI runtime {name!r} not found")
        self.name = os.path.basename(path)
        self.path = path
        self.state_dir = state_dir or tempfile.gettempdir()
        self.log = os.path.join(self.state_dir, "runtime.log")

    def _argv(self, *args: str) -> list[str]:
        return [self.path, "--root", self.state_dir, "--log", self.log,
                "--log-format", "json", *args]

    def create(self, container_id: str, bundle: str, spec: Spec, stdio: Stdio,
               start_fd: int, error_fd: int) -> int:
        os.makedirs(self.state_dir, 0o700, exist_ok=True)
        pid_file = os.path.join(self.state_dir, f"{container_id[:12]}.pid")
        args = ["create", "--bundle", bundle, "--pid-file", pid_file]
        console = None
        if spec.process.terminal:
            console, path = _console_listener()
            args += ["--console-socket", path]
        proc = subprocess.Popen(self._argv(*args, container_id), stdin=stdio.stdin,
                                stdout=stdio.stdout, stderr=stdio.stderr, close_fds=True)
        if console is not None:
            _forward_console(console, stdio.console_socket, proc)
        if proc.wait() != 0:
            raise self._error("create")
        with open(pid_file) as f:
            return int(f.read().strip())

    def start(self, container_id: str, start_fd: int, error_fd: int) -> None:
        if os.read(start_fd, 1) != b"1":
            return
        res = subprocess.run(self._argv("start", container_id), stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if res.returncode != 0:
            err = self._error("start")
            os.write(error_fd, err.encode())

    def _error(self, stage: str) -> ContainerError:
        msg = _last_error(self.log) or f"{self.name} {stage} failed"
        low = msg.lower()
        if "executable file not found" in low or "no such file or directory" in low:
            return ContainerError("exec", 2, msg)
        if "permission denied" in low or "is a directory" in low:
            return ContainerError("exec", 13, msg)
        return ContainerError(stage, 0, msg)


def _last_error(log: str) -> str:
    try:
        with open(log) as f:
            lines = f.read().splitlines()
    except OSError:
        return ""
    for line in reversed(lines):
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("level") in ("error", "fatal"):
            return str(rec.get("msg", ""))
    return ""


def _console_listener() -> tuple[socket.socket, str]:
    directory = tempfile.mkdtemp(prefix="pyc-console-")
    path = os.path.join(directory, "c.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    sock.listen(1)
    return sock, path


def _forward_console(listener: socket.socket, to_fd: int, proc: subprocess.Popen[bytes]) -> None:
    """Receive the pty master runc sends and pass it on to the supervisor."""
    listener.settimeout(30)
    try:
        conn, _ = listener.accept()
    except TimeoutError:
        proc.kill()
        raise ContainerError("terminal", 0, "the runtime sent no terminal") from None
    with conn:
        _, fds, _, _ = socket.recv_fds(conn, 4096, 1)
    path = listener.getsockname()
    listener.close()
    shutil.rmtree(os.path.dirname(path), ignore_errors=True)
    out = socket.socket(fileno=to_fd)
    socket.send_fds(out, [b"pty"], fds)
    out.detach()
    for fd in fds:
        os.close(fd)
