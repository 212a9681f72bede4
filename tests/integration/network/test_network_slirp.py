"""slirp4netns for real: tap0 in a real namespace, port forwards, source addresses, lifetime.

Runs as the unprivileged test user with the installed slirp4netns; nothing is mocked.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from netns_support import TCP_PORT, UDP_PORT, NetnsServer, slirp_pids, wait_until

from pycontainer.errors import Conflict, HostError
from pycontainer.network import dns, ports, resolv, slirp
from pycontainer.network.ports import PortMapping


@pytest.fixture
def running(netns_server: NetnsServer) -> Iterator[slirp.Slirp]:
    sock = slirp.api_socket_path(netns_server.run_dir, "c1")
    s = slirp.start_slirp(netns_server.pid, sock, log_path=str(netns_server.run_dir / "s.log"))
    yield s
    slirp.stop_slirp(s)


def _fetch(host: str, port: int) -> str:
    with socket.create_connection((host, port), timeout=10) as c:
        data = b""
        while chunk := c.recv(4096):
            data += chunk
    return data.decode()


def _host_address() -> str | None:
    """A non-loopback IPv4 address of this host, to test a source other than 127.0.0.1."""
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"],
                         capture_output=True, text=True, check=False).stdout
    for line in out.splitlines():
        fields = line.split()
        if "inet" in fields:
            return fields[fields.index("inet") + 1].split("/")[0]
    return None


def test_tap0_is_configured_inside(netns_server: NetnsServer, running: slirp.Slirp) -> None:
    addr = netns_server.inside("ip", "-4", "-o", "addr", "show", "dev", "tap0")
    assert addr.returncode == 0, addr.stderr
    assert "10.0.2.100/24" in addr.stdout
    link = netns_server.inside("ip", "-o", "link", "show", "dev", "tap0").stdout
    assert "mtu 65520" in link
    route = netns_server.inside("ip", "route", "show", "default").stdout
    assert "via 10.0.2.2 dev tap0" in route
    assert slirp.is_slirp_process(running.pid, running.api_socket)


def test_sandbox_and_seccomp_are_used_when_supported(running: slirp.Slirp) -> None:
    with open(f"/proc/{running.pid}/cmdline", "rb") as f:
        argv = f.read().decode().split("\0")
    known = slirp.features()
    assert ("--enable-sandbox" in argv) == ("--enable-sandbox" in known and slirp.sandbox_safe())
    assert "--disable-host-loopback" in argv and "--mtu=65520" in argv


def test_tcp_forward_reaches_the_server_and_keeps_the_source(running: slirp.Slirp) -> None:
    [m] = ports.allocate([PortMapping("", 0, TCP_PORT)])
    [fid] = slirp.forward_ports(running, [m])
    entries = slirp.list_forwards(running.api_socket)
    assert [(e["id"], e["host_port"], e["guest_port"], e["proto"]) for e in entries] == [
        (fid, m.host_port, TCP_PORT, "tcp")]
    # From a non-loopback host address the container sees that very address (libslirp
    # rewrites only loopback sources, to the gateway 10.0.2.2).
    host_ip = _host_address()
    assert host_ip is not None, "the host needs a non-loopback IPv4 address for this test"
    assert _fetch(host_ip, m.host_port).startswith(f"peer={host_ip}:")
    # A loopback client shows up as the gateway, 10.0.2.2.
    assert _fetch("127.0.0.1", m.host_port).startswith("peer=10.0.2.2:")


def test_removed_forward_frees_the_host_port(running: slirp.Slirp) -> None:
    [m] = ports.allocate([PortMapping("127.0.0.1", 0, TCP_PORT)])
    [fid] = slirp.forward_ports(running, [m])
    with pytest.raises(Conflict, match="port is already allocated"):
        ports.check_host_port("127.0.0.1", m.host_port)
    slirp.remove_forward(running.api_socket, fid)
    ports.check_host_port("127.0.0.1", m.host_port)
    assert slirp.list_forwards(running.api_socket) == []


def test_a_taken_port_fails_with_conflict(running: slirp.Slirp) -> None:
    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(Conflict, match=f"0.0.0.0:{port} failed: port is already allocated"):
            slirp.add_forward(running.api_socket, "tcp", "0.0.0.0", port, TCP_PORT)
    assert slirp.list_forwards(running.api_socket) == []


def _udp_ask(host: str, port: int) -> bytes:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.settimeout(0.5)
        for _ in range(6):  # UDP: retry a lost datagram
            u.sendto(b"hello", (host, port))
            try:
                return u.recv(2048)
            except TimeoutError:
                continue
    return b""


def test_udp_forward_keeps_the_source(running: slirp.Slirp) -> None:
    host_ip = _host_address()
    assert host_ip is not None, "the host needs a non-loopback IPv4 address for this test"
    [m] = ports.allocate([PortMapping("", 0, UDP_PORT, "udp")])
    slirp.forward_ports(running, [m])
    assert _udp_ask(host_ip, m.host_port).startswith(f"peer={host_ip}:".encode())


def test_udp_from_host_loopback_needs_allow_host_loopback(netns_server: NetnsServer) -> None:
    # libslirp rewrites a 127.0.0.1 client to 10.0.2.2; TCP replies ride the connection, but a
    # UDP reply to 10.0.2.2 is dropped under --disable-host-loopback (the default). Pin both.
    for allow, works in ((False, False), (True, True)):
        sock = slirp.api_socket_path(netns_server.run_dir, f"u{int(allow)}")
        s = slirp.start_slirp(netns_server.pid, sock, slirp.SlirpOptions(allow_host_loopback=allow))
        try:
            [m] = ports.allocate([PortMapping("", 0, UDP_PORT, "udp")])
            slirp.forward_ports(s, [m])
            reply = _udp_ask("127.0.0.1", m.host_port)
            assert reply.startswith(b"peer=10.0.2.2:") if works else reply == b""
        finally:
            slirp.stop_slirp(s)


OUTBOUND = "import socket,sys; socket.create_connection(('10.0.2.2', int(sys.argv[1])), 3).close()"


@pytest.fixture
def host_listener() -> Iterator[int]:
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)
        yield srv.getsockname()[1]


@pytest.mark.parametrize("allow", [False, True])
def test_host_loopback_only_when_allowed(
    netns_server: NetnsServer, host_listener: int, allow: bool
) -> None:
    sock = slirp.api_socket_path(netns_server.run_dir, "lb")
    opts = slirp.parse_slirp_options(f"allow_host_loopback={str(allow).lower()}")
    s = slirp.start_slirp(netns_server.pid, sock, opts)
    try:
        res = netns_server.inside(sys.executable, "-c", OUTBOUND, str(host_listener))
        assert (res.returncode == 0) == allow, res.stderr
    finally:
        slirp.stop_slirp(s)


def test_stop_leaves_no_process(netns_server: NetnsServer) -> None:
    sock = slirp.api_socket_path(netns_server.run_dir, "st")
    s = slirp.start_slirp(netns_server.pid, sock)
    [m] = ports.allocate([PortMapping("", 0, TCP_PORT)])
    slirp.forward_ports(s, [m])
    pid = s.pid
    slirp.stop_slirp(s)
    assert pid not in slirp_pids()
    assert not os.path.exists(sock)
    ports.check_host_port("0.0.0.0", m.host_port)  # the published port is free again


HOLDER = textwrap.dedent("""
    import sys, time
    from pycontainer.network import slirp
    s = slirp.start_slirp(int(sys.argv[1]), sys.argv[2])
    print(s.pid, flush=True)
    time.sleep(600)
""")


def test_killing_the_holder_stops_slirp(netns_server: NetnsServer) -> None:
    sock = slirp.api_socket_path(netns_server.run_dir, "hk")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(netns_server.pid), sock],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None
        pid = int(holder.stdout.readline())
        assert slirp.is_slirp_process(pid, sock)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert wait_until(lambda: not slirp.is_slirp_process(pid, sock)), "slirp4netns outlived it"


def test_an_external_holder_bounds_slirp(netns_server: NetnsServer) -> None:
    # The ops layer's pattern: the pipe is made first, its write end goes to the supervisor
    # (here a `sleep`), and slirp4netns started later gets the read end.
    read_end, write_end = slirp.exit_pipe()
    holder = subprocess.Popen(["sleep", "600"], pass_fds=(write_end,))
    os.close(write_end)
    sock = slirp.api_socket_path(netns_server.run_dir, "ex")
    try:
        s = slirp.start_slirp(netns_server.pid, sock, exit_fd=read_end)
    finally:
        os.close(read_end)
    assert s.holder_fd is None
    assert _fetch_ok(s)
    holder.kill()
    holder.wait()
    assert wait_until(lambda: not slirp.is_slirp_process(s.pid, sock))
    if s.proc is not None:
        s.proc.wait()


def _fetch_ok(s: slirp.Slirp) -> bool:
    [m] = ports.allocate([PortMapping("127.0.0.1", 0, TCP_PORT)])
    slirp.forward_ports(s, [m])
    return _fetch("127.0.0.1", m.host_port).startswith("peer=")


def test_a_dead_namespace_pid_fails_clearly() -> None:
    proc = subprocess.Popen(["true"])
    proc.wait()
    with pytest.raises(HostError, match="slirp4netns exited"):
        slirp.start_slirp(proc.pid, f"/tmp/pycn-dead-{os.getpid()}.sock", timeout=5)


def test_dns_through_slirp(netns_server: NetnsServer, running: slirp.Slirp) -> None:
    # 10.0.2.3 relays to the host's resolver even with the sandbox on: same answer as asking
    # the host's resolver directly.
    host_ns = resolv.parse_resolv_conf(Path("/etc/resolv.conf").read_text()).nameservers[0]
    expected = dns.query(host_ns, "nonexistent.invalid")
    ask = ("import sys; from pycontainer.network import dns; "
           "print(dns.query('10.0.2.3', 'nonexistent.invalid', timeout=6))")
    res = netns_server.inside(sys.executable, "-c", ask)
    assert res.stdout.strip() == str(expected), res.stderr


def test_stop_from_a_saved_record(netns_server: NetnsServer) -> None:
    # `pyc rm -f` in another process: only the record saved in the container state is known.
    read_end, write_end = slirp.exit_pipe()
    holder = subprocess.Popen(["sleep", "600"], pass_fds=(write_end,))
    os.close(write_end)
    sock = slirp.api_socket_path(netns_server.run_dir, "rec")
    try:
        started = slirp.start_slirp(netns_server.pid, sock, exit_fd=read_end)
        os.close(read_end)
        record = slirp.Slirp.from_dict(started.to_dict())
        slirp.stop_slirp(record)
        assert wait_until(lambda: started.proc is not None and started.proc.poll() is not None)
        assert not slirp.is_slirp_process(started.pid, sock)
    finally:
        holder.kill()
        holder.wait()
