"""User-defined networks for real: the rootless namespace, bridges, veths, DNS, isolation.

"Containers" here are processes in the rootless namespace's user namespace with a network
namespace of their own, running the tiny servers of netns_support; nothing is mocked.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from netns_support import TCP_PORT, NetnsServer, _listening, _serve, slirp_pids, wait_until

from pycontainer.errors import Conflict
from pycontainer.linux import syscalls
from pycontainer.network import bridge, dns, ports, rootlessns
from pycontainer.network.ports import PortMapping
from pycontainer.paths import Paths


@pytest.fixture
def net_paths(tmp_path: Path) -> Iterator[Paths]:
    if shutil.which("slirp4netns") is None or shutil.which("nsenter") is None:
        pytest.fail("slirp4netns and nsenter are needed", pytrace=False)
    run = Path(tempfile.mkdtemp(prefix="pycr-"))
    paths = Paths(data=tmp_path / "data", runtime=run, config=tmp_path / "config")
    before = set(slirp_pids())
    try:
        yield paths
    finally:
        rootlessns.stop(run)
        shutil.rmtree(run, ignore_errors=True)
        assert wait_until(lambda: not (set(slirp_pids()) - before)), "slirp4netns left behind"


def _container_main(userns_path: str) -> None:  # pragma: no cover - runs in the child
    code = 1
    try:
        fd = os.open(userns_path, os.O_RDONLY)
        syscalls.setns(fd, syscalls.CLONE_NEWUSER)
        os.close(fd)
        syscalls.unshare(syscalls.CLONE_NEWNET)
        code = _serve()
    finally:
        os._exit(code)


@pytest.fixture
def containers(net_paths: Paths) -> Iterator[Callable[[], NetnsServer]]:
    holder = rootlessns.ensure(net_paths.runtime, net_paths.data)
    pids: list[int] = []

    def make() -> NetnsServer:
        pid = os.fork()
        if pid == 0:  # pragma: no cover
            _container_main(holder.userns_path)
        pids.append(pid)
        assert wait_until(lambda: _listening(pid)), "the container's server did not start"
        return NetnsServer(pid, net_paths.runtime)

    yield make
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


FETCH = ("import socket,sys; c=socket.create_connection((sys.argv[1], int(sys.argv[2])), 3); "
         "print(c.recv(100).decode().strip())")
ASK = ("import sys; from pycontainer.network import dns; "
       "print(dns.query(sys.argv[1], sys.argv[2], timeout=6))")


def _fetch_from(c: NetnsServer, ip: str, port: int = TCP_PORT) -> str:
    res = c.inside(sys.executable, "-c", FETCH, ip, str(port))
    return res.stdout.strip() if res.returncode == 0 else f"error: {res.stderr.strip()[-200:]}"


def test_two_containers_reach_each_other_by_address_and_name(
    net_paths: Paths, containers: Callable[[], NetnsServer]
) -> None:
    n1 = bridge.create_network(net_paths, "n1")
    assert (n1.subnet, n1.gateway) == ("10.89.0.0/24", "10.89.0.1")
    a, b = containers(), containers()
    ip_a, mac_a = bridge.connect(net_paths, "a" * 64, "web", a.pid, "n1", aliases=["www"])
    ip_b, _ = bridge.connect(net_paths, "b" * 64, "db", b.pid, "n1")
    assert (ip_a, ip_b) == ("10.89.0.2", "10.89.0.3")
    inside = a.inside("ip", "-o", "addr", "show", "dev", "eth0").stdout
    assert "10.89.0.2/24" in inside
    link = a.inside("ip", "-o", "link", "show", "dev", "eth0").stdout
    assert mac_a in link and "mtu 65520" in link
    # b sees a's server, and a sees b's real address (no NAT on a network)
    assert _fetch_from(b, ip_a).startswith(f"peer={ip_b}:")
    ask = b.inside(sys.executable, "-c", ASK, n1.gateway, "web")
    assert ask.stdout.strip() == f"(0, ['{ip_a}'])", ask.stderr
    ask = b.inside(sys.executable, "-c", ASK, n1.gateway, "www")
    assert ask.stdout.strip() == f"(0, ['{ip_a}'])", ask.stderr


def test_networks_are_isolated(net_paths: Paths, containers: Callable[[], NetnsServer]) -> None:
    bridge.create_network(net_paths, "n1")
    n2 = bridge.create_network(net_paths, "n2")
    assert n2.subnet == "10.89.1.0/24"
    a, c = containers(), containers()
    ip_a, _ = bridge.connect(net_paths, "a" * 64, "web", a.pid, "n1")
    bridge.connect(net_paths, "c" * 64, "other", c.pid, "n2")
    assert _fetch_from(c, ip_a).startswith("error")
    # not answered from n1's records: relayed upstream (slirp4netns -> the host's resolver),
    # which does not know the name
    ask = c.inside(sys.executable, "-c", ASK, n2.gateway, "web")
    assert ask.stdout.strip() == "(3, [])", ask.stderr


def test_a_new_container_under_the_same_name_resolves_anew(
    net_paths: Paths, containers: Callable[[], NetnsServer]
) -> None:
    n1 = bridge.create_network(net_paths, "n1")
    a, b = containers(), containers()
    bridge.connect(net_paths, "a" * 64, "web", a.pid, "n1")
    bridge.connect(net_paths, "b" * 64, "client", b.pid, "n1")
    bridge.disconnect(net_paths, "a" * 64, "n1")
    assert "web" not in b.inside(sys.executable, "-c", ASK, n1.gateway, "web").stdout.split("'")
    again = containers()
    bridge.connect(net_paths, "d" * 64, "spacer", containers().pid, "n1")
    ip_new, _ = bridge.connect(net_paths, "e" * 64, "web", again.pid, "n1")
    ask = b.inside(sys.executable, "-c", ASK, n1.gateway, "web")
    assert ask.stdout.strip() == f"(0, ['{ip_new}'])"
    assert _fetch_from(b, ip_new).startswith("peer=")


def test_disconnect_frees_the_address_and_the_veth(
    net_paths: Paths, containers: Callable[[], NetnsServer]
) -> None:
    bridge.create_network(net_paths, "n1")
    a = containers()
    ip, _ = bridge.connect(net_paths, "a" * 64, "web", a.pid, "n1")
    with pytest.raises(Conflict, match="active endpoints"):
        bridge.remove_network(net_paths, "n1")
    bridge.disconnect(net_paths, "a" * 64, "n1")
    assert "eth0" not in a.inside("ip", "-o", "link").stdout
    b = containers()
    assert bridge.connect(net_paths, "b" * 64, "db", b.pid, "n1")[0] == ip
    bridge.disconnect(net_paths, "b" * 64, "n1")
    bridge.remove_network(net_paths, "n1")
    holder = rootlessns.find(net_paths.runtime)
    assert holder is not None
    links = NetnsServer(holder.pid, net_paths.runtime).inside("ip", "-o", "link").stdout
    assert "pyc0" not in links and "v0" not in links


def test_outbound_and_published_ports(
    net_paths: Paths, containers: Callable[[], NetnsServer]
) -> None:
    host_ip = _host_address()
    bridge.create_network(net_paths, "n1")
    a = containers()
    ip_a, _ = bridge.connect(net_paths, "a" * 64, "web", a.pid, "n1")
    # outbound: through the bridge, masquerade and slirp4netns to a server on the host
    with socket.socket() as srv:
        srv.bind(("0.0.0.0", 0))
        srv.listen(4)
        port = srv.getsockname()[1]
        res = a.inside(sys.executable, "-c",
                       f"import socket; socket.create_connection(({host_ip!r}, {port}), 5)")
        assert res.returncode == 0, res.stderr
    # inbound: a published port reaches the container on the network, keeping the source
    [m] = ports.allocate([PortMapping("", 0, TCP_PORT)])
    published = bridge.publish(net_paths, ip_a, [m])
    with socket.create_connection((host_ip, m.host_port), timeout=5) as conn:
        assert conn.recv(100).decode().startswith(f"peer={host_ip}:")
    with socket.create_connection(("127.0.0.1", m.host_port), timeout=5) as conn:
        assert conn.recv(100).decode().startswith("peer=")
    bridge.unpublish(net_paths, published)
    ports.check_host_port("0.0.0.0", m.host_port)
    holder = rootlessns.find(net_paths.runtime)
    assert holder is not None
    table = NetnsServer(holder.pid, net_paths.runtime).inside("nft", "list", "map", "ip",
                                                               "pycontainer", "published")
    assert str(m.host_port) not in table.stdout


def test_release_stops_the_namespace_when_unused(
    net_paths: Paths, containers: Callable[[], NetnsServer]
) -> None:
    bridge.create_network(net_paths, "n1")
    a = containers()
    bridge.connect(net_paths, "a" * 64, "web", a.pid, "n1")
    holder = rootlessns.find(net_paths.runtime)
    assert holder is not None
    assert not bridge.release(net_paths)
    bridge.disconnect(net_paths, "a" * 64, "n1")
    assert bridge.release(net_paths)
    assert rootlessns.find(net_paths.runtime) is None
    assert wait_until(lambda: holder.slirp_pid not in slirp_pids())


def _host_address() -> str:
    import subprocess

    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"],
                         capture_output=True, text=True, check=False).stdout
    for line in out.splitlines():
        fields = line.split()
        return fields[fields.index("inet") + 1].split("/")[0]
    raise AssertionError("the host needs a non-loopback IPv4 address for this test")


def test_unknown_names_are_relayed_upstream(
    net_paths: Paths, containers: Callable[[], NetnsServer]
) -> None:
    n1 = bridge.create_network(net_paths, "n1")
    a = containers()
    bridge.connect(net_paths, "a" * 64, "web", a.pid, "n1")
    host_answer = dns.query(_host_nameserver(), "nonexistent.invalid")
    ask = a.inside(sys.executable, "-c", ASK, n1.gateway, "nonexistent.invalid")
    assert ask.stdout.strip() == str(host_answer), ask.stderr
    conf = bridge.resolv_config(net_paths, ["n1"], dns=["9.9.9.9"],
                                host_resolv="search corp.example\noptions ndots:2\n")
    assert conf.nameservers == ("10.89.0.1", "9.9.9.9")
    assert (conf.search, conf.options) == (("corp.example",), ("ndots:2",))


def test_disconnect_all_and_prune(net_paths: Paths, containers: Callable[[], NetnsServer]) -> None:
    bridge.create_network(net_paths, "n1")
    bridge.create_network(net_paths, "n2")
    bridge.create_network(net_paths, "unused")
    a = containers()
    bridge.connect(net_paths, "a" * 64, "web", a.pid, "n1")
    bridge.connect(net_paths, "a" * 64, "web", a.pid, "n2")
    links = a.inside("ip", "-o", "-4", "addr").stdout
    assert "eth0" in links and "eth1" in links and "10.89.1.2/24" in links
    assert bridge.prune_networks(net_paths) == ["unused"]
    assert sorted(bridge.disconnect_all(net_paths, "a" * 64)) == ["n1", "n2"]
    assert "eth" not in a.inside("ip", "-o", "link").stdout
    assert sorted(bridge.prune_networks(net_paths)) == ["n1", "n2"]
    assert bridge.store(net_paths).networks() == []


def _host_nameserver() -> str:
    from pycontainer.network.resolv import parse_resolv_conf

    return parse_resolv_conf(Path("/etc/resolv.conf").read_text()).nameservers[0]


def test_a_killed_holder_takes_its_slirp4netns_along(
    net_paths: Paths, containers: Callable[[], NetnsServer]
) -> None:
    containers()
    holder = rootlessns.find(net_paths.runtime)
    assert holder is not None
    os.kill(holder.pid, signal.SIGKILL)
    assert wait_until(lambda: holder.slirp_pid not in slirp_pids()), "slirp4netns outlived it"
    assert rootlessns.find(net_paths.runtime) is None  # even while still an unreaped zombie
    os.waitpid(holder.pid, 0)  # this test process started it, so it reaps it
    again = rootlessns.ensure(net_paths.runtime, net_paths.data)
    assert again.pid != holder.pid and rootlessns.find(net_paths.runtime) == again
