"""What `ps`, `port` and `inspect` show of a container's networking."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from pycontainer.containers.model import Container
from pycontainer.containers.netrecord import NetworkPlan, NetworkState
from pycontainer.containers.store import ContainerStore
from pycontainer.errors import PycError
from pycontainer.network import ports
from pycontainer.network.mode import HOST, NONE, SLIRP, USER
from pycontainer.ops.netsetup import load_state, parse_network_mode, requested_mappings
from pycontainer.paths import Paths

if TYPE_CHECKING:
    from pycontainer.jsontypes import JSON


def current_mappings(store: ContainerStore, c: Container) -> list[ports.PortMapping]:
    if not c.state.running:
        return []
    state = load_state(store, c.id)
    return [ports.PortMapping.from_dict(d) for d in state.ports] if state else []


def ps_ports(store: ContainerStore, c: Container) -> str:
    if not c.state.running:
        return ""
    exposed = c.config.network.exposed if c.config.network else []
    return ports.format_ports(current_mappings(store, c), exposed)


def ps_networks(c: Container) -> str:
    """The Networks column of `ps`."""
    net = c.config.network or NetworkPlan()
    if net.kind == USER:
        return ",".join(net.networks)
    if net.kind:
        return str(parse_network_mode(net.values or []).docker_name)
    return str(c.config.spec.network or "")


def port_lines(paths: Paths, ref: str, port_filter: str | None = None) -> list[str]:
    """`pyc port CONTAINER [PORT[/PROTO]]`."""
    store = ContainerStore(paths)
    cid = store.resolve(ref)
    c = store.load(cid)
    store.sync(c)
    return ports.port_lines(current_mappings(store, c), ref, port_filter)


def inspect_settings(store: ContainerStore, c: Container) -> JSON:
    """`NetworkSettings` of `pyc inspect`."""
    net = c.config.network or NetworkPlan()
    state = (load_state(store, c.id) if c.state.running else None) or NetworkState()
    exposed = net.exposed
    out: JSON = {
        "SandboxID": "", "SandboxKey": f"/proc/{c.state.pid}/ns/net" if c.state.pid else "",
        "Ports": ports.inspect_ports(current_mappings(store, c), exposed) if c.state.running
        else {},
        "IPAddress": "", "IPPrefixLen": 0, "Gateway": "", "MacAddress": "", "Networks": {},
    }
    kind = state.kind or net.kind
    if kind == SLIRP and state.ip:
        out.update(IPAddress=state.ip, IPPrefixLen=24, Gateway="10.0.2.2")
        out["Networks"] = {"slirp4netns": {"IPAddress": state.ip, "IPPrefixLen": 24,
                                           "Gateway": "10.0.2.2", "MacAddress": ""}}
    elif kind == USER:
        out["Networks"] = _user_networks(store, c, net)
    elif kind in (HOST, NONE):
        out["Networks"] = {kind: {"IPAddress": "", "Gateway": "", "MacAddress": ""}}
    return out


def _user_networks(store: ContainerStore, c: Container, net: NetworkPlan) -> JSON:
    from pycontainer.network import bridge, ipam

    out: JSON = {}
    nstore = bridge.store(store.paths)
    for name in net.networks:
        with contextlib.suppress(PycError, OSError):
            n = nstore.get(name)
            ep = n.endpoints.get(c.id)
            # not started yet: the aliases it will have (API 1.41 lists the short id)
            out[name] = ipam.endpoint_settings(n, ep) if ep else {
                "NetworkID": n.id, "IPAddress": "",
                "Aliases": list(dict.fromkeys([c.id[:12], *net.aliases]))}
    return out


def port_bindings(net: NetworkPlan) -> dict[str, list[dict[str, str]]]:
    """`HostConfig.PortBindings`: what was asked (host port "" = any)."""
    out: dict[str, list[dict[str, str]]] = {}
    for m in requested_mappings(net):
        out.setdefault(m.key, []).append({"HostIp": m.host_ip,
                                          "HostPort": str(m.host_port) if m.host_port else ""})
    return out
