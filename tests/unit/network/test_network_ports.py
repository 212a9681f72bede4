"""Docker's -p syntax and the PORTS / inspect / `port` output forms (pure)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from pycontainer.errors import Conflict, HostError, NotFound, UsageError
from pycontainer.network import ports
from pycontainer.network.ports import PortMapping as PM

pytestmark = pytest.mark.unit

PARSE_OK = [
    ("80", [PM("", 0, 80, "tcp")]),
    ("8080:80", [PM("", 8080, 80, "tcp")]),
    ("8080:80/udp", [PM("", 8080, 80, "udp")]),
    ("8080:80/UDP", [PM("", 8080, 80, "udp")]),
    ("5000:5000/sctp", [PM("", 5000, 5000, "sctp")]),
    ("127.0.0.1:8080:80", [PM("127.0.0.1", 8080, 80, "tcp")]),
    ("127.0.0.1::80", [PM("127.0.0.1", 0, 80, "tcp")]),
    ("[::1]:8080:80", [PM("::1", 8080, 80, "tcp")]),
    ("::1:8080:80", [PM("::1", 8080, 80, "tcp")]),
    ("[::]::80/udp", [PM("::", 0, 80, "udp")]),
    ("8000-8002:80-82", [PM("", 8000, 80), PM("", 8001, 81), PM("", 8002, 82)]),
    ("80-81", [PM("", 0, 80), PM("", 0, 81)]),
    ("8000-8010:80", [PM("", 8000, 80, "tcp", 8010)]),
    ("0.0.0.0:9000-9001:90-91/udp", [PM("0.0.0.0", 9000, 90, "udp"),
                                     PM("0.0.0.0", 9001, 91, "udp")]),
]


@pytest.mark.parametrize(("spec", "expected"), PARSE_OK)
def test_parse_publish(spec: str, expected: list[PM]) -> None:
    assert ports.parse_publish(spec) == expected


PARSE_BAD = [
    ("", "no port specified"),
    ("8080:", "no port specified"),
    ("abc", "invalid containerPort: abc"),
    ("8080:abc", "invalid containerPort: abc"),
    ("x:80", "invalid hostPort: x"),
    ("70000:80", "invalid hostPort: 70000"),
    ("8080:0", "invalid containerPort: 0"),
    ("8080:80/icmp", "invalid proto: icmp"),
    ("999.1.1.1:8080:80", "invalid IP address: 999.1.1.1"),
    ("localhost:8080:80", "invalid IP address: localhost"),
    ("8000-8001:80-83", "invalid ranges specified for container and host Ports: 80-83 and"),
    ("90-80", "invalid containerPort: 90-80"),
]


@pytest.mark.parametrize(("spec", "message"), PARSE_BAD)
def test_parse_publish_rejects(spec: str, message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        ports.parse_publish(spec)


def test_publish_exposed_skips_ports_published_with_p() -> None:
    explicit = ports.parse_publish_all(["8080:80"])
    got = ports.publish_exposed(["80/tcp", "53/udp", "443"], explicit)
    assert got == [PM("", 0, 53, "udp"), PM("", 0, 443, "tcp")]


FORMAT = [
    ([PM("0.0.0.0", 8080, 80)], [], "0.0.0.0:8080->80/tcp"),
    # Docker's formatter lists host mappings whose numbers differ after the groups
    ([PM("0.0.0.0", 8080, 80)], ["9988/tcp"], "9988/tcp, 0.0.0.0:8080->80/tcp"),
    ([PM("0.0.0.0", 8899, 9988, "udp")], ["9988/tcp"], "9988/tcp, 0.0.0.0:8899->9988/udp"),
    ([], ["80/tcp", "81/tcp", "82/tcp", "90/udp"], "80-82/tcp, 90/udp"),
    ([PM("0.0.0.0", p, p) for p in range(3300, 3311)], [],
     "0.0.0.0:3300-3310->3300-3310/tcp"),
    ([PM("0.0.0.0", 8080, 80), PM("127.0.0.1", 9090, 90, "udp")], [],
     "0.0.0.0:8080->80/tcp, 127.0.0.1:9090->90/udp"),
    ([PM("::1", 8080, 80)], [], "[::1]:8080->80/tcp"),
    ([PM("::", 80, 80)], [], "[::]:80->80/tcp"),
    # published and exposed-only ports each group separately; exposed ones come first
    ([PM("0.0.0.0", 8000, 8000), PM("0.0.0.0", 8001, 8001)], ["22/tcp", "8000/tcp"],
     "22/tcp, 0.0.0.0:8000-8001->8000-8001/tcp"),
    # a gap closes the group (Docker emits the closed group before the open ones)
    ([], ["80/tcp", "81/tcp", "83/tcp"], "80-81/tcp, 83/tcp"),
    ([], [], ""),
]


@pytest.mark.parametrize(("mappings", "exposed", "text"), FORMAT)
def test_format_ports(mappings: list[PM], exposed: list[str], text: str) -> None:
    assert ports.format_ports(mappings, exposed) == text


def test_inspect_ports() -> None:
    got = ports.inspect_ports(
        [PM("0.0.0.0", 8080, 80), PM("127.0.0.1", 8081, 80)], ["80/tcp", "53/udp"]
    )
    assert got == {
        "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"},
                   {"HostIp": "127.0.0.1", "HostPort": "8081"}],
        "53/udp": None,
    }


def test_port_lines() -> None:
    maps = [PM("0.0.0.0", 8080, 80), PM("0.0.0.0", 10000, 9000, "udp"), PM("::1", 8443, 443)]
    assert ports.port_lines(maps) == [
        "80/tcp -> 0.0.0.0:8080", "443/tcp -> [::1]:8443", "9000/udp -> 0.0.0.0:10000"]
    assert ports.port_lines(maps, "web", "80") == ["0.0.0.0:8080"]
    assert ports.port_lines(maps, "web", "9000/udp") == ["0.0.0.0:10000"]
    with pytest.raises(NotFound, match="No public port '81' published for web"):
        ports.port_lines(maps, "web", "81")


def test_mapping_round_trips_through_a_dict() -> None:
    m = PM("0.0.0.0", 8080, 80, "udp")
    assert PM.from_dict(m.to_dict()) == m


def test_unprivileged_port_start_reads_the_sysctl(tmp_path: Path) -> None:
    f = tmp_path / "start"
    f.write_text("80\n")
    assert ports.unprivileged_port_start(str(f)) == 80
    assert ports.unprivileged_port_start(str(tmp_path / "missing")) == 1024


# Allocation test-binds loopback sockets: no processes, no namespaces.


def test_allocate_picks_random_ports_and_keeps_fixed_ones() -> None:
    free = ports.random_free_port("127.0.0.1")
    got = ports.allocate([PM("127.0.0.1", 0, 80), PM("127.0.0.1", free, 81), PM("", 0, 53, "udp")])
    assert got[0].host_port >= 1024 and got[0].host_ip == "127.0.0.1"
    assert got[1] == PM("127.0.0.1", free, 81)
    assert got[2].host_ip == "0.0.0.0" and got[2].protocol == "udp" and got[2].host_port > 0


def test_allocate_refuses_a_port_in_use() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(Conflict, match=f"Bind for 127.0.0.1:{port} failed: port is already"):
            ports.allocate([PM("127.0.0.1", port, 80)])
        # the wildcard address overlaps the loopback listener too
        with pytest.raises(Conflict):
            ports.allocate([PM("", port, 80)])


def _tcp_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def test_allocate_refuses_a_udp_port_in_use() -> None:
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
            busy.bind(("0.0.0.0", 0))
            port = busy.getsockname()[1]
            if not _tcp_free(port):
                continue  # some connection on the host has that TCP port: take another
            with pytest.raises(Conflict, match="already allocated"):
                ports.allocate([PM("", port, 53, "udp")])
            ports.allocate([PM("", port, 53, "tcp")])  # the same number over TCP is free
            return
    pytest.fail("no UDP port whose TCP twin is free")


def test_allocate_refuses_the_same_port_twice() -> None:
    port = ports.random_free_port("127.0.0.1")
    with pytest.raises(Conflict, match="already allocated"):
        ports.allocate([PM("127.0.0.1", port, 80), PM("", port, 81)])


def test_allocate_range_skips_taken_ports() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        got = ports.allocate([PM("127.0.0.1", port, 80, "tcp", port + 20)])
        assert port < got[0].host_port <= port + 20


def test_privileged_host_port_names_the_sysctl() -> None:
    start = ports.unprivileged_port_start()
    if start == 0:
        pytest.skip("every port is unprivileged on this host")
    if os.getuid() == 0:
        pytest.skip("root may bind any port")
    with pytest.raises(HostError) as info:
        ports.allocate([PM("", start - 1, 80)])
    assert "net.ipv4.ip_unprivileged_port_start" in info.value.message
    assert "sysctl -w net.ipv4.ip_unprivileged_port_start" in (info.value.hint or "")
