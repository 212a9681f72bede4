"""A pod's records: its config (written at `pod create`) and its state (the infra process).

The field names are the JSON keys; `from_dict` ignores unknown keys and defaults missing ones,
so a later version's record still loads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from pycontainer.jsontypes import JSON

#: the namespaces a pod can share (Podman's --share values that pyc holds in its infra)
SHAREABLE = ("net", "ipc", "uts")
DEFAULT_SHARE = ("net", "ipc", "uts")

_T = TypeVar("_T")


def _known(cls: type[_T], d: Mapping[str, object]) -> dict[str, object]:
    return {f.name: d[f.name] for f in fields(cls)  # type: ignore[arg-type]
            if f.name in d and not (d[f.name] is None and f.default_factory is not MISSING)}


@dataclass
class PodConfig:
    id: str
    name: str
    created: str  # RFC 3339, fixed nine digits (sorts as text)
    hostname: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    #: the shared namespaces, in SHAREABLE's order; empty: `--share none`
    share: list[str] = field(default_factory=lambda: list(DEFAULT_SHARE))
    infra: bool = True
    #: the infra's id (Podman's infra container id; here the id of the infra process's
    #: record, shown as INFRA ID)
    infra_id: str = ""
    publish: list[str] = field(default_factory=list)  # -p as given
    network: list[str] = field(default_factory=list)  # --network as given
    userns: str = ""  # "" or "keep-id"
    #: the create command line, as Podman's CreateCommand
    command: list[str] = field(default_factory=list)

    def shares(self, ns: str) -> bool:
        return self.infra and ns in self.share

    def to_dict(self) -> JSON:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> PodConfig:
        return cls(**_known(cls, d))  # type: ignore[arg-type]


@dataclass
class PodState:
    #: the infra process (0: not running) and its /proc start time (guards pid reuse)
    infra_pid: int = 0
    infra_started: int | None = None
    started_at: str = ""
    #: slirp4netns's record (network.slirp.Slirp.to_dict) and the forwarded ports
    #: (network.ports.PortMapping.to_dict), kept as JSON: pods/ does not import network/
    slirp: dict[str, object] = field(default_factory=dict)
    ports: list[dict[str, object]] = field(default_factory=list)
    ip: str = ""

    def to_dict(self) -> JSON:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> PodState:
        return cls(**_known(cls, d))  # type: ignore[arg-type]


@dataclass
class Pod:
    config: PodConfig
    state: PodState

    @property
    def id(self) -> str:
        return self.config.id

    @property
    def name(self) -> str:
        return self.config.name


def parse_share(value: str | None) -> list[str]:
    """`--share`: comma-separated namespaces; `none` shares nothing. A leading `+` adds to
    the default, as in Podman."""
    from pycontainer.errors import UsageError

    if value is None:
        return list(DEFAULT_SHARE)
    text = value.strip()
    if text == "none" or text == "":
        return []
    extra = text.startswith("+")
    wanted = set(DEFAULT_SHARE) if extra else set()
    for item in text.lstrip("+").split(","):
        item = item.strip()
        if item in ("cgroup", "pid"):
            raise UsageError(f"--share {item}: sharing the {item} namespace in a pod is not "
                             "supported by pyc (net, ipc, uts)")
        if item not in SHAREABLE:
            raise UsageError(f"Invalid kernel namespace to share: {item}")
        wanted.add(item)
    return [ns for ns in SHAREABLE if ns in wanted]


def status(infra_state: str | None, containers: list[str]) -> str:
    """Podman's pod status from its containers' Docker states and the infra's ("created"
    before its first start, "running", "exited"; None without an infra): Created, Running,
    Paused, Degraded, Exited."""
    states = list(containers) + ([infra_state] if infra_state else [])
    if all(s == "created" for s in states):
        return "Created"
    running = sum(s in ("running", "restarting") for s in states)
    paused = sum(s == "paused" for s in containers)
    if running == len(states):
        return "Running"
    if paused and paused + running == len(states) and running <= (infra_state == "running"):
        return "Paused"  # the infra is never paused: only the containers are frozen
    if running or paused:
        return "Degraded"
    return "Exited"
