"""Helpers and fixtures for the networking tests: a real user+network namespace with servers.

    netns_server  (function) a forked process in a new user and network namespace (mapped by
                  pyc's own userns code) serving, inside:
                    TCP 80   answers "peer=IP:PORT\\n" (the client address it sees), then closes
                    UDP 5353 answers each datagram with "peer=IP:PORT"
                  attributes: .pid, .run_dir (a short private dir for API sockets), .inside(argv)
                  runs a command in the namespace (nsenter) and returns its CompletedProcess.
                  Teardown kills the process and checks no slirp4netns for it is left.
"""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pycontainer.linux import syscalls, userns

TCP_PORT = 80
UDP_PORT = 5353


def _require(binary: str) -> None:
    if shutil.which(binary) is None:
        if os.environ.get("PYC_TEST_HOST_READY") == "1":
            pytest.fail(f"prerequisite missing: {binary}", pytrace=False)
        pytest.skip(f"{binary} is not installed")


def _serve() -> int:  # pragma: no cover - runs inside the namespace
    tcp = socket.socket()
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind(("0.0.0.0", TCP_PORT))
    tcp.listen(16)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("0.0.0.0", UDP_PORT))
    sel = selectors.DefaultSelector()
    sel.register(tcp, selectors.EVENT_READ)
    sel.register(udp, selectors.EVENT_READ)
    while True:
        for key, _ in sel.select():
            if key.fileobj is tcp:
                conn, peer = tcp.accept()
                conn.sendall(f"peer={peer[0]}:{peer[1]}\n".encode())
                conn.close()
            else:
                _, peer = udp.recvfrom(2048)
                udp.sendto(f"peer={peer[0]}:{peer[1]}".encode(), peer)


@dataclass
class NetnsServer:
    pid: int
    run_dir: Path

    def inside(self, *argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        cmd = ["nsenter", "--preserve-credentials", "-U", "-n", "-t", str(self.pid), *argv]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def slirp_pids() -> list[int]:
    """Every slirp4netns process of this user."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv0 = f.read().split(b"\0")[0]
            with open(f"/proc/{entry}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if os.path.basename(argv0) == b"slirp4netns" and state != b"Z":
            out.append(int(entry))
    return out


def wait_until(check: object, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def _listening(pid: int) -> bool:
    # The server's TCP socket shows up in its namespace's /proc/PID/net/tcp as LISTEN (0A).
    try:
        with open(f"/proc/{pid}/net/tcp") as f:
            return any(f":{TCP_PORT:04X} " in line and " 0A " in line for line in f)
    except OSError:
        return False


@pytest.fixture
def netns_server() -> Iterator[NetnsServer]:
    _require("slirp4netns")
    _require("nsenter")
    before = set(slirp_pids())
    pid = userns.fork_in_userns(_serve, userns.default_mapping(), syscalls.CLONE_NEWNET)
    run_dir = Path(tempfile.mkdtemp(prefix="pycn-"))
    try:
        assert wait_until(lambda: _listening(pid)), "the server in the namespace did not start"
        yield NetnsServer(pid, run_dir)
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        shutil.rmtree(run_dir, ignore_errors=True)

        def ours() -> set[int]:
            # Only slirp4netns processes started for this namespace: other pyc runs of the
            # same user (another test session on the host) may start their own meanwhile.
            return {p for p in set(slirp_pids()) - before if str(pid) in _argv(p)}

        leaked = ours()
        if leaked and not wait_until(lambda: not ours()):
            for p in ours():
                os.kill(p, signal.SIGKILL)
            pytest.fail(f"slirp4netns left running after the test: {sorted(leaked)}")


def _argv(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return [a.decode(errors="replace") for a in f.read().split(b"\0")]
    except OSError:
        return []
