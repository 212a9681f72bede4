"""The record of a container's cgroup (`ContainerState.cgroup`), apart from the code that
acts on it (`linux.cgroup_container.ContainerCgroup.from_record`), so that loading a
container's state imports no cgroup code: `ps`, `inspect` and `exec` stay small."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CgroupRecord:
    version: str = "none"  # v1, v2; none: the no-op cgroup
    #: controller (v1) or "" (v2: linux.cgroup_container.V2) -> the container's cgroup directory
    dirs: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "dirs": dict(self.dirs)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CgroupRecord:
        return cls(str(d.get("version") or "none"), dict(d.get("dirs") or {}))

    @classmethod
    def load(cls, d: Mapping[str, Any] | None) -> CgroupRecord | None:
        """The stored form: `{}` is no cgroup (no limits on a host without delegation)."""
        return cls.from_dict(d) if d else None
