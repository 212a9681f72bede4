"""A container's networking records: what create planned (`ContainerConfig.network`) and what
a start set up (`<container dir>/network.json`), typed on both sides of the disk.

The field names are the JSON keys, so `to_dict` writes what earlier versions wrote; `from_dict`
ignores unknown keys, defaults missing ones and reads a `null` list as empty. Slirp4netns's
and the port mappings' own records (`network.slirp.Slirp`, `network.ports.PortMapping`) stay
JSON here: `containers/` does not import `network/`, which reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, Field, asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pycontainer.jsontypes import JSON


_FIELDS: dict[type, tuple[Field[Any], ...]] = {}


def _fields_of(cls: type) -> tuple[Field[Any], ...]:
    found = _FIELDS.get(cls)  # once per class: every record read asks
    if found is None:
        found = _FIELDS[cls] = fields(cls)
    return found


def _known(cls: type[Any], d: Mapping[str, object]) -> dict[str, Any]:
    """The keys of `d` that are fields of `cls`, without the `null`s of list/dict fields."""
    out: dict[str, Any] = {}
    for f in _fields_of(cls):
        if f.name in d and not (d[f.name] is None and f.default_factory is not MISSING):
            out[f.name] = d[f.name]
    return out


@dataclass
class NetworkPlan:
    """`ContainerConfig.network`: the checked run/create request (`ops.netsetup.plan`). A
    container made before networking existed has none (`ContainerConfig.network` is None,
    `{}` on disk): its `spec.network` says what it gets."""

    #: the --network values as given; None in a partial record that never had them
    values: list[str] | None = None
    kind: str = ""  # network.mode: slirp4netns, user, none, host, container
    networks: list[str] = field(default_factory=list)  # user-defined networks, in order
    container: str = ""  # --network container:NAME, resolved to an id
    publish: list[str] = field(default_factory=list)  # -p as given
    publish_all: bool = False
    exposed: list[str] = field(default_factory=list)  # "80/tcp", the image's and --expose
    aliases: list[str] = field(default_factory=list)
    dns: list[str] = field(default_factory=list)
    dns_search: list[str] = field(default_factory=list)
    dns_option: list[str] = field(default_factory=list)
    add_hosts: list[list[str]] = field(default_factory=list)  # [[name, ip], ...]
    ip: str | None = None

    def to_dict(self) -> JSON:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> NetworkPlan:
        return cls(**_known(cls, d))

    @classmethod
    def load(cls, d: Mapping[str, object] | None) -> NetworkPlan | None:
        """The stored form: `{}` (or nothing) is a container from before networking."""
        return cls.from_dict(d) if d else None

    @property
    def user_networks(self) -> list[str]:
        """The user-defined networks it is on (none unless its kind is `user`)."""
        return list(self.networks) if self.kind == "user" else []


@dataclass
class Endpoint:
    """One user-defined network's address of a running container."""

    ip: str = ""
    mac: str = ""

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> Endpoint:
        return cls(**_known(cls, d))


@dataclass
class NetworkState:
    """`network.json`: what one start set up and the teardown must undo."""

    kind: str = ""
    container: str = ""  # --network container:: the joined container's id
    #: network.slirp.Slirp.to_dict() of this container's slirp4netns
    slirp: JSON = field(default_factory=dict)
    #: network.ports.PortMapping.to_dict() of each allocated mapping
    ports: list[JSON] = field(default_factory=list)
    ip: str = ""  # the first address
    forwarder: int = 0  # pid of network.forwarder's process for the TCP ports, if any
    networks: dict[str, Endpoint] = field(default_factory=dict)
    #: network.bridge.publish()'s records, for bridge.unpublish
    published: list[JSON] = field(default_factory=list)

    def to_dict(self) -> JSON:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> NetworkState:
        known = _known(cls, d)
        known["networks"] = {name: Endpoint.from_dict(ep or {})
                             for name, ep in (known.get("networks") or {}).items()}
        return cls(**known)
