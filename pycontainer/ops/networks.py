"""`pyc network create|ls|inspect|rm|prune|exists` (connect/disconnect come with `run`).

Pre-defined networks: like Docker, `network ls` shows `bridge`, `host` and `none` (drivers
bridge, host, null), which `--network` accepts as modes. pyc's `bridge` is the rootless
default, a private namespace behind slirp4netns, so its inspect object shows slirp's subnet
(10.0.2.0/24, gateway 10.0.2.2). They cannot be created, removed or pruned; their ids are
fixed (sha256 of "pycontainer/network/NAME") and their `Created` is Go's zero time. Their
`Containers` is empty: only user-defined networks record endpoints.

In use: a user-defined network is in use while a container is connected (an endpoint in its
record, `network.ipam`) or while any container's config names it: `config.network["networks"]`
(a list of names, or a dict keyed by name) or a user-network value of `spec.network`
(`network.mode.parse_network_mode`). Like Podman (Docker removes it and the stopped
container's next start fails), `rm` and `prune` leave a network alone while a stopped container
would still need it. `users_of(paths, name)` is that rule, in one place.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from typing import TYPE_CHECKING, Any

from pycontainer.errors import (
    Conflict,
    ContainerNotFound,
    IntegrityError,
    NetworkNotFound,
    UsageError,
)
from pycontainer.formats import filters as _filters
from pycontainer.formats.sortorder import natural_key
from pycontainer.network.ipam import Network, NetworkStore, inspect_network
from pycontainer.ops import events
from pycontainer.paths import Paths

if TYPE_CHECKING:
    from pycontainer.containers.netrecord import NetworkPlan
    from pycontainer.oci.convert import ContainerSpec

ZERO_TIME = "0001-01-01T00:00:00Z"
BUILTIN_DRIVERS = {"bridge": "bridge", "host": "host", "none": "null"}
LIST_FILTERS = frozenset({"driver", "id", "label", "name", "scope", "type", "dangling"})
PRUNE_FILTERS = frozenset({"until", "label", "label!"})


def _records(paths: Paths) -> NetworkStore:
    """bridge.store(paths): the network records, without the bridge module (the rootless
    namespace, slirp: ~15 ms to import), which only connecting and removing need."""
    return NetworkStore(paths.data / "networks")


def builtin_id(name: str) -> str:
    return hashlib.sha256(f"pycontainer/network/{name}".encode()).hexdigest()


def _builtin(name: str) -> dict[str, Any]:
    from pycontainer.network.constants import DEFAULT_CIDR

    config = []
    if name == "bridge":
        gateway = str(ipaddress.ip_network(DEFAULT_CIDR).network_address + 2)
        config = [{"Subnet": DEFAULT_CIDR, "Gateway": gateway}]
    return {
        "Name": name, "Id": builtin_id(name), "Created": ZERO_TIME, "Scope": "local",
        "Driver": BUILTIN_DRIVERS[name], "EnableIPv4": name == "bridge", "EnableIPv6": False,
        "IPAM": {"Driver": "default", "Options": None, "Config": config},
        "Internal": False, "Attachable": False, "Ingress": False,
        "ConfigFrom": {"Network": ""}, "ConfigOnly": False, "Containers": {},
        "Options": {}, "Labels": {},
    }


def _find_builtin(ref: str) -> str | None:
    if ref in BUILTIN_DRIVERS:
        return ref
    if ref:
        hits = [n for n in BUILTIN_DRIVERS if builtin_id(n).startswith(ref)]
        if len(hits) == 1:
            return hits[0]
    return None


def is_builtin(ref: str) -> bool:
    """Is `ref` (a name or id prefix) one of the pre-defined networks?"""
    return _find_builtin(ref) is not None


def _get(paths: Paths, ref: str) -> Network:
    try:
        return _records(paths).get(ref)
    except NetworkNotFound:
        raise NetworkNotFound(f"No such network: {ref}") from None


# --- in use --------------------------------------------------------------------------------


def networks_of(spec: ContainerSpec, network: NetworkPlan | None) -> list[str]:
    """The user-defined networks a container's config names (see the module docstring)."""
    from pycontainer.network.mode import USER, parse_network_mode

    names: list[str] = list(network.networks) if network else []
    value = spec.network
    if isinstance(value, str) and value and value != "private":
        try:
            mode = parse_network_mode([value])
        except UsageError:
            return names
        if mode.kind == USER:
            names.extend(n for n in mode.networks if n not in names)
    return names


def usage(paths: Paths) -> dict[str, list[str]]:
    """network name -> ids of the containers connected to it or configured to use it."""
    from pycontainer.containers.store import ContainerStore

    users: dict[str, list[str]] = {}
    for net in _records(paths).networks():
        users[net.name] = sorted(net.endpoints)
    cstore = ContainerStore(paths)
    for cid in sorted(cstore.ids()):
        try:
            config = cstore.load_config(cid)  # its state may be broken: still a user
        except (ContainerNotFound, IntegrityError, OSError, ValueError, TypeError):
            continue
        for name in networks_of(config.spec, config.network):
            ids = users.setdefault(name, [])
            if cid not in ids:
                ids.append(cid)
    return {k: v for k, v in users.items() if v}


def users_of(paths: Paths, name: str) -> list[str]:
    """Ids of the containers that use network `name` (empty: it may be removed)."""
    return usage(paths).get(name, [])


# --- create / inspect / exists -------------------------------------------------------------


def create(paths: Paths, name: str, subnet: str | None = None, gateway: str | None = None,
           internal: bool = False, labels: dict[str, str] | None = None,
           driver: str = "bridge", options: dict[str, str] | None = None,
           attachable: bool = False) -> dict[str, Any]:
    """`network create`: the new network's inspect object (the CLI prints its Id).

    `options` are recorded and shown as given (the API's clients compare them); pyc's bridge
    reads none of them."""
    if driver != "bridge":
        raise UsageError(f'network driver "{driver}" is not supported: pyc has only "bridge"')
    if name in BUILTIN_DRIVERS:
        raise Conflict(f"network with name {name} already exists")
    if gateway and not subnet:
        raise UsageError("every ip-range or gateway must have a corresponding subnet")
    if gateway and subnet:
        _check_gateway(subnet, gateway)
    # bridge.create_network: the record only (its bridge appears at the first connect)
    net = _records(paths).create(name, subnet, internal, labels, options, attachable)
    if gateway and gateway != net.gateway:
        net = _set_gateway(paths, net.name, gateway)
    events.network(paths, "create", net.id, net.name)
    return inspect_network(net)


def _check_gateway(subnet: str, gateway: str) -> None:
    try:
        addr = ipaddress.IPv4Address(gateway)
        net = ipaddress.ip_network(subnet, strict=False)
    except ValueError:
        raise UsageError(f"invalid gateway {gateway!r}") from None
    if addr not in net:
        raise UsageError(f"no matching subnet for gateway {gateway}")
    if addr in (net.network_address, net.broadcast_address):
        raise UsageError(f"gateway {gateway} is not a host address of {net}")


def _set_gateway(paths: Paths, name: str, gateway: str) -> Network:
    # The bridge (which carries the gateway address) appears at the first connect, so the
    # record can still change here; under the store's lock like every writer.
    store = _records(paths)
    with store.locked():
        net = store.get(name)
        net.gateway = gateway
        store.save(net)
    return net


def inspect(paths: Paths, ref: str) -> dict[str, Any]:
    builtin = _find_builtin(ref)
    if builtin is not None:
        return _builtin(builtin)
    return inspect_network(_get(paths, ref))


def exists(paths: Paths, ref: str) -> bool:
    try:
        inspect(paths, ref)
    except (NetworkNotFound, UsageError):
        return False
    return True


# --- ls ------------------------------------------------------------------------------------


def list_networks(paths: Paths, filters: list[str]) -> list[dict[str, Any]]:
    """`network ls`: inspect objects, pre-defined ones included, sorted by name."""
    parsed = _filters.parse(filters)
    _check_list_filters(parsed)
    objs = [(_builtin(n), True) for n in BUILTIN_DRIVERS]
    objs += [(inspect_network(n), False) for n in _records(paths).networks()]
    used = usage(paths) if "dangling" in parsed else {}
    out = [obj for obj, builtin in objs if _selected(obj, parsed, builtin, obj["Name"] in used)]
    return sorted(out, key=lambda o: natural_key(o["Name"]))


def _selected(obj: dict[str, Any], parsed: dict[str, list[str]], builtin: bool,
              used: bool) -> bool:
    """Every key holds, each through any one of its values; every label= must hold
    (Docker's MatchKVList)."""
    return all((all if key == "label" else any)(_matches(obj, key, v, builtin, used)
                                                 for v in values)
               for key, values in parsed.items())


def _check_list_filters(parsed: dict[str, list[str]]) -> None:
    _filters.validate(parsed, LIST_FILTERS)
    for key, values in parsed.items():
        for value in values:
            if key == "type" and value not in ("custom", "builtin"):
                raise UsageError(f"invalid filter: 'type'='{value}'")
            if key == "dangling":
                _filters.boolean(key, value)
            if key in ("name", "id"):
                _regex(value)


def _regex(value: str) -> re.Pattern[str]:
    try:
        return re.compile(value)
    except re.error as exc:
        raise UsageError(f"invalid filter value {value!r}: {exc}") from None


def _matches(obj: dict[str, Any], key: str, value: str, builtin: bool, used: bool) -> bool:
    # Docker: name and id are regular expressions (filters.Args.Match), the rest exact
    if key in ("name", "id"):
        field = obj["Name"] if key == "name" else obj["Id"]
        return field == value or bool(_regex(value).search(field))
    if key == "driver":
        return bool(obj["Driver"] == value)
    if key == "scope":
        return bool(obj["Scope"] == value)
    if key == "label":
        return _filters.match_label(obj["Labels"] or {}, value)
    if key == "type":
        return builtin == (value == "builtin")
    # dangling: no container uses it; pre-defined networks are never dangling
    dangling = not builtin and not used
    return dangling == _filters.boolean(key, value)


# --- rm / prune ----------------------------------------------------------------------------


def remove(paths: Paths, ref: str, force: bool = False) -> bool:
    """`network rm [-f]`: False when `force` and there was no such network."""
    builtin = _find_builtin(ref)
    if builtin is not None:
        raise Conflict(f"{builtin} is a pre-defined network and cannot be removed")
    try:
        net = _get(paths, ref)
    except NetworkNotFound:
        if force:
            return False
        raise
    users = users_of(paths, net.name)
    if users:
        raise Conflict(f"error while removing network: network {net.name} id {net.id} has "
                       f"active endpoints ({', '.join(u[:12] for u in users)})")
    from pycontainer.network import bridge

    bridge.remove_network(paths, net.name)
    events.network(paths, "destroy", net.id, net.name)
    return True


def check_prune_filters(filters: list[str]) -> dict[str, list[str]]:
    """Validate `network prune --filter` values (before its prompt)."""
    return _filters.check(filters, PRUNE_FILTERS)


def prune(paths: Paths, filters: list[str]) -> list[str]:
    """`network prune [--filter until=|label=|label!=]`: names of the removed networks."""
    from pycontainer.network import bridge

    parsed = check_prune_filters(filters)
    until = _filters.until(parsed)
    used = usage(paths)
    removed = []
    for net in sorted(_records(paths).networks(), key=lambda n: natural_key(n.name)):
        if net.name in used or not _prunable(net, parsed, until):
            continue
        try:
            bridge.remove_network(paths, net.name)
        except (Conflict, NetworkNotFound):
            continue  # a container connected meanwhile, or another prune was faster
        removed.append(net.name)
    return removed


def _prunable(net: Network, parsed: dict[str, list[str]], until: float | None) -> bool:
    from pycontainer.formats.timestamps import epoch

    if until is not None and epoch(net.created, 0.0) >= until:
        return False
    return _filters.labels_match(net.labels, parsed)
