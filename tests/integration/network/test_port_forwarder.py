"""pyc's own TCP port forwarder (network.forwarder) through `pyc run -p`, for real.

What the forwarder must keep from slirp4netns's own forwarding: the client's source address
as the container sees it, UDP (still slirp4netns's), ranges and host addresses, `port`'s
output, half-closed connections; and it must go with the container on every exit path.
"""

from __future__ import annotations

import os
import re
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.runner import Pyc

COMM = b"pyc-portfwd"


@pytest.fixture(scope="module")
def fpyc(_host_prerequisites: None) -> Iterator[Pyc]:
    runner = Pyc.create(Path(tempfile.mkdtemp(prefix="pyc-fwd-")))
    yield runner
    runner("rm", "-f", *runner("ps", "-aq").out.split())
    left = forwarders(runner)
    runner.cleanup()
    assert not left, f"forwarders left behind: {left}"


@pytest.fixture(scope="module")
def bb(fpyc: Pyc, fixture_refs: dict[str, str]) -> str:
    fpyc.ok("pull", "-q", fixture_refs["busybox"])
    return fixture_refs["busybox"]


def forwarders(p: Pyc) -> list[int]:
    """Forwarder processes of this pyc state (forked from pyc: their command line names it)."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/comm", "rb") as f:
                comm = f.read().strip()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if comm == COMM and str(p.root).encode() in cmd:
            found.append(int(entry))
    return found


def wait_for(cond, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        return int(s.getsockname()[1])


def connect(host: str, port: int, timeout: float = 10.0) -> socket.socket:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return socket.create_connection((host, port), timeout=10)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def exchange(host: str, port: int, data: bytes = b"", timeout: float = 10.0) -> bytes:
    """Send `data`, half-close, read the answer to its end. Until the server in the container
    listens, a forwarded connection is accepted and then reset or closed empty: retry."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            out = _exchange_once(host, port, data)
            if out or time.monotonic() > deadline:
                return out
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.1)


def _exchange_once(host: str, port: int, data: bytes) -> bytes:
    with connect(host, port) as sock:
        if data:
            sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        out = b""
        while chunk := sock.recv(1 << 16):
            out += chunk
    return out


def http_get(host: str, port: int, path: str) -> bytes:
    answer = exchange(host, port, f"GET {path} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
    return answer.split(b"\r\n\r\n", 1)[-1]


def host_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.254", 9))
            addr = s.getsockname()[0]
        except OSError:
            return None
    return None if addr.startswith("127.") else addr


HTTPD = "echo hello > /www/i; exec httpd -f -vv -p 80 -h /www"


def _peers(fpyc: Pyc, name: str) -> list[str]:
    res = fpyc.ok("logs", name)
    logs = res.out + res.err
    return re.findall(r"\[(?:::ffff:)?([0-9.]+)\]:\d+: url:/i", logs)


@pytest.mark.parametrize("handler", ["", ":port_handler=slirp4netns"])
def test_both_handlers_show_the_same_client_address(fpyc, bb, handler):
    port = free_port()
    name = f"src{port}"
    fpyc.ok("run", "-d", "--name", name, "--network", f"slirp4netns{handler}",
            "-p", f"{port}:80", bb, "sh", "-c", f"mkdir /www; {HTTPD}")
    try:
        assert bool(forwarders(fpyc)) == (handler == "")
        assert http_get("127.0.0.1", port, "/i") == b"hello\n"
        expected = ["10.0.2.2"]  # libslirp's rule: a loopback client is the gateway
        addr = host_address()
        if addr is not None:  # any other client keeps its own address
            assert http_get(addr, port, "/i") == b"hello\n"
            expected.append(addr)
        assert wait_for(lambda: len(_peers(fpyc, name)) == len(expected))
        assert _peers(fpyc, name) == expected
    finally:
        fpyc.ok("rm", "-f", name)


def test_bulk_both_ways_and_half_close(fpyc, bb):
    port = free_port()
    fpyc.ok("run", "-d", "--name", "bulk", "-p", f"127.0.0.1:{port}:9000", bb,
            "nc", "-ll", "-p", "9000", "-e", "wc", "-c")
    try:
        data = os.urandom(1 << 20) * 8  # 8 MiB up; wc answers only after our half-close
        assert exchange("127.0.0.1", port, data).strip() == str(len(data)).encode()
        assert exchange("127.0.0.1", port).strip() == b"0"
    finally:
        fpyc.ok("rm", "-f", "bulk")


def test_host_addresses_udp_and_port_output(fpyc, bb):
    tcp1, tcp2, udp = free_port(), free_port(), free_port()
    cid = fpyc.ok(
        "run", "-d", "-p", f"127.0.0.1:{tcp1}:9000", "-p", f"0.0.0.0:{tcp2}:9001",
        "-p", f"127.0.0.1:{udp}:9002/udp", bb, "sh", "-c",
        "nc -ll -p 9000 -e echo one & nc -ll -p 9001 -e echo two & wait").out.strip()
    try:
        assert exchange("127.0.0.1", tcp1) == b"one\n"
        assert exchange("127.0.0.1", tcp2) == b"two\n"
        lines = fpyc.ok("port", cid).out.splitlines()
        assert lines == sorted([f"9000/tcp -> 127.0.0.1:{tcp1}", f"9001/tcp -> 0.0.0.0:{tcp2}",
                                f"9002/udp -> 127.0.0.1:{udp}"])
        addr = host_address()
        if addr is not None:  # 0.0.0.0: every address; 127.0.0.1: loopback only
            assert exchange(addr, tcp2) == b"two\n"
            with pytest.raises(OSError):
                socket.create_connection((addr, tcp1), timeout=2).close()
    finally:
        fpyc.ok("rm", "-f", cid)


UDP_SERVER = ('use IO::Socket::INET; $s = IO::Socket::INET->new(LocalPort => 9002, '
              'Proto => "udp") or die; while ($s->recv($m, 100)) { open F, ">>/tmp/udp"; '
              'print F $m; close F }')


def test_udp_stays_with_slirp4netns_beside_the_forwarder(fpyc, fixture_refs):
    # busybox has no UDP server: the Debian fixture's perl is one
    tcp, udp = free_port(), free_port()
    cid = fpyc.ok("run", "-d", "-p", f"127.0.0.1:{tcp}:9000", "-p", f"127.0.0.1:{udp}:9002/udp",
                  fixture_refs["debian"], "perl", "-e", UDP_SERVER, timeout=300).out.strip()
    try:
        assert len(forwarders(fpyc)) == 1
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            # slirp4netns drops replies to a loopback client (they would go to 10.0.2.2), so
            # check what the container received
            def received() -> bool:
                s.sendto(b"ping", ("127.0.0.1", udp))
                return "ping" in fpyc("exec", cid, "cat", "/tmp/udp").out

            assert wait_for(received)
    finally:
        fpyc.ok("rm", "-f", cid)


def test_a_range_publishes_every_port(fpyc, bb):
    first = free_port()
    if first > 65000:
        pytest.skip("the kernel gave a port at the top of the range")
    cid = fpyc.ok("run", "-d", "-p", f"127.0.0.1:{first}-{first + 1}:9000-9001", bb, "sh",
                  "-c", "nc -ll -p 9000 -e echo a & nc -ll -p 9001 -e echo b & wait").out.strip()
    try:
        assert exchange("127.0.0.1", first) == b"a\n"
        assert exchange("127.0.0.1", first + 1) == b"b\n"
    finally:
        fpyc.ok("rm", "-f", cid)


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.mark.parametrize("how", ["exit", "stop", "kill", "rm"])
def test_the_forwarder_goes_with_the_container(fpyc, bb, how):
    port = free_port()
    cmd = ["sleep", "2"] if how == "exit" else ["sleep", "300"]
    cid = fpyc.ok("run", "-d", "-p", f"127.0.0.1:{port}:80", bb, *cmd).out.strip()
    assert len(forwarders(fpyc)) == 1
    if how == "stop":
        fpyc.ok("stop", "-t", "1", cid)
    elif how == "kill":
        fpyc.ok("kill", cid)
    elif how == "rm":
        fpyc.ok("rm", "-f", cid)
    assert wait_for(lambda: not forwarders(fpyc), 15)
    # and the port is free again (an exiting process gives up its memory, and so its
    # command line, a moment before its sockets)
    assert wait_for(lambda: _bindable(port), 5)
    if how != "rm":
        fpyc.ok("rm", "-f", cid)


def test_restart_gets_a_new_forwarder(fpyc, bb):
    port = free_port()
    cid = fpyc.ok("run", "-d", "-p", f"127.0.0.1:{port}:9000", bb,
                  "nc", "-ll", "-p", "9000", "-e", "echo", "up").out.strip()
    try:
        before = forwarders(fpyc)
        fpyc.ok("restart", "-t", "1", cid)
        assert wait_for(lambda: len(forwarders(fpyc)) == 1 and forwarders(fpyc) != before)
        assert exchange("127.0.0.1", port) == b"up\n"
    finally:
        fpyc.ok("rm", "-f", cid)


def test_a_pods_ports_go_through_the_forwarder_until_the_pod_goes(fpyc, bb):
    port = free_port()
    fpyc.ok("pod", "create", "--name", "fwdpod", "-p", f"127.0.0.1:{port}:9000")
    try:
        fpyc.ok("run", "-d", "--pod", "fwdpod", bb, "nc", "-ll", "-p", "9000", "-e", "echo",
                "in-pod")
        assert len(forwarders(fpyc)) == 1
        assert exchange("127.0.0.1", port) == b"in-pod\n"
    finally:
        fpyc.ok("pod", "rm", "-f", "fwdpod")
    assert wait_for(lambda: not forwarders(fpyc), 15)


def _echoing(port: int, hello: bytes, timeout: float = 10.0) -> socket.socket:
    """A connection to the echo server that has answered `hello` (retried until it does)."""
    deadline = time.monotonic() + timeout
    while True:
        s = connect("127.0.0.1", port)
        try:
            s.sendall(hello)
            if s.recv(len(hello)) == hello:
                return s
        except OSError:
            pass
        s.close()
        if time.monotonic() > deadline:
            raise AssertionError(f"no echo of {hello!r}")
        time.sleep(0.05)


def test_many_connections_at_once_each_get_their_own_bytes(fpyc, bb):
    port = free_port()
    cid = fpyc.ok("run", "-d", "-p", f"127.0.0.1:{port}:9000", bb,
                  "nc", "-ll", "-p", "9000", "-e", "cat").out.strip()
    try:
        assert exchange("127.0.0.1", port, b"ready") == b"ready"
        socks: list[socket.socket] = []
        try:
            for i in range(40):  # opened one by one (nc accepts one at a time), all kept open
                socks.append(_echoing(port, f"hello-{i}\n".encode()))
            for i, s in enumerate(socks):  # then all at once, each with its own payload
                s.sendall(f"conn-{i}\n".encode() * 1000)
                s.shutdown(socket.SHUT_WR)
            for i, s in enumerate(socks):
                got = b""
                while chunk := s.recv(1 << 16):
                    got += chunk
                assert got == f"conn-{i}\n".encode() * 1000
        finally:
            for s in socks:
                s.close()
    finally:
        fpyc.ok("rm", "-f", cid)
