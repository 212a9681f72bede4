"""The record of a container's cgroup (`ContainerState.cgroup`), apart from the code that
acts on it (`linux.cgroup_container.ContainerCgroup.from_record`), so that loading a
container's state imports no cgroup code: `ps`, `inspect` and `exec` stay small."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypedDict


class CgroupJSON(TypedDict):
    """The stored form (`{}` on disk for no cgroup, see `load`)."""

    version: str
    dirs: dict[str, str]


def dirs_of(d: Mapping[str, object]) -> dict[str, str]:
    """A stored record's `dirs` (controller -> directory); {} when it has none."""
    dirs = d.get("dirs")
    return {str(k): str(v) for k, v in dirs.items()} if isinstance(dirs, Mapping) else {}


@dataclass
class CgroupRecord:
    version: str = "none"  # v1, v2; none: the no-op cgroup
    #: controller (v1) or "" (v2: linux.cgroup_container.V2) -> the container's cgroup directory
    dirs: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> CgroupJSON:
        return {"version": self.version, "dirs": dict(self.dirs)}

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> CgroupRecord:
        return cls(str(d.get("version") or "none"), dirs_of(d))

    @classmethod
    def load(cls, d: Mapping[str, object] | None) -> CgroupRecord | None:
        """The stored form: `{}` is no cgroup (no limits on a host without delegation)."""
        return cls.from_dict(d) if d else None
