"""network.forwarder's pure parts: which source address the container is shown, and which
mappings the forwarder takes (the rest stays with slirp4netns)."""

from __future__ import annotations

import pytest

from pycontainer.network import forwarder
from pycontainer.network.ports import PortMapping


@pytest.mark.parametrize(("peer", "shown"), [
    ("127.0.0.1", "10.0.2.2"),
    ("127.1.2.3", "10.0.2.2"),
    ("192.0.2.7", "192.0.2.7"),
    ("10.0.2.2", "10.0.2.2"),
])
def test_loopback_clients_are_the_gateway_as_in_libslirp(peer: str, shown: str) -> None:
    assert forwarder.shown_source(peer, "10.0.2.2") == shown


def test_usable_needs_ipv4_tcp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forwarder, "ip_binary", lambda: "/usr/sbin/ip")
    tcp = PortMapping("127.0.0.1", 8080, 80)
    udp = PortMapping("0.0.0.0", 5353, 53, "udp")
    assert forwarder.usable([tcp, udp])
    assert not forwarder.usable([udp])
    assert not forwarder.usable([tcp, PortMapping("::1", 8081, 81)])
    monkeypatch.setattr(forwarder, "ip_binary", lambda: None)
    assert not forwarder.usable([tcp])
