"""User-defined networks: what the ops layer calls to create them and plug containers in.

    create_network(paths, name, subnet=None)                  -> ipam.Network (a record only)
    rootlessns.ensure(paths.runtime, paths.data)              -> Holder (before the container:
                                    it must be created in Holder.userns_path)
    connect(paths, container_id, name, netns_pid, network, aliases=()) -> (ip, mac)
    publish(paths, ip, allocated_port_mappings)               -> records for unpublish
    resolv_config(paths, networks, dns, dns_search, dns_option, host_resolv)
    unpublish(paths, records); disconnect(paths, container_id, network) or disconnect_all
    remove_network(paths, name) / prune_networks(paths)
    release(paths)                  stops the rootless namespace when no container uses it

A network is a Linux bridge (`pycN`, the gateway address on it) in the per-user rootless
network namespace (`network.rootlessns`); a container joins through a veth pair whose inside
end becomes `eth0` (`eth1`... for further networks) with the address IPAM picked. Links are
built with pyroute2, imported only inside the helpers that run in the namespaces.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from pycontainer.errors import Conflict, HostError, NetworkNotFound, PycError
from pycontainer.network import rootlessns
from pycontainer.network.ipam import Endpoint, Network, NetworkStore
from pycontainer.network.resolv import ResolvConfig
from pycontainer.network.resolv import resolv_config as slirp_resolv_config
from pycontainer.paths import Paths

if TYPE_CHECKING:
    from pyroute2 import IPRoute

    from pycontainer.jsontypes import JSON
    from pycontainer.network.ports import PortMapping

# As on tap0. With 1500, slirp4netns relays published-port traffic in 1460-byte segments:
# 0.6 Gbit/s measured through -p, against 4.6 with 65520 (and 11 vs 26 between containers).
MTU = 65520


def store(paths: Paths) -> NetworkStore:
    return NetworkStore(paths.data / "networks")


def create_network(paths: Paths, name: str, subnet: str | None = None, internal: bool = False,
                   labels: dict[str, str] | None = None, options: dict[str, str] | None = None,
                   attachable: bool = False) -> Network:
    """Record the network; its bridge appears when the first container connects."""
    return store(paths).create(name, subnet, internal, labels, options, attachable)


def remove_network(paths: Paths, name: str) -> Network:
    """Drop the record (refused while containers are connected) and the bridge if it exists."""
    net = store(paths).remove(name)
    holder = rootlessns.find(paths.runtime)
    if holder is not None:
        bridge = net.bridge
        rootlessns.run_inside(holder, lambda: _delete_link(bridge))
    return net


def connect(paths: Paths, container_id: str, container_name: str, netns_pid: int,
            network: str, aliases: list[str] | tuple[str, ...] = (),
            ip: str | None = None) -> tuple[str, str]:
    """Plug the network namespace of `netns_pid` into `network`; returns (ip, mac).

    The container must live in the rootless namespace's user namespace (see
    `rootlessns.userns_path`), which must therefore be running: `rootlessns.ensure` first.
    On failure the address is released and nothing is left behind.
    """
    holder = rootlessns.find(paths.runtime)
    if holder is None:
        raise HostError("the rootless network namespace is not running; "
                        "call rootlessns.ensure before creating the container")
    net, ep = store(paths).attach(network, container_id, container_name, list(aliases), ip)
    try:
        fd = os.open(f"/proc/{netns_pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        store(paths).detach(network, container_id)
        raise HostError(f"container process {netns_pid} is gone") from None
    try:
        rootlessns.run_inside(holder, lambda: _plug(net, ep, fd))
    except BaseException:
        store(paths).detach(network, container_id)
        with contextlib.suppress(OSError, PycError):  # the first failure is what counts
            rootlessns.run_inside(holder, lambda: _delete_link(ep.veth))
        raise
    finally:
        os.close(fd)
    return ep.ip, ep.mac


def disconnect(paths: Paths, container_id: str, network: str) -> None:
    """Remove the container's veth (if its namespace still exists) and free its address."""
    ep = store(paths).detach(network, container_id)
    holder = rootlessns.find(paths.runtime)
    if ep is not None and holder is not None:
        veth = ep.veth
        rootlessns.run_inside(holder, lambda: _delete_link(veth))


def publish(paths: Paths, container_ip: str, mappings: Iterable[PortMapping]) -> list[JSON]:
    """Publish allocated host ports (`ports.PortMapping`s) of a container on a user-defined
    network; returns what `unpublish` needs (keep it in the container's state).

    libslirp cannot reach addresses outside its own subnet, so slirp4netns forwards each host
    port to the rootless namespace's own address (10.0.2.100, same port number) and an nft
    DNAT map entry there sends it on to the container. The client's address is kept.
    """
    holder = rootlessns.find(paths.runtime)
    if holder is None:
        raise HostError("the rootless network namespace is not running")
    done: list[JSON] = []
    try:
        for m in mappings:
            done.append(_publish_one(holder, container_ip, m))
    except BaseException:
        unpublish(paths, done)
        raise
    return done


def _publish_one(holder: rootlessns.Holder, container_ip: str, m: PortMapping) -> JSON:
    from pycontainer.network import slirp

    key = f"{m.protocol} . {m.host_port}"
    element = f"{{ {key} : {container_ip} . {m.container_port} }}"
    rootlessns.run_inside(holder, lambda: rootlessns.nft(
        f"add element ip pycontainer published {element}"))
    try:
        fid = slirp.add_forward(holder.api_socket, m.protocol, m.host_ip, m.host_port,
                                m.host_port)
    except BaseException:
        _unmap(holder, key)
        raise
    return {"id": fid, "protocol": m.protocol, "host_port": m.host_port}


def unpublish(paths: Paths, published: Sequence[Mapping[str, object]]) -> None:
    from pycontainer.network import slirp

    holder = rootlessns.find(paths.runtime)
    if holder is None:
        return  # its slirp4netns, and every forward, went with it
    for p in published:
        with contextlib.suppress(HostError):
            fid = p.get("id")
            if isinstance(fid, int):  # publish's record: its slirp4netns forward id
                slirp.remove_forward(holder.api_socket, fid)
        with contextlib.suppress(HostError):
            _unmap(holder, f"{p['protocol']} . {p['host_port']}")


def _unmap(holder: rootlessns.Holder, key: str) -> None:
    rootlessns.run_inside(holder, lambda: rootlessns.nft(
        f"delete element ip pycontainer published {{ {key} }}"))


def disconnect_all(paths: Paths, container_id: str) -> list[str]:
    """Take the container off every network it is on (its removal, or its exit)."""
    names = [n.name for n in store(paths).networks() if container_id in n.endpoints]
    for name in names:
        disconnect(paths, container_id, name)
    return names


def prune_networks(paths: Paths) -> list[str]:
    """`pyc network prune`: remove every network no container is connected to."""
    removed = []
    for net in store(paths).networks():
        if not net.endpoints:
            with contextlib.suppress(Conflict, NetworkNotFound):
                removed.append(remove_network(paths, net.name).name)
    return removed


def resolv_config(paths: Paths, networks: list[str], dns: list[str] | None = None,
                  dns_search: list[str] | None = None, dns_option: list[str] | None = None,
                  host_resolv: str = "") -> ResolvConfig:
    """/etc/resolv.conf for a container on user-defined networks.

    The first network's gateway comes first (pyc's responder there knows container names and
    relays the rest); `--dns` servers follow it, used only if it does not answer.
    """
    first = store(paths).get(networks[0])
    base = slirp_resolv_config(None, dns, dns_search, dns_option, host_resolv)
    servers = (first.gateway, *(dns or []))
    return ResolvConfig(servers, base.search, base.options)


def release(paths: Paths) -> bool:
    """Stop the rootless namespace (and its slirp4netns) when no container is connected."""
    if any(n.endpoints for n in store(paths).networks()):
        return False
    return rootlessns.stop(paths.runtime)


# --- helpers that run inside the rootless namespace (forked, after setns) -------------------


def _delete_link(name: str) -> bool:
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        found = ipr.link_lookup(ifname=name)
        if found:
            ipr.link("del", index=found[0])
        return bool(found)


def _ensure_bridge(ipr: IPRoute, net: Network) -> int:
    from pyroute2 import NetlinkError

    found = ipr.link_lookup(ifname=net.bridge)
    if found:
        return int(found[0])
    try:
        ipr.link("add", ifname=net.bridge, kind="bridge")
    except NetlinkError as exc:
        if exc.code != errno.EEXIST:
            raise
        # another pyc connecting its first container to this network made it meanwhile
        return int(ipr.link_lookup(ifname=net.bridge)[0])
    idx = int(ipr.link_lookup(ifname=net.bridge)[0])
    prefix = ipaddress.ip_network(net.subnet).prefixlen
    ipr.addr("add", index=idx, address=net.gateway, prefixlen=prefix)
    ipr.link("set", index=idx, state="up", mtu=MTU)
    return idx


def _plug(net: Network, ep: Endpoint, container_netns: int) -> str:
    """Create the veth pair, hang the host end on the bridge, configure the inside end."""
    from pyroute2 import IPRoute

    from pycontainer.linux import syscalls

    peer = f"p{ep.veth[1:]}"[:15]
    with IPRoute() as ipr:
        bridge = _ensure_bridge(ipr, net)
        ipr.link("add", ifname=ep.veth, kind="veth", peer={"ifname": peer})
        host_end = ipr.link_lookup(ifname=ep.veth)[0]
        ipr.link("set", index=host_end, master=bridge, mtu=MTU, state="up")
        ipr.link("set", index=ipr.link_lookup(ifname=peer)[0], net_ns_fd=container_netns)
    syscalls.setns(container_netns, syscalls.CLONE_NEWNET)
    return _configure_inside(net, ep, peer)


def _configure_inside(net: Network, ep: Endpoint, peer: str) -> str:
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        names = {link.get_attr("IFLA_IFNAME") for link in ipr.get_links()}
        ifname = next(f"eth{i}" for i in range(64) if f"eth{i}" not in names)
        idx = ipr.link_lookup(ifname=peer)[0]
        ipr.link("set", index=idx, ifname=ifname, address=ep.mac, mtu=MTU)
        prefix = ipaddress.ip_network(net.subnet).prefixlen
        ipr.addr("add", index=idx, address=ep.ip, prefixlen=prefix)
        ipr.link("set", index=idx, state="up")
        lo = ipr.link_lookup(ifname="lo")
        if lo:
            ipr.link("set", index=lo[0], state="up")
        if not net.internal and not _has_default(ipr):
            ipr.route("add", dst="0.0.0.0/0", gateway=net.gateway, oif=idx)
    return ifname


def _has_default(ipr: IPRoute) -> bool:
    return any(r.get_attr("RTA_DST") is None and r["dst_len"] == 0
               for r in ipr.get_routes(family=2))
