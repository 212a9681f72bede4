"""`pyc network connect|disconnect`: a container joins or leaves a user-defined network.

A stopped container only has its configuration changed (the next start connects it). A running
one is plugged in or out at once, which needs its network namespace to live in the rootless
network namespace's user namespace: true for containers started on a user-defined network.
"""

from __future__ import annotations

from dataclasses import replace

from pycontainer.containers.model import Container
from pycontainer.containers.netrecord import Endpoint, NetworkPlan, NetworkState
from pycontainer.containers.store import ContainerStore
from pycontainer.errors import Conflict, UsageError
from pycontainer.network.mode import SLIRP, USER
from pycontainer.ops import events, netsetup
from pycontainer.paths import Paths


def _save_config(store: ContainerStore, c: Container) -> None:
    store.save_config(c.config)


def _user_networks(c: Container) -> list[str]:
    return c.config.network.user_networks if c.config.network else []


def connect(paths: Paths, network: str, ref: str, aliases: list[str] | None = None,
            ip: str | None = None) -> None:
    from pycontainer.network import bridge

    name = bridge.store(paths).get(network).name  # NetworkNotFound
    store = ContainerStore(paths)
    cid = store.resolve(ref)
    with store.lock(cid):
        c = store.load(cid)
        store.sync(c)
        net = replace(c.config.network or NetworkPlan())
        kind = net.kind or SLIRP
        if kind not in (USER, SLIRP):
            raise Conflict(f"container {c.name} uses --network {kind}: it cannot be connected "
                           "to other networks")
        current = _user_networks(c)
        if name in current:
            raise Conflict(f"endpoint with name {c.name} already exists in network {name}")
        if c.state.running:
            _connect_running(paths, store, c, name, kind, aliases or [], ip)
        net.kind, net.networks, net.values = USER, [*current, name], [*current, name]
        if aliases:
            net.aliases = list(dict.fromkeys([*net.aliases, *aliases]))
        c.config.network = net
        _save_config(store, c)
    events.network(paths, "connect", bridge.store(paths).get(name).id, name, container=cid)


def _connect_running(paths: Paths, store: ContainerStore, c: Container, name: str, kind: str,
                     aliases: list[str], ip: str | None) -> None:
    from pycontainer.network import bridge

    if kind != USER:
        raise UsageError(f"container {c.name} is running on slirp4netns: pyc can connect it to "
                         f"{name} once it is stopped (or start it with --network {name})")
    addr, mac = bridge.connect(paths, c.id, c.name, c.state.pid, name, aliases, ip)
    state = netsetup.load_state(store, c.id) or NetworkState()
    state.networks[name] = Endpoint(addr, mac)
    netsetup.save_state(store, c.id, state)
    _refresh(paths, store, c, [*_user_networks(c), name])


def _refresh(paths: Paths, store: ContainerStore, c: Container, networks: list[str]) -> None:
    netsetup.refresh_peer_hosts(paths, store, networks)


def disconnect(paths: Paths, network: str, ref: str, force: bool = False) -> None:
    from pycontainer.network import bridge

    name = bridge.store(paths).get(network).name
    store = ContainerStore(paths)
    cid = store.resolve(ref)
    with store.lock(cid):
        c = store.load(cid)
        store.sync(c)
        current = _user_networks(c)
        if name not in current:
            if force:
                return
            raise Conflict(f"container {c.name} is not connected to network {name}")
        if c.state.running:
            bridge.disconnect(paths, c.id, name)
            state = netsetup.load_state(store, c.id) or NetworkState()
            state.networks.pop(name, None)
            netsetup.save_state(store, c.id, state)
            _refresh(paths, store, c, current)
        left = [n for n in current if n != name]
        net = replace(c.config.network or NetworkPlan())
        if left:
            net.networks, net.values = left, list(left)
        else:
            net.kind, net.networks, net.values = "none", [], ["none"]
        c.config.network = net
        _save_config(store, c)
    events.network(paths, "disconnect", bridge.store(paths).get(name).id, name, container=cid)
