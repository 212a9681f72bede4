"""The runtime-spec `config.json` pieces as JSON shapes (what `oci.runtime`'s records read and
write, and `linux.resources` as `ops.limits` makes it).

Annotations only: imported under `if TYPE_CHECKING:`, so `pyc run` loads none of this.
`total=False` where the spec lets a key be absent (a bundle written by another tool, a record
of an older pyc).
"""

from __future__ import annotations

from typing import TypedDict


class UserJSON(TypedDict, total=False):
    uid: int
    gid: int
    additionalGids: list[int]
    umask: int


class RlimitJSON(TypedDict):
    type: str
    soft: int
    hard: int


class ProcessJSON(TypedDict, total=False):
    terminal: bool
    user: UserJSON
    args: list[str]
    env: list[str]
    cwd: str
    capabilities: dict[str, list[str]]
    rlimits: list[RlimitJSON]
    noNewPrivileges: bool
    oomScoreAdj: int


class MountJSON(TypedDict, total=False):
    """An OCI mount; in `ContainerSpec.mounts` also pyc's own keys, which runtimes ignore
    (see `ops.mounts`)."""

    destination: str
    type: str
    source: str
    options: list[str]
    volume: str  # the named or anonymous volume whose `_data` is the source
    anonymous: bool  # `rm -v` / `--rm` remove the volume
    copy_up: bool  # fill the volume from the image at the first start


class IdMapJSON(TypedDict):
    containerID: int
    hostID: int
    size: int


class NamespaceJSON(TypedDict, total=False):
    type: str
    path: str


class MemoryJSON(TypedDict, total=False):
    limit: int
    swap: int
    reservation: int


class CpuJSON(TypedDict, total=False):
    shares: int
    quota: int
    period: int
    cpus: str
    mems: str


class PidsJSON(TypedDict):
    limit: int


class ResourcesJSON(TypedDict, total=False):
    """`linux.resources`: the part of it pyc sets (ops.limits.to_resources)."""

    memory: MemoryJSON
    cpu: CpuJSON
    pids: PidsJSON


class SeccompArgJSON(TypedDict, total=False):
    index: int
    value: int
    valueTwo: int
    op: str


class LimitsJSON(TypedDict, total=False):
    """pyc's record of the limit flags as given (`ContainerSpec.limits`,
    `ops.limits.as_record`): `linux.cgroup_limits.Limits`' fields that are set."""

    memory: int
    memory_swap: int
    memory_reservation: int
    cpus: float
    cpu_period: int
    cpu_quota: int
    cpu_shares: int
    cpuset_cpus: str
    cpuset_mems: str
    pids_limit: int


class SyscallJSON(TypedDict, total=False):
    names: list[str]
    action: str
    errnoRet: int
    args: list[SeccompArgJSON]
    includes: dict[str, list[str]]
    excludes: dict[str, list[str]]


class SeccompJSON(TypedDict, total=False):
    """`linux.seccomp`, as Docker's profile format has it (`defaultErrnoRet`,
    `architectures`, `syscalls`)."""

    defaultAction: str
    defaultErrnoRet: int
    architectures: list[str]
    flags: list[str]
    syscalls: list[SyscallJSON]


class LinuxJSON(TypedDict, total=False):
    namespaces: list[NamespaceJSON]
    uidMappings: list[IdMapJSON]
    gidMappings: list[IdMapJSON]
    maskedPaths: list[str]
    readonlyPaths: list[str]
    seccomp: SeccompJSON
    resources: ResourcesJSON
    cgroupsPath: str
    sysctl: dict[str, str]
    rootfsPropagation: str


class RootJSON(TypedDict, total=False):
    path: str
    readonly: bool


class SpecJSON(TypedDict, total=False):
    ociVersion: str
    process: ProcessJSON
    root: RootJSON
    hostname: str
    mounts: list[MountJSON]
    linux: LinuxJSON
    annotations: dict[str, str]


class StateJSON(TypedDict):
    ociVersion: str
    id: str
    status: str
    pid: int
    bundle: str
    annotations: dict[str, str]
