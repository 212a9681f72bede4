"""`--network` values and Docker's network output forms (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pycontainer.errors import UsageError
from pycontainer.network import ipam
from pycontainer.network.mode import NetworkMode, parse_network_mode
from pycontainer.network.slirp import SlirpOptions

MODES = [
    (None, NetworkMode("slirp4netns")),
    ([], NetworkMode("slirp4netns")),
    (["none"], NetworkMode("none")),
    (["host"], NetworkMode("host")),
    (["bridge"], NetworkMode("slirp4netns")),
    (["slirp4netns:allow_host_loopback=true,mtu=1500"],
     NetworkMode("slirp4netns", slirp=SlirpOptions(allow_host_loopback=True, mtu=1500))),
    (["container:web"], NetworkMode("container", container="web")),
    (["n1"], NetworkMode("user", ("n1",))),
    (["n1", "n2"], NetworkMode("user", ("n1", "n2"))),
]


@pytest.mark.parametrize(("values", "expected"), MODES)
def test_parse_network_mode(values: list[str] | None, expected: NetworkMode) -> None:
    assert parse_network_mode(values) == expected


@pytest.mark.parametrize(("values", "message"), [
    (["host:x"], "takes no options"),
    (["container:"], "needs a container"),
    (["n1", "host"], "cannot be combined"),
    (["n1", "n1"], "given twice"),
    (["slirp4netns:bogus=1"], "unknown slirp4netns option"),
    (["n1:x"], "invalid --network value"),
])
def test_parse_network_mode_rejects(values: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_network_mode(values)


def test_mode_properties() -> None:
    assert parse_network_mode(["n1"]).docker_name == "n1"
    assert parse_network_mode(["container:db"]).docker_name == "container:db"
    assert parse_network_mode(["host"]).private_netns is False
    assert parse_network_mode(None).private_netns is True


def test_inspect_forms(tmp_path: Path) -> None:
    store = ipam.NetworkStore(tmp_path)
    store.create("n1", labels={"team": "a"})
    net, ep = store.attach("n1", "a" * 64, "web", ["www"])
    out = ipam.inspect_network(store.get("n1"))
    assert out["Name"] == "n1" and out["Driver"] == "bridge" and out["Scope"] == "local"
    assert out["IPAM"]["Config"] == [{"Subnet": "10.89.0.0/24", "Gateway": "10.89.0.1"}]
    assert out["Containers"]["a" * 64]["IPv4Address"] == "10.89.0.2/24"
    assert out["Labels"] == {"team": "a"}
    settings = ipam.endpoint_settings(net, ep)
    assert settings["IPAddress"] == "10.89.0.2" and settings["IPPrefixLen"] == 24
    assert settings["Gateway"] == "10.89.0.1" and settings["NetworkID"] == net.id
    assert settings["DNSNames"] == ["web", "a" * 12, "www"]
    assert settings["EndpointID"] == out["Containers"]["a" * 64]["EndpointID"]


def test_peer_hosts(tmp_path: Path) -> None:
    store = ipam.NetworkStore(tmp_path)
    store.create("n1")
    store.create("n2")
    store.attach("n1", "a" * 64, "web", ["www"])
    store.attach("n1", "b" * 64, "db")
    store.attach("n2", "c" * 64, "other")
    assert ipam.peer_hosts(store.networks(), "a" * 64) == [("10.89.0.3", ["db", "b" * 12])]
    assert ipam.peer_hosts(store.networks(), "c" * 64) == []
