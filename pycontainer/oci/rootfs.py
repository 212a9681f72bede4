"""A container's root file system as a plan to mount (`ContainerConfig.rootfs`).

The storage drivers make it (`storage.driver.Driver.prepare`), the container record keeps it
and the launcher executes it in the container's own mount namespace. It lives in the base
layer so that `containers/` saves it typed and `storage/` and `runtime/` use the same record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pycontainer.jsontypes import JSON


@dataclass
class RootfsPlan:
    driver: str  # overlay, fuse-overlayfs, vfs
    lowers: list[str] = field(default_factory=list)  # base first
    upper: str = ""
    work: str = ""
    #: vfs: the copied tree to bind-mount
    source: str = ""

    def to_dict(self) -> JSON:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RootfsPlan:
        """A stored plan: unknown keys ignored, a missing driver read as vfs (the one that
        needs no mount helper), a `null` list as empty."""
        known = {f.name: d[f.name] for f in fields(cls) if d.get(f.name) is not None}
        known.setdefault("driver", "vfs")
        return cls(**known)

    @classmethod
    def load(cls, d: Mapping[str, Any] | None) -> RootfsPlan | None:
        """The stored form: `{}` is a record whose create did not get as far as its plan."""
        return cls.from_dict(d) if d else None

    @property
    def diff_dir(self) -> str:
        """Where the container's own changes are (for diff, commit, export)."""
        return self.upper or self.source
