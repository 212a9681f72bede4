"""OCI runtime-spec records: `config.json` (Spec) and the runtime `State`.

Only the fields pyc produces or consumes are typed; everything else a spec carries is kept in
`extra` so that a bundle round-trips. Field names follow the spec's JSON (camelCase on disk).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from pycontainer.oci.specjson import (
        IdMapJSON,
        LinuxJSON,
        MountJSON,
        NamespaceJSON,
        ProcessJSON,
        ResourcesJSON,
        SeccompJSON,
        SpecJSON,
        StateJSON,
        UserJSON,
    )

OCI_VERSION = "1.0.2"


@dataclass
class User:
    uid: int = 0
    gid: int = 0
    additional_gids: list[int] = field(default_factory=list)
    umask: int | None = None

    def to_dict(self) -> UserJSON:
        d: UserJSON = {"uid": self.uid, "gid": self.gid}
        if self.additional_gids:
            d["additionalGids"] = self.additional_gids
        if self.umask is not None:
            d["umask"] = self.umask
        return d

    @classmethod
    def from_dict(cls, d: UserJSON) -> User:
        return cls(d.get("uid", 0), d.get("gid", 0), list(d.get("additionalGids") or []),
                   d.get("umask"))


@dataclass
class Rlimit:
    type: str  # "RLIMIT_NOFILE"
    soft: int
    hard: int


@dataclass
class Process:
    args: list[str]
    env: list[str] = field(default_factory=list)
    cwd: str = "/"
    terminal: bool = False
    user: User = field(default_factory=User)
    #: set name -> capability names ("bounding", "effective", "permitted", "inheritable",
    #: "ambient")
    capabilities: dict[str, list[str]] = field(default_factory=dict)
    rlimits: list[Rlimit] = field(default_factory=list)
    no_new_privileges: bool = False
    oom_score_adj: int | None = None

    def to_dict(self) -> ProcessJSON:
        d: ProcessJSON = {
            "terminal": self.terminal,
            "user": self.user.to_dict(),
            "args": self.args,
            "env": self.env,
            "cwd": self.cwd,
            "capabilities": self.capabilities,
            "rlimits": [{"type": r.type, "soft": r.soft, "hard": r.hard} for r in self.rlimits],
            "noNewPrivileges": self.no_new_privileges,
        }
        if self.oom_score_adj is not None:
            d["oomScoreAdj"] = self.oom_score_adj
        return d

    @classmethod
    def from_dict(cls, d: ProcessJSON) -> Process:
        return cls(
            args=list(d.get("args") or []),
            env=list(d.get("env") or []),
            cwd=d.get("cwd", "/"),
            terminal=bool(d.get("terminal", False)),
            user=User.from_dict(d.get("user") or {}),
            capabilities={k: list(v) for k, v in (d.get("capabilities") or {}).items()},
            rlimits=[Rlimit(r["type"], r["soft"], r["hard"]) for r in d.get("rlimits") or []],
            no_new_privileges=bool(d.get("noNewPrivileges", False)),
            oom_score_adj=d.get("oomScoreAdj"),
        )


@dataclass
class Mount:
    destination: str
    type: str | None = None
    source: str | None = None
    options: list[str] = field(default_factory=list)

    def to_dict(self) -> MountJSON:
        d: MountJSON = {"destination": self.destination}
        if self.type is not None:
            d["type"] = self.type
        if self.source is not None:
            d["source"] = self.source
        if self.options:
            d["options"] = self.options
        return d

    @classmethod
    def from_dict(cls, d: MountJSON) -> Mount:
        return cls(d["destination"], d.get("type"), d.get("source"), list(d.get("options") or []))


@dataclass
class IdMap:
    container_id: int
    host_id: int
    size: int

    def to_dict(self) -> IdMapJSON:
        return {"containerID": self.container_id, "hostID": self.host_id, "size": self.size}


@dataclass
class Namespace:
    type: str  # pid network mount ipc uts user cgroup
    path: str | None = None

    def to_dict(self) -> NamespaceJSON:
        d: NamespaceJSON = {"type": self.type}
        if self.path:
            d["path"] = self.path
        return d


def no_resources() -> ResourcesJSON:
    return {}


@dataclass
class Linux:
    namespaces: list[Namespace] = field(default_factory=list)
    uid_mappings: list[IdMap] = field(default_factory=list)
    gid_mappings: list[IdMap] = field(default_factory=list)
    masked_paths: list[str] = field(default_factory=list)
    readonly_paths: list[str] = field(default_factory=list)
    seccomp: SeccompJSON | None = None
    #: cgroup limits (runtime-spec linux.resources); filled by the cgroups work
    resources: ResourcesJSON = field(default_factory=no_resources)
    cgroups_path: str | None = None
    sysctl: dict[str, str] = field(default_factory=dict)
    rootfs_propagation: str | None = None

    def has_ns(self, kind: str) -> bool:
        return any(ns.type == kind for ns in self.namespaces)

    def set_ns_path(self, kind: str, path: str) -> None:
        """Join an existing namespace (`kind` as the spec names it) instead of a new one."""
        for ns in self.namespaces:
            if ns.type == kind:
                ns.path = path

    def to_dict(self) -> LinuxJSON:
        d: LinuxJSON = {
            "namespaces": [n.to_dict() for n in self.namespaces],
            "maskedPaths": self.masked_paths,
            "readonlyPaths": self.readonly_paths,
        }
        if self.uid_mappings:
            d["uidMappings"] = [m.to_dict() for m in self.uid_mappings]
            d["gidMappings"] = [m.to_dict() for m in self.gid_mappings]
        if self.seccomp is not None:
            d["seccomp"] = self.seccomp
        if self.resources:
            d["resources"] = self.resources
        if self.cgroups_path:
            d["cgroupsPath"] = self.cgroups_path
        if self.sysctl:
            d["sysctl"] = self.sysctl
        if self.rootfs_propagation:
            d["rootfsPropagation"] = self.rootfs_propagation
        return d

    @classmethod
    def from_dict(cls, d: LinuxJSON) -> Linux:
        def maps(key: Literal["uidMappings", "gidMappings"]) -> list[IdMap]:
            return [IdMap(m["containerID"], m["hostID"], m["size"]) for m in d.get(key) or []]

        return cls(
            namespaces=[Namespace(n["type"], n.get("path")) for n in d.get("namespaces") or []],
            uid_mappings=maps("uidMappings"),
            gid_mappings=maps("gidMappings"),
            masked_paths=list(d.get("maskedPaths") or []),
            readonly_paths=list(d.get("readonlyPaths") or []),
            seccomp=d.get("seccomp"),
            resources=(d.get("resources") or {}).copy(),
            cgroups_path=d.get("cgroupsPath"),
            sysctl=dict(d.get("sysctl") or {}),
            rootfs_propagation=d.get("rootfsPropagation"),
        )


@dataclass
class Spec:
    process: Process
    root_path: str = "rootfs"
    root_readonly: bool = False
    hostname: str = ""
    mounts: list[Mount] = field(default_factory=list)
    linux: Linux = field(default_factory=Linux)
    annotations: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> SpecJSON:
        return {
            "ociVersion": OCI_VERSION,
            "process": self.process.to_dict(),
            "root": {"path": self.root_path, "readonly": self.root_readonly},
            "hostname": self.hostname,
            "mounts": [m.to_dict() for m in self.mounts],
            "linux": self.linux.to_dict(),
            "annotations": self.annotations,
        }

    def to_json(self) -> bytes:
        return json.dumps(self.to_dict(), indent=1).encode()

    @classmethod
    def from_dict(cls, d: SpecJSON) -> Spec:
        root = d.get("root") or {}
        return cls(
            process=Process.from_dict(d.get("process") or {}),
            root_path=root.get("path", "rootfs"),
            root_readonly=bool(root.get("readonly", False)),
            hostname=d.get("hostname", ""),
            mounts=[Mount.from_dict(m) for m in d.get("mounts") or []],
            linux=Linux.from_dict(d.get("linux") or {}),
            annotations=dict(d.get("annotations") or {}),
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> Spec:
        return cls.from_dict(json.loads(raw))


@dataclass
class State:
    """runtime-spec `state`: creating, created, running, stopped."""

    id: str
    status: str
    pid: int = 0
    bundle: str = ""
    annotations: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> StateJSON:
        return {"ociVersion": OCI_VERSION, "id": self.id, "status": self.status,
                "pid": self.pid, "bundle": self.bundle, "annotations": self.annotations}
