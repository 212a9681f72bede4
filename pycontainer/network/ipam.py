"""User-defined networks: their records, and address management (IPAM) on each subnet.

Layout under the data dir:

    <data>/networks/.lock        flock: one writer at a time for every network record
    <data>/networks/NAME.json    a network and its endpoints (container -> ip, mac, names)

Each network gets a subnet (`--subnet`, else the first free 10.89.N.0/24 as Podman does), its
gateway is the first address (the bridge's, also where pyc's DNS answers) and containers get
the lowest free address after it. Addresses go back to the pool on disconnect. Records are
replaced atomically, so a reader never sees half a record; writers hold the lock.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pycontainer.errors import Conflict, NetworkNotFound, UsageError
from pycontainer.linux import fs
from pycontainer.linux.locks import FileLock

DEFAULT_POOL = "10.89.0.0/16"
DRIVER = "bridge"
_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
#: Docker's predefined networks; `--network NAME` with these means the mode, not a record.
RESERVED = frozenset({"bridge", "host", "none", "default", "slirp4netns", "pasta", "private"})


@dataclass
class Endpoint:
    container_id: str
    name: str
    ip: str
    mac: str
    aliases: list[str] = field(default_factory=list)
    #: the host-side veth name in the rootless namespace
    veth: str = ""


@dataclass
class Network:
    name: str
    id: str
    subnet: str
    gateway: str
    bridge: str
    created: str
    driver: str = DRIVER
    internal: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    #: driver options as given (the API echoes them: compose compares every key)
    options: dict[str, str] = field(default_factory=dict)
    #: Docker's Attachable: recorded and shown (every local network can be connected to)
    attachable: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Network:
        eps = {k: Endpoint(**v) for k, v in data.get("endpoints", {}).items()}
        return cls(**{**data, "endpoints": eps})

    def names(self) -> dict[str, str]:
        """name or alias -> ip for every container on this network (DNS and /etc/hosts)."""
        out: dict[str, str] = {}
        for ep in self.endpoints.values():
            for name in (ep.name, ep.container_id[:12], *ep.aliases):
                if name:
                    out[name.lower()] = ep.ip
        return out


# --- Docker's output forms ------------------------------------------------------------------


def endpoint_id(net: Network, container_id: str) -> str:
    import hashlib

    return hashlib.sha256(f"{net.id}/{container_id}".encode()).hexdigest()


def inspect_network(net: Network) -> dict[str, Any]:
    """`pyc network inspect`: Docker's network object, key for key."""
    prefix = ipaddress.ip_network(net.subnet).prefixlen
    containers = {
        ep.container_id: {"Name": ep.name, "EndpointID": endpoint_id(net, ep.container_id),
                          "MacAddress": ep.mac, "IPv4Address": f"{ep.ip}/{prefix}",
                          "IPv6Address": ""}
        for ep in net.endpoints.values()
    }
    return {
        "Name": net.name, "Id": net.id, "Created": net.created, "Scope": "local",
        "Driver": net.driver, "EnableIPv4": True, "EnableIPv6": False,
        "IPAM": {"Driver": "default", "Options": {},
                 "Config": [{"Subnet": net.subnet, "Gateway": net.gateway}]},
        "Internal": net.internal, "Attachable": net.attachable, "Ingress": False,
        "ConfigFrom": {"Network": ""}, "ConfigOnly": False, "Containers": containers,
        "Options": dict(net.options), "Labels": dict(net.labels),
    }


def endpoint_settings(net: Network, ep: Endpoint) -> dict[str, Any]:
    """One entry of a container's `NetworkSettings.Networks` in `inspect`."""
    return {
        # API 1.41: the short id first (DNS answers it too; compose looks for it there)
        "IPAMConfig": None, "Links": None,
        "Aliases": [n for n in (ep.container_id[:12], *ep.aliases) if n] or None,
        "MacAddress": ep.mac, "DriverOpts": None, "NetworkID": net.id,
        "EndpointID": endpoint_id(net, ep.container_id), "Gateway": net.gateway,
        "IPAddress": ep.ip, "IPPrefixLen": ipaddress.ip_network(net.subnet).prefixlen,
        "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
        "DNSNames": [n for n in (ep.name, ep.container_id[:12], *ep.aliases) if n],
    }


def peer_hosts(networks: list[Network], container_id: str) -> list[tuple[str, list[str]]]:
    """(ip, names) of the other containers on the networks `container_id` is on, for an
    /etc/hosts that lists network peers (DNS answers the same names)."""
    out: list[tuple[str, list[str]]] = []
    for net in networks:
        if container_id not in net.endpoints:
            continue
        for ep in net.endpoints.values():
            if ep.container_id != container_id:
                names = [n for n in (ep.name, ep.container_id[:12], *ep.aliases) if n]
                out.append((ep.ip, names))
    return out


# --- pure address arithmetic -----------------------------------------------------------------


def parse_subnet(text: str) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise UsageError(f"invalid subnet {text!r}") from None
    if not isinstance(net, ipaddress.IPv4Network):
        raise UsageError(f"subnet {text}: only IPv4 subnets are supported")
    if net.prefixlen > 30:
        raise UsageError(f"subnet {text} is too small: it needs room for a gateway and hosts")
    return net


def pick_subnet(used: list[str], pool: str = DEFAULT_POOL) -> str:
    """The first /24 of `pool` that overlaps none of `used` (10.89.0.0/24, 10.89.1.0/24...)."""
    taken = [ipaddress.ip_network(u) for u in used]
    for candidate in ipaddress.ip_network(pool).subnets(new_prefix=24):
        if not any(candidate.overlaps(t) for t in taken):
            return str(candidate)
    raise Conflict(f"no free subnet left in {pool}; remove a network or give --subnet")


def gateway_of(subnet: str) -> str:
    return str(parse_subnet(subnet).network_address + 1)


def pick_address(subnet: str, gateway: str, used: set[str]) -> str:
    """The lowest free host address of `subnet`, skipping the gateway."""
    for host in parse_subnet(subnet).hosts():
        ip = str(host)
        if ip != gateway and ip not in used:
            return ip
    raise Conflict(f"no free address left on subnet {subnet}")


def mac_for(ip: str) -> str:
    """Docker's scheme: 02:42 (locally administered) followed by the IPv4 address's bytes."""
    return "02:42:" + ":".join(f"{b:02x}" for b in ipaddress.IPv4Address(ip).packed)


def check_name(name: str) -> None:
    if not _NAME.match(name):
        raise UsageError(f"invalid network name {name!r}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
                         "allowed")
    if name in RESERVED:
        raise UsageError(f"network name {name} is reserved for a network mode")


# --- the record store ------------------------------------------------------------------------


class NetworkStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, name: str) -> Path:
        return self.root / f"{name}.json"

    @contextmanager
    def locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with FileLock(self.root / ".lock"):
            yield

    def networks(self) -> list[Network]:
        try:
            names = sorted(p.name for p in self.root.iterdir() if p.suffix == ".json")
        except FileNotFoundError:
            return []
        out = []
        for n in names:
            try:
                out.append(Network.from_dict(fs.read_json(self.root / n)))
            except (OSError, ValueError, TypeError):
                continue  # removed meanwhile, or not a record of ours
        return out

    def get(self, ref: str) -> Network:
        """By name, full id or unique id prefix (as Docker resolves network references)."""
        try:
            return Network.from_dict(fs.read_json(self._path(ref)))
        except FileNotFoundError:
            pass
        matches = [n for n in self.networks() if n.id.startswith(ref)] if ref else []
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise UsageError(f"network {ref} is ambiguous ({len(matches)} matches)")
        raise NetworkNotFound(f"network {ref} not found")

    def save(self, net: Network) -> None:
        fs.atomic_write_json(self._path(net.name), net.to_dict(), 0o600)

    def create(self, name: str, subnet: str | None = None, internal: bool = False,
               labels: dict[str, str] | None = None, options: dict[str, str] | None = None,
               attachable: bool = False) -> Network:
        check_name(name)
        with self.locked():
            existing = self.networks()
            if any(n.name == name for n in existing):
                raise Conflict(f"network with name {name} already exists")
            used = [n.subnet for n in existing]
            if subnet:
                net = parse_subnet(subnet)
                clash = [n.name for n in existing if net.overlaps(ipaddress.ip_network(n.subnet))]
                if clash:
                    raise Conflict(f"subnet {net} overlaps network {clash[0]}")
                chosen = str(net)
            else:
                chosen = pick_subnet(used)
            nid = os.urandom(32).hex()  # secrets.token_hex, without importing hmac
            record = Network(name, nid, chosen, gateway_of(chosen), _bridge_name(existing),
                             _now(), internal=internal, labels=dict(labels or {}),
                             options=dict(options or {}), attachable=attachable)
            self.save(record)
            return record

    def remove(self, name: str) -> Network:
        with self.locked():
            net = self.get(name)
            if net.endpoints:
                users = ", ".join(sorted(e.name or e.container_id[:12]
                                         for e in net.endpoints.values()))
                raise Conflict(f"error while removing network: network {net.name} id {net.id} "
                               f"has active endpoints ({users})")
            os.unlink(self._path(net.name))
            return net

    def attach(self, name: str, container_id: str, container_name: str,
               aliases: list[str] | None = None, ip: str | None = None) -> tuple[Network, Endpoint]:
        """Reserve an address for the container on `name` and record the endpoint."""
        with self.locked():
            net = self.get(name)
            if container_id in net.endpoints:
                raise Conflict(f"endpoint with name {container_name} already exists in network "
                               f"{net.name}")
            used = {e.ip for e in net.endpoints.values()}
            if ip is not None:
                _check_requested(net, ip, used)
            address = ip or pick_address(net.subnet, net.gateway, used)
            ep = Endpoint(container_id, container_name, address, mac_for(address),
                          list(aliases or []), veth=_veth_name(net, container_id))
            net.endpoints[container_id] = ep
            self.save(net)
            return net, ep

    def detach(self, name: str, container_id: str) -> Endpoint | None:
        """Forget the endpoint (its address returns to the pool); None if it was not there."""
        with self.locked():
            try:
                net = self.get(name)
            except NetworkNotFound:
                return None
            ep = net.endpoints.pop(container_id, None)
            if ep is not None:
                self.save(net)
            return ep


def _check_requested(net: Network, ip: str, used: set[str]) -> None:
    try:
        addr = ipaddress.IPv4Address(ip)
    except ValueError:
        raise UsageError(f"invalid IPv4 address {ip!r}") from None
    if addr not in parse_subnet(net.subnet) or ip == net.gateway:
        raise UsageError(f"address {ip} is not a free host address of subnet {net.subnet}")
    if ip in used:
        raise Conflict(f"address {ip} is already in use on network {net.name}")


def _bridge_name(existing: list[Network]) -> str:
    taken = {n.bridge for n in existing}
    i = 0
    while f"pyc{i}" in taken:
        i += 1
    return f"pyc{i}"


def _veth_name(net: Network, container_id: str) -> str:
    # IFNAMSIZ is 16 with the NUL: "v" + bridge number + container id prefix stays under it.
    return f"v{net.bridge[3:]}{container_id[:10]}"[:15]


def _now() -> str:
    from pycontainer.formats.timestamps import rfc3339

    return rfc3339(digits=6, fixed=True)
