"""A container's records: the config (written once, at create) and its mutable state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from pycontainer.containers.lifecycle import DOCKER_STATE, Status
from pycontainer.containers.netrecord import NetworkPlan
from pycontainer.linux.cgroup_record import CgroupRecord
from pycontainer.oci.convert import ContainerSpec
from pycontainer.oci.rootfs import RootfsPlan

if TYPE_CHECKING:
    from pycontainer.jsontypes import JSON
    from pycontainer.linux.userns import IdMapping
    from pycontainer.oci.imagespec import RunConfig


def _no_run_config() -> RunConfig:
    return {}


@dataclass
class ContainerConfig:
    id: str
    name: str
    created: str  # RFC 3339
    image: str  # as the user named it
    image_id: str
    #: what the user asked for
    spec: ContainerSpec
    #: the storage driver's plan; None (`{}` on disk) until create has made it
    rootfs: RootfsPlan | None
    runtime: str = "builtin"
    path: str = ""  # the command (Docker's Path)
    args: list[str] = field(default_factory=list)
    image_config: RunConfig = field(default_factory=_no_run_config)
    log_driver: str = "json-file"
    #: --log-opt KEY=VALUE (ops.logopts)
    log_opts: dict[str, str] = field(default_factory=dict)
    #: the id mapping (`id_mapping()`), stored as runtime.launch.LaunchConfig has it:
    #: [[inner, outer, count], ...]
    uid_map: list[list[int]] = field(default_factory=list)
    gid_map: list[list[int]] = field(default_factory=list)
    single_mapping: bool = False
    #: the checked network request (`ops.netsetup.plan`); None (`{}` on disk): a container
    #: created before networking existed
    network: NetworkPlan | None = None

    def __post_init__(self) -> None:
        # a caller may hand over the stored forms (`rootfs={}`): read them as from_dict does
        if isinstance(self.rootfs, Mapping):
            self.rootfs = RootfsPlan.load(self.rootfs)
        if isinstance(self.network, Mapping):
            self.network = NetworkPlan.load(self.network)

    def to_dict(self) -> JSON:
        d: JSON = asdict(self)
        d["network"] = self.network.to_dict() if self.network is not None else {}
        d["rootfs"] = self.rootfs.to_dict() if self.rootfs is not None else {}
        return d

    def id_mapping(self) -> IdMapping:
        """The container's user namespace mapping."""
        from pycontainer.linux.userns import IdMapEntry, IdMapping

        def entries(rows: list[list[int]]) -> tuple[IdMapEntry, ...]:
            return tuple(IdMapEntry(*r) for r in rows)

        return IdMapping(entries(self.uid_map), entries(self.gid_map), self.single_mapping)

    def set_id_mapping(self, mapping: IdMapping) -> None:
        self.uid_map = [[e.inner, e.outer, e.count] for e in mapping.uids]
        self.gid_map = [[e.inner, e.outer, e.count] for e in mapping.gids]
        self.single_mapping = mapping.single

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ContainerConfig:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        known["spec"] = ContainerSpec.from_dict(known.get("spec") or {})
        known["network"] = NetworkPlan.load(known.get("network"))
        known["rootfs"] = RootfsPlan.load(known.get("rootfs"))
        return cls(**known)


@dataclass
class ContainerState:
    status: Status = Status.CONFIGURED
    pid: int = 0
    pid_started: int | None = None  # /proc start time, guards against pid reuse
    supervisor_pid: int = 0
    exit_code: int = 0
    oom_killed: bool = False
    error: str = ""
    started_at: str = ""
    finished_at: str = ""
    restart_count: int = 0
    #: the stop/kill verb that ended it, so `ps` can tell "stopped" from "crashed"
    stopped_by_user: bool = False
    #: waiting to be restarted by its restart policy (Docker's "restarting"): the exit
    #: command's process `restart_pid` sleeps `restart_delay` seconds, then starts it
    restarting: bool = False
    restart_pid: int = 0
    restart_delay: float = 0.0
    #: the container's cgroup for this run (written by ops.limits at start; None, `{}` on
    #: disk, without one: no limits on a host that delegates nothing)
    cgroup: CgroupRecord | None = None

    def __post_init__(self) -> None:
        if isinstance(self.cgroup, Mapping):  # the stored form, from a caller that has it
            self.cgroup = CgroupRecord.load(self.cgroup)

    def to_dict(self) -> JSON:
        d: JSON = asdict(self)
        d["status"] = self.status.value
        d["cgroup"] = self.cgroup.to_dict() if self.cgroup is not None else {}
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ContainerState:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        known["status"] = Status(known.get("status", "configured"))
        known["cgroup"] = CgroupRecord.load(known.get("cgroup"))
        return cls(**known)

    @property
    def docker_status(self) -> str:
        if self.restarting and self.status == Status.EXITED:
            return "restarting"
        return DOCKER_STATE[self.status]

    @property
    def running(self) -> bool:
        return self.status in (Status.RUNNING, Status.STOPPING, Status.PAUSED)


@dataclass
class Container:
    config: ContainerConfig
    state: ContainerState

    @property
    def id(self) -> str:
        return self.config.id

    @property
    def name(self) -> str:
        return self.config.name
