"""IPAM, the network record store, and the DNS responder's packet logic (no namespaces)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pycontainer.errors import Conflict, NetworkNotFound, UsageError
from pycontainer.network import dns, ipam


def test_pick_subnet_skips_used_and_overlapping() -> None:
    assert ipam.pick_subnet([]) == "10.89.0.0/24"
    assert ipam.pick_subnet(["10.89.0.0/24", "10.89.2.0/24"]) == "10.89.1.0/24"
    assert ipam.pick_subnet(["10.89.0.0/23"]) == "10.89.2.0/24"


def test_addresses_and_macs() -> None:
    assert ipam.gateway_of("10.89.3.0/24") == "10.89.3.1"
    assert ipam.pick_address("10.89.0.0/24", "10.89.0.1", set()) == "10.89.0.2"
    assert ipam.pick_address("10.89.0.0/24", "10.89.0.1", {"10.89.0.2"}) == "10.89.0.3"
    with pytest.raises(Conflict, match="no free address"):
        ipam.pick_address("10.9.0.0/30", "10.9.0.1", {"10.9.0.2"})
    assert ipam.mac_for("10.89.0.2") == "02:42:0a:59:00:02"


@pytest.mark.parametrize(("subnet", "message"), [
    ("banana", "invalid subnet"), ("fd00::/64", "only IPv4"), ("10.0.0.0/31", "too small")])
def test_bad_subnets(subnet: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        ipam.parse_subnet(subnet)


@pytest.mark.parametrize("name", ["host", "none", "bridge", "-x", "a b", ""])
def test_bad_names(name: str) -> None:
    with pytest.raises(UsageError):
        ipam.check_name(name)


def test_store_lifecycle(tmp_path: Path) -> None:
    store = ipam.NetworkStore(tmp_path / "networks")
    n1 = store.create("n1")
    n2 = store.create("n2", subnet="192.168.50.0/24", labels={"a": "b"})
    assert (n1.subnet, n1.bridge, n2.bridge, n2.gateway) == (
        "10.89.0.0/24", "pyc0", "pyc1", "192.168.50.1")
    assert store.create("n3").subnet == "10.89.1.0/24"
    with pytest.raises(Conflict, match="already exists"):
        store.create("n1")
    with pytest.raises(Conflict, match="overlaps network n2"):
        store.create("n4", subnet="192.168.50.128/25")
    assert store.get(n2.id[:12]).name == "n2"
    assert [n.name for n in store.networks()] == ["n1", "n2", "n3"]
    with pytest.raises(NetworkNotFound):
        store.get("nope")


def test_store_endpoints(tmp_path: Path) -> None:
    store = ipam.NetworkStore(tmp_path / "networks")
    store.create("n1")
    _, a = store.attach("n1", "a" * 64, "web", ["www"])
    _, b = store.attach("n1", "b" * 64, "db")
    assert (a.ip, b.ip, a.veth) == ("10.89.0.2", "10.89.0.3", "v0aaaaaaaaaa")
    with pytest.raises(Conflict, match="endpoint with name web already exists"):
        store.attach("n1", "a" * 64, "web")
    with pytest.raises(Conflict, match="active endpoints"):
        store.remove("n1")
    assert store.get("n1").names() == {"web": a.ip, "www": a.ip, "a" * 12: a.ip,
                                       "db": b.ip, "b" * 12: b.ip}
    assert store.detach("n1", "a" * 64) == a
    assert store.attach("n1", "c" * 64, "c")[1].ip == "10.89.0.2"  # freed address reused
    with pytest.raises(Conflict, match="already in use"):
        store.attach("n1", "d" * 64, "d", ip="10.89.0.3")
    with pytest.raises(UsageError, match="not a free host address"):
        store.attach("n1", "d" * 64, "d", ip="10.89.0.1")
    assert store.detach("n1", "zzz") is None
    store.detach("n1", "b" * 64)
    store.detach("n1", "c" * 64)
    assert store.remove("n1").name == "n1"


def test_dns_packets_round_trip() -> None:
    packet = dns.build_query("Web.", qid=7)
    q = dns.parse_query(packet)
    assert (q.id, q.name, q.qtype) == (7, "web", dns.TYPE_A)
    reply = dns.build_answer(packet, q, ["10.89.0.2", "10.89.0.9"])
    assert dns.parse_answer_addresses(reply) == (0, ["10.89.0.2", "10.89.0.9"])
    nx = dns.build_answer(packet, q, [], dns.RCODE_NXDOMAIN)
    assert dns.parse_answer_addresses(nx) == (dns.RCODE_NXDOMAIN, [])
    with pytest.raises(ValueError):
        dns.parse_query(b"\x00\x01")


def test_dns_answers_only_on_the_askers_networks(tmp_path: Path) -> None:
    store = ipam.NetworkStore(tmp_path)
    store.create("n1")
    store.create("n2")
    store.attach("n1", "a" * 64, "web", ["www"])
    store.attach("n2", "c" * 64, "other")
    names = dns.Names(tmp_path)

    def ask(client: str, name: str, qtype: int = dns.TYPE_A) -> tuple[int, list[str]] | None:
        reply = dns.answer(names, dns.build_query(name, qtype), client)
        return None if reply is None else dns.parse_answer_addresses(reply)

    assert ask("10.89.0.9", "web") == (0, ["10.89.0.2"])
    assert ask("10.89.0.9", "WWW") == (0, ["10.89.0.2"])
    assert ask("10.89.0.9", "web", dns.TYPE_AAAA) == (0, [])  # known name, no IPv6: NODATA
    assert ask("10.89.1.5", "web") is None  # another network: relayed upstream, not answered
    assert ask("10.89.0.9", "example.com") is None
    store.detach("n1", "a" * 64)  # the change on disk is picked up at the next query
    store.attach("n1", "e" * 64, "web")
    assert ask("10.89.0.9", "web") == (0, ["10.89.0.2"])
    store.detach("n1", "e" * 64)
    assert ask("10.89.0.9", "web") is None
