"""cgroup discovery: which hierarchy the host has and which part of it this user may write.

Rootless limits need a delegated subtree. On cgroup v2 that is a cgroup the user owns with
controllers enabled (systemd's `user@UID.service` with Delegate=, or a Slurm step). On a v1 or
hybrid host it is a directory per controller that an administrator chowned to the user. pyc
discovers both from /proc/self/cgroup; `[engine] cgroup_parent` in pyc's config overrides.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

V1_CONTROLLERS = ("cpu", "cpuacct", "cpuset", "memory", "pids", "freezer", "blkio")


@dataclass
class CgroupInfo:
    version: str  # "v2", "v1" (including hybrid hosts) or "none"
    #: controller -> the delegated directory pyc may create container cgroups under
    delegated: dict[str, str] = field(default_factory=dict)
    #: controllers the host has but this user may not use
    unusable: list[str] = field(default_factory=list)
    reason: str = ""

    @property
    def can_limit(self) -> bool:
        return "memory" in self.delegated or (self.version == "v2" and bool(self.delegated))


def mounts() -> tuple[str | None, dict[str, str]]:
    """(the cgroup2 mount point or None, {v1 controller: mount point})."""
    v2: str | None = None
    v1: dict[str, str] = {}
    try:
        with open("/proc/self/mountinfo") as f:
            lines = f.read().splitlines()
    except OSError:
        return None, {}
    for line in lines:
        left, _, right = line.partition(" - ")
        fields = right.split()
        if len(fields) < 3:
            continue
        point = left.split()[4]
        if fields[0] == "cgroup2" and v2 is None:
            v2 = point
        elif fields[0] == "cgroup":
            for opt in fields[2].split(","):
                if opt in V1_CONTROLLERS:
                    v1.setdefault(opt, point)
    return v2, v1


def own_cgroups() -> dict[str, str]:
    """{controller (or "" for the v2 hierarchy): this process's cgroup path}."""
    result: dict[str, str] = {}
    try:
        with open("/proc/self/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return result
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if parts[0] == "0" and parts[1] == "":
            result[""] = parts[2]
        for ctrl in parts[1].split(","):
            if ctrl:
                result[ctrl] = parts[2]
    return result


def detect(parent_override: str | None = None) -> CgroupInfo:
    v2, v1 = mounts()
    own = own_cgroups()
    if v1:
        return _detect_v1(v1, own, parent_override)
    if v2:
        return _detect_v2(v2, own.get("", "/"), parent_override)
    return CgroupInfo("none", reason="no cgroup file system is mounted")


def _writable(path: str) -> bool:
    return os.access(path, os.W_OK | os.X_OK)


def _detect_v1(v1: dict[str, str], own: dict[str, str], override: str | None) -> CgroupInfo:
    info = CgroupInfo("v1")
    for ctrl, mount in sorted(v1.items()):
        rel = override if override else own.get(ctrl, "/")
        path = os.path.join(mount, rel.lstrip("/"))
        if _writable(path) and _writable(os.path.join(path, "cgroup.procs")):
            info.delegated[ctrl] = path
        else:
            info.unusable.append(ctrl)
    if info.delegated:
        info.reason = "cgroup v1 subtree owned by this user: " + ", ".join(sorted(info.delegated))
    else:
        info.reason = "cgroup v1 without a subtree delegated to this user"
    return info


def _detect_v2(mount: str, own: str, override: str | None) -> CgroupInfo:
    info = CgroupInfo("v2")
    path = os.path.join(mount, (override or own).lstrip("/"))
    try:
        with open(os.path.join(path, "cgroup.controllers")) as f:
            controllers = f.read().split()
    except OSError:
        controllers = []
    if _writable(path) and _writable(os.path.join(path, "cgroup.subtree_control")):
        for ctrl in controllers:
            info.delegated[ctrl] = path
        info.reason = f"cgroup v2 subtree {path} delegated with: {' '.join(controllers) or 'none'}"
    else:
        info.unusable = controllers
        info.reason = f"cgroup v2, but {path} is not delegated to this user"
    return info
