"""`pyc run` networking, end to end (issue 5): slirp4netns, published ports, none/host,
user-defined networks, container: mode, and that nothing is left behind on any exit path.

Everything is real: slirp4netns, the rootless network namespace, veths, the host's sockets.
The module shares one pyc state; when it ends, no slirp4netns, rootless-namespace holder or
mount that mentions that state may remain.
"""

from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import socketserver
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.runner import Pyc


@pytest.fixture(scope="module")
def npyc(_host_prerequisites: None) -> Iterator[Pyc]:
    base = Path(tempfile.mkdtemp(prefix="pyc-net-"))
    runner = Pyc.create(base)
    yield runner
    runner("rm", "-f", *runner("ps", "-aq").out.split())
    for name in runner("network", "ls", "-q", "--filter", "name=pyct").out.split():
        runner("network", "rm", name)
    leftovers = _leftovers(runner)
    runner.cleanup()
    assert not leftovers, f"left behind after the module: {leftovers}"


@pytest.fixture(scope="module")
def bb(npyc: Pyc, fixture_refs: dict[str, str]) -> str:
    npyc.ok("pull", "-q", fixture_refs["busybox"])
    return fixture_refs["busybox"]


# --- helpers -----------------------------------------------------------------------------------


def _cmdlines() -> dict[int, bytes]:
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    out[int(entry)] = f.read()
            except OSError:
                continue
    return out


def slirps_of(text: str) -> list[int]:
    """slirp4netns processes whose command line mentions `text` (a runroot or container id)."""
    return [pid for pid, cmd in _cmdlines().items()
            if cmd.startswith(b"slirp4netns") or b"/slirp4netns\0" in cmd
            if text.encode() in cmd]


def _leftovers(p: Pyc) -> list[str]:
    found = [f"slirp4netns pid {pid}" for pid in slirps_of(str(p.runroot))]
    found += [f"process {pid}: {cmd[:80]!r}" for pid, cmd in _cmdlines().items()
              if b"pycontainer.network.rootlessns" in cmd and str(p.runroot).encode() in cmd]
    found += [f"port forwarder pid {pid}" for pid in _forwarders(str(p.runroot))]
    with open("/proc/self/mountinfo") as f:
        found += [line.strip() for line in f if str(p.root) in line or str(p.runroot) in line]
    return found


def _forwarders(text: str) -> list[int]:
    """network.forwarder processes (forked from a pyc whose command line mentions `text`)."""
    found = []
    for pid, cmd in _cmdlines().items():
        try:
            with open(f"/proc/{pid}/comm", "rb") as f:
                if f.read().strip() == b"pyc-portfwd" and text.encode() in cmd:
                    found.append(pid)
        except OSError:
            continue
    return found


def wait_for(cond, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def free_port(preferred: int = 0) -> int:
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("0.0.0.0", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise AssertionError("no free port")


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def fetch(url: str, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def host_address() -> str | None:
    """A non-loopback address of the host (slirp4netns reaches it; loopback it does not)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.254", 9))
            addr = s.getsockname()[0]
        except OSError:
            return None
    return None if addr.startswith("127.") else addr


def web_root(tmp_path: Path) -> Path:
    www = tmp_path / "www"
    www.mkdir()
    (www / "index.html").write_text("hello from the host\n")
    return www


# --- slirp4netns and published ports (the first acceptance points) --------------------


def test_published_port_serves_a_host_file_then_is_freed(npyc, bb, tmp_path):
    port = free_port(18080)
    www = web_root(tmp_path)
    cid = npyc.ok("run", "-d", "--name", "web", "-p", f"{port}:80", "-v", f"{www}:/www:ro", bb,
                  "httpd", "-f", "-p", "80", "-h", "/www").out.strip()
    assert fetch(f"http://127.0.0.1:{port}/index.html") == "hello from the host\n"
    assert npyc.ok("port", "web").out == f"80/tcp -> 0.0.0.0:{port}\n"
    assert npyc.ok("port", "web", "80").out == f"0.0.0.0:{port}\n"
    assert npyc.ok("port", "web", "80/tcp").out == f"0.0.0.0:{port}\n"
    npyc.fail("port", "web", "81", rc=125)
    assert f"0.0.0.0:{port}->80/tcp" in npyc.ok("ps").out
    assert npyc.ok("ps", "--format", "{{.Ports}}").out == f"0.0.0.0:{port}->80/tcp\n"
    info = json.loads(npyc.ok("inspect", "web").out)[0]
    assert info["NetworkSettings"]["Ports"] == {"80/tcp": [{"HostIp": "0.0.0.0",
                                                            "HostPort": str(port)}]}
    assert info["NetworkSettings"]["IPAddress"] == "10.0.2.100"
    assert info["HostConfig"]["PortBindings"] == {"80/tcp": [{"HostIp": "",
                                                              "HostPort": str(port)}]}
    assert len(slirps_of(cid[:12])) == 1
    npyc.ok("rm", "-f", "web")
    assert wait_for(lambda: not slirps_of(cid[:12])), "slirp4netns outlived rm -f"
    assert port_is_free(port)


def test_second_run_on_the_same_port_fails_and_creates_nothing(npyc, bb):
    port = free_port()
    npyc.ok("run", "-d", "--name", "first", "-p", f"{port}:80", bb, "httpd", "-f", "-p", "80")
    before = npyc.ok("ps", "-aq").out
    volumes = npyc.ok("volume", "ls", "-q").out
    res = npyc.fail("run", "-d", "--name", "second", "-p", f"{port}:80", "-v", "/anon", bb,
                    "true", rc=125)
    assert "port is already allocated" in res.err
    assert npyc.ok("ps", "-aq").out == before
    assert npyc("container", "exists", "second").rc == 1
    assert npyc.ok("volume", "ls", "-q").out == volumes
    npyc.fail("create", "--name", "second", "-p", f"{port}:80", bb, rc=125)
    assert npyc("container", "exists", "second").rc == 1
    npyc.ok("rm", "-f", "first")


def test_random_ports_publish_all_and_udp(npyc, bb):
    npyc.ok("run", "-d", "--name", "rnd", "-p", "80", "-p", "127.0.0.1::53/udp", "--expose",
            "8080", "-P", bb, "sleep", "300")
    lines = npyc.ok("port", "rnd").out.splitlines()
    keys = sorted(line.split(" -> ")[0] for line in lines)
    assert keys == ["53/udp", "80/tcp", "8080/tcp"], lines
    udp = [line for line in lines if line.startswith("53/udp")][0]
    assert udp.startswith("53/udp -> 127.0.0.1:")
    ports = json.loads(npyc.ok("inspect", "--format", "{{json .NetworkSettings.Ports}}",
                               "rnd").out)
    assert set(ports) == {"80/tcp", "53/udp", "8080/tcp"}
    assert all(int(b[0]["HostPort"]) > 0 for b in ports.values())
    npyc.ok("rm", "-f", "rnd")


def test_slirp_network_defaults_dns_options_and_hosts(npyc, bb):
    out = npyc.ok("run", "--rm", bb, "sh", "-c",
                  "cat /sys/class/net/tap0/mtu; ip -4 -o addr show tap0; cat /etc/resolv.conf;"
                  " ip route").out
    assert out.startswith("65520\n")
    assert "10.0.2.100/24" in out
    assert "nameserver 10.0.2.3" in out
    assert "default via 10.0.2.2" in out
    out = npyc.ok("run", "--rm", "--dns", "192.0.2.53", "--dns-search", "example.test",
                  "--dns-option", "ndots:3", "--hostname", "box.example.test", "--add-host",
                  "db.local:10.1.2.3", bb, "sh", "-c",
                  "cat /etc/resolv.conf /etc/hosts; hostname").out
    assert "nameserver 192.0.2.53\n" in out and "nameserver 10.0.2.3" not in out
    assert "search example.test\n" in out
    assert "options ndots:3\n" in out
    assert "10.1.2.3\tdb.local\n" in out
    assert "10.0.2.100\tbox.example.test box\n" in out
    assert out.endswith("box.example.test\n")


def _udp_dns_server(addr: str) -> socket.socket:
    """A UDP DNS responder on the host that answers every A query with 192.0.2.77."""
    from pycontainer.network import dns

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((addr, 0))

    def serve() -> None:
        while True:
            try:
                packet, peer = sock.recvfrom(512)
            except OSError:
                return
            q = dns.parse_query(packet)
            sock.sendto(dns.build_answer(packet, q, ["192.0.2.77"] if q.qtype == 1 else []),
                        peer)

    threading.Thread(target=serve, daemon=True).start()
    return sock


def test_outbound_tcp_udp_and_dns(npyc, bb, tmp_path):
    addr = host_address()
    if addr is None:
        pytest.skip("the host has no non-loopback address to reach")
    www = web_root(tmp_path)
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(www))  # noqa: E731
    tcp = socketserver.TCPServer((addr, 0), handler)
    threading.Thread(target=tcp.serve_forever, daemon=True).start()
    udp = _udp_dns_server(addr)
    try:
        out = npyc.ok("run", "--rm", bb, "sh", "-c",
                      f"wget -qO- http://{addr}:{tcp.server_address[1]}/index.html;"
                      f" nslookup -type=a pyc.test {addr}:{udp.getsockname()[1]};"
                      " nslookup pyc-test.invalid 2>&1; true", timeout=60).out
    finally:
        tcp.shutdown()
        udp.close()
    assert "hello from the host" in out  # TCP out
    assert "192.0.2.77" in out  # UDP out and back, to a DNS server of our own
    # slirp's DNS forwarder (10.0.2.3) relays to the host's resolver: an answer (NXDOMAIN
    # here, the test host resolves nothing outside), not a timeout
    tail = out.split("pyc-test.invalid", 1)[-1]
    assert "NXDOMAIN" in tail or "Address" in tail, out


def test_network_none_has_only_loopback(npyc, bb):
    out = npyc.ok("run", "--rm", "--network", "none", bb, "sh", "-c",
                  "ls /sys/class/net; ip -o link show lo").out
    names, lo = out.split("\n", 1)[0], out
    assert names == "lo"
    assert "UP" in lo
    info = npyc.ok("create", "--network", "none", bb).out.strip()
    assert npyc.ok("inspect", "--format", "{{.HostConfig.NetworkMode}}", info).out == "none\n"
    npyc.ok("rm", info)


def test_network_host_sees_the_host_interfaces(npyc, bb):
    out = npyc.ok("run", "--rm", "--network", "host", bb, "ls", "/sys/class/net").out
    assert sorted(out.split()) == sorted(os.listdir("/sys/class/net"))
    assert not slirps_of(str(npyc.runroot))


def test_host_network_discards_published_ports_with_a_warning(npyc, bb):
    res = npyc.ok("run", "--rm", "--network", "host", "-p", "18089:80", bb, "true")
    assert "Published ports are discarded when using host network mode" in res.err
    assert not slirps_of(str(npyc.runroot))


def test_publishing_conflicts_with_none(npyc, bb):
    res = npyc.fail("run", "--rm", "--network", "none", "-p", "8080:80", bb, "true")
    assert "port publishing" in res.err
    npyc.fail("run", "--rm", "--network-alias", "x", bb, "true")
    npyc.fail("run", "--rm", "--network", "no-such-net", bb, "true")


def test_privileged_host_port_names_the_sysctl(npyc, bb):
    with open("/proc/sys/net/ipv4/ip_unprivileged_port_start") as f:
        start = int(f.read())
    if start == 0:
        pytest.skip("every port is unprivileged on this host")
    res = npyc.fail("run", "--rm", "-p", f"{start - 1}:80", bb, "true")
    assert "net.ipv4.ip_unprivileged_port_start" in res.err


# --- user-defined networks -------------------------------------------------------------------


def _ip_of(npyc: Pyc, name: str, network: str) -> str:
    fmt = "{{json .NetworkSettings.Networks}}"
    return json.loads(npyc.ok("inspect", "--format", fmt, name).out)[network]["IPAddress"]


def test_user_networks_resolve_names_and_isolate(npyc, bb):
    npyc.ok("network", "create", "pyctn1")
    npyc.ok("network", "create", "pyctn2")
    npyc.ok("run", "-d", "--name", "alpha", "--network", "pyctn1", bb, "sleep", "300")
    npyc.ok("run", "-d", "--name", "beta", "--network", "pyctn1", "--network-alias", "db", bb,
            "sleep", "300")
    out = npyc.ok("exec", "beta", "ping", "-c1", "-W2", "alpha").out
    assert "1 packets received" in out
    assert "1 packets received" in npyc.ok("exec", "alpha", "ping", "-c1", "-W2", "db").out
    wget = npyc("run", "--rm", "--network", "pyctn1", bb, "nslookup", "alpha")
    assert _ip_of(npyc, "alpha", "pyctn1") in wget.out
    other = npyc("run", "--rm", "--network", "pyctn2", bb, "sh", "-c",
                 f"ping -c1 -W2 alpha; ping -c1 -W2 {_ip_of(npyc, 'alpha', 'pyctn1')}")
    assert other.rc != 0
    assert "0 packets received" in other.out or "bad address" in other.err + other.out
    # alpha leaves, another container takes its address, a new alpha gets a new one: beta
    # (running all along) must find the new alpha
    old = _ip_of(npyc, "alpha", "pyctn1")
    npyc.ok("rm", "-f", "alpha")
    npyc.ok("run", "-d", "--name", "filler", "--network", "pyctn1", bb, "sleep", "300")
    npyc.ok("run", "-d", "--name", "alpha", "--network", "pyctn1", bb, "sleep", "300")
    new = _ip_of(npyc, "alpha", "pyctn1")
    assert new != old
    out = npyc.ok("exec", "beta", "ping", "-c1", "-W2", "alpha").out
    assert f"({new})" in out
    assert f"{new}\talpha" in npyc.ok("exec", "beta", "cat", "/etc/hosts").out
    npyc.ok("rm", "-f", "alpha", "beta", "filler")
    npyc.ok("network", "rm", "pyctn1", "pyctn2")


def test_user_network_publishes_ports_and_reaches_out(npyc, bb, tmp_path):
    npyc.ok("network", "create", "pyctweb")
    port = free_port()
    www = web_root(tmp_path)
    npyc.ok("run", "-d", "--name", "uweb", "--network", "pyctweb", "-p", f"{port}:80", "-v",
            f"{www}:/www", bb, "httpd", "-f", "-p", "80", "-h", "/www")
    assert fetch(f"http://127.0.0.1:{port}/index.html") == "hello from the host\n"
    assert npyc.ok("port", "uweb").out == f"80/tcp -> 0.0.0.0:{port}\n"
    npyc.ok("rm", "-f", "uweb")
    assert wait_for(lambda: port_is_free(port))
    npyc.ok("network", "rm", "pyctweb")


def test_network_connect_and_disconnect(npyc, bb):
    npyc.ok("network", "create", "pyctc1")
    npyc.ok("network", "create", "pyctc2")
    npyc.ok("run", "-d", "--name", "srv", "--network", "pyctc1", bb, "sleep", "300")
    npyc.ok("run", "-d", "--name", "cli", "--network", "pyctc2", bb, "sleep", "300")
    assert npyc("exec", "cli", "ping", "-c1", "-W1", "srv").rc != 0
    npyc.ok("network", "connect", "pyctc1", "cli")
    assert "1 packets received" in npyc.ok("exec", "cli", "ping", "-c1", "-W2", "srv").out
    nets = json.loads(npyc.ok("inspect", "--format", "{{json .NetworkSettings.Networks}}",
                              "cli").out)
    assert set(nets) == {"pyctc1", "pyctc2"}
    npyc.fail("network", "rm", "pyctc1")  # in use
    npyc.ok("network", "disconnect", "pyctc1", "cli")
    assert npyc("exec", "cli", "ping", "-c1", "-W1", "srv").rc != 0
    npyc.ok("stop", "-t", "0", "srv")  # stop frees the address at once
    out = npyc.ok("network", "inspect", "--format", "{{json .Containers}}", "pyctc1").out
    assert json.loads(out) in ({}, None)
    npyc.ok("rm", "-f", "srv", "cli")
    npyc.ok("network", "rm", "pyctc1", "pyctc2")


def test_container_network_mode_shares_the_namespace(npyc, bb):
    npyc.ok("run", "-d", "--name", "main", bb, "httpd", "-f", "-p", "8081", "-h", "/etc")
    out = npyc.ok("run", "--rm", "--network", "container:main", bb, "sh", "-c",
                  "ip -4 -o addr show tap0; wget -qO- http://127.0.0.1:8081/passwd >/dev/null && "
                  "echo reached").out
    assert "10.0.2.100" in out and "reached" in out
    npyc.ok("rm", "-f", "main")


# --- every way of ending leaves nothing --------------------------------------------------------


def _supervisor_pid(npyc: Pyc, cid: str) -> int:
    data = json.loads((npyc.runroot / "containers" / cid / "pid.json").read_text())
    return int(data["supervisor"])


@pytest.mark.parametrize("how", ["stop", "kill", "exits", "supervisor-killed"])
def test_every_exit_path_stops_slirp4netns(npyc, bb, how):
    port = free_port()
    cmd = ["sleep", "1"] if how == "exits" else ["sleep", "300"]
    cid = npyc.ok("run", "-d", "-p", f"{port}:80", bb, *cmd).out.strip()
    assert wait_for(lambda: len(slirps_of(cid[:12])) == 1)
    if how == "stop":
        npyc.ok("stop", "-t", "1", cid)
    elif how == "kill":
        npyc.ok("kill", cid)
    elif how == "supervisor-killed":
        os.kill(_supervisor_pid(npyc, cid), signal.SIGKILL)
    assert wait_for(lambda: not slirps_of(cid[:12]), 15), f"slirp4netns survived {how}"
    assert wait_for(lambda: port_is_free(port))
    npyc.ok("rm", "-f", cid)
    assert not slirps_of(cid[:12])


def test_restart_gets_its_ports_back(npyc, bb, tmp_path):
    port = free_port()
    www = web_root(tmp_path)
    npyc.ok("run", "-d", "--name", "again", "-p", f"{port}:80", "-v", f"{www}:/www", bb,
            "httpd", "-f", "-p", "80", "-h", "/www")
    npyc.ok("stop", "-t", "1", "again")
    assert npyc.ok("port", "again").out == ""
    npyc.ok("start", "again")
    assert fetch(f"http://127.0.0.1:{port}/index.html") == "hello from the host\n"
    npyc.ok("restart", "-t", "1", "again")
    assert fetch(f"http://127.0.0.1:{port}/index.html") == "hello from the host\n"
    npyc.ok("rm", "-f", "again")


def _holders(npyc: Pyc) -> list[int]:
    return [pid for pid, cmd in _cmdlines().items()
            if b"pycontainer.network.rootlessns" in cmd and str(npyc.runroot).encode() in cmd]


@pytest.mark.parametrize("how", ["exits", "kill", "rm-f"])
def test_user_network_container_end_frees_address_ports_and_namespace(npyc, bb, how):
    npyc.ok("network", "create", "pyctex")
    port = free_port()
    cmd = ["sleep", "1"] if how == "exits" else ["sleep", "300"]
    cid = npyc.ok("run", "-d", "--network", "pyctex", "-p", f"{port}:80", bb, *cmd).out.strip()
    assert _holders(npyc)

    def endpoints() -> dict[str, object]:
        out = npyc.ok("network", "inspect", "--format", "{{json .Containers}}", "pyctex").out
        return dict(json.loads(out) or {})

    assert cid in endpoints()
    if how == "kill":
        npyc.ok("kill", cid)
    elif how == "rm-f":
        npyc.ok("rm", "-f", cid)
    assert wait_for(lambda: not endpoints(), 15), f"address kept after {how}"
    assert wait_for(lambda: port_is_free(port))
    assert wait_for(lambda: not _holders(npyc), 10), "rootless namespace outlived its last user"
    npyc("rm", "-f", cid)
    npyc.ok("network", "rm", "pyctex")


def test_host_loopback_only_when_allowed(npyc, bb, registry):
    if not registry.startswith("127."):
        pytest.skip("the registry does not listen on the host's loopback")
    port = registry.rsplit(":", 1)[1]
    url = f"http://10.0.2.2:{port}/v2/"
    denied = npyc("run", "--rm", bb, "wget", "-qO-", url)
    assert denied.rc != 0
    allowed = npyc.ok("run", "--rm", "--network", "slirp4netns:allow_host_loopback=true", bb,
                      "wget", "-qO-", url)
    assert allowed.out.strip() == "{}"
