"""`pyc system service`, `pyc system dial-stdio` and the systemd units: the API on demand.

No daemon has to run: a client over ssh (`DOCKER_HOST=ssh://user@host`) makes the docker CLI
run `docker system dial-stdio` on the remote host, which is pyc; it starts a service with a
short idle timeout when none answers and pipes stdin and stdout to its socket. When the
client is done the service times out, and nothing is left running.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from pycontainer.errors import HostError
from pycontainer.paths import Paths, ensure_runtime

#: how long dial-stdio waits for a service it started to answer
START_TIMEOUT = 15.0
#: the idle timeout of a service started by dial-stdio
DIAL_IDLE = 5.0


def socket_path(paths: Paths) -> Path:
    return paths.runtime / "pyc.sock"


def run(paths: Paths, uri: str | None, timeout: float) -> None:
    """Serve until idle for `timeout` seconds; SIGTERM and SIGINT end it at once."""
    from pycontainer.api import server

    listener = server.activated()
    if listener is None:
        if uri is None:
            ensure_runtime(paths)
            uri = f"unix://{socket_path(paths)}"
        with _start_lock(paths):
            listener = server.listen(uri)
    with contextlib.suppress(OSError):  # containers must not inherit a terminal of ours
        fd = os.open(os.devnull, os.O_RDONLY)
        os.dup2(fd, 0)
        os.close(fd)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _stop)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    from pycontainer.ops import recordcache

    recordcache.enable()  # a long-lived process: keep parsed records between requests
    with contextlib.suppress(_Stopped):
        server.serve(listener, paths, timeout)


class _Stopped(BaseException):
    pass


def _stop(signum: int, frame: object) -> None:
    raise _Stopped


@contextlib.contextmanager
def _start_lock(paths: Paths):  # type: ignore[no-untyped-def]
    """One service at a time probes for, and binds, the default socket (two dial-stdio
    calls may start two services at once: the second finds the first one answering)."""
    import fcntl

    ensure_runtime(paths)
    fd = os.open(str(paths.runtime / "pyc.sock.lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC,
                 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


# --- dial-stdio ---------------------------------------------------------------------------


def dial_stdio(paths: Paths) -> None:
    path = socket_path(paths)
    sock = _connect(path)
    if sock is None:
        _start_service(paths)
        deadline = time.monotonic() + START_TIMEOUT
        while sock is None and time.monotonic() < deadline:
            time.sleep(0.02)
            sock = _connect(path)
        if sock is None:
            raise HostError(f"the API service did not start on {path}",
                            hint=f"see {paths.runtime / 'service.log'}")
    pump(sock, 0, 1)


def _connect(path: Path) -> socket.socket | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
        return sock
    except OSError:
        sock.close()
        return None


def _start_service(paths: Paths) -> None:
    from pycontainer.selfexec import self_argv

    ensure_runtime(paths)
    argv = [*self_argv(), "--root", str(paths.data), "--runroot", str(paths.runtime),
            "system", "service", "--time", str(DIAL_IDLE), f"unix://{socket_path(paths)}"]
    log = os.open(str(paths.runtime / "service.log"),
                  os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    try:
        subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                         start_new_session=True, close_fds=True)
    finally:
        os.close(log)


def pump(sock: socket.socket, in_fd: int, out_fd: int) -> None:
    """Copy in_fd to the socket and the socket to out_fd; end of input half-closes the
    socket (the client is done sending), the end of the socket's data ends the pump."""

    def upstream() -> None:
        try:
            while data := os.read(in_fd, 65536):
                sock.sendall(data)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_WR)

    threading.Thread(target=upstream, daemon=True).start()
    try:
        while data := sock.recv(65536):
            view = memoryview(data)
            while view:
                view = view[os.write(out_fd, view):]
    except OSError:
        pass
    finally:
        sock.close()


# --- systemd units --------------------------------------------------------------------------

SOCKET_UNIT = """[Unit]
Description=pyc Docker Engine API socket

[Socket]
ListenStream={listen}
SocketMode=0600
DirectoryMode=0700

[Install]
WantedBy=sockets.target
"""

SERVICE_UNIT = """[Unit]
Description=pyc Docker Engine API service
Requires=pyc.socket
After=pyc.socket

[Service]
Type=exec
KillMode=process
Delegate=true
ExecStart={command}
"""


def install_units(paths: Paths, root: str | None, runroot: str | None,
                  timeout: float) -> list[Path]:
    """Write pyc.socket and pyc.service (user units; system units for root) and return
    their paths. The service serves the inherited socket and exits when idle; systemd
    starts it again on the next connection."""
    import shlex

    from pycontainer.selfexec import self_argv

    if os.getuid() == 0:
        unit_dir, listen = Path("/etc/systemd/system"), "/run/pycontainer/pyc.sock"
    else:
        config = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
        unit_dir, listen = Path(config) / "systemd" / "user", "%t/pycontainer/pyc.sock"
    argv = [*self_argv(), *(["--root", root] if root else []),
            *(["--runroot", runroot] if runroot else []),
            "system", "service", "--time", f"{timeout:g}"]
    unit_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (("pyc.socket", SOCKET_UNIT.format(listen=listen)),
                       ("pyc.service", SERVICE_UNIT.format(command=shlex.join(argv)))):
        path = unit_dir / name
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
        written.append(path)
    sys.stderr.write("enable it with: systemctl " + ("" if os.getuid() == 0 else "--user ")
                     + "enable --now pyc.socket\n")
    return written
