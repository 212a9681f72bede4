"""What the builder needs from the engine, as a protocol: the builder (a component) knows
Dockerfiles and the cache rules; `ops.build` implements these with the image store, the
storage driver and pyc's runtime.

Call order for one filesystem step: `cache_get(key)`; on a miss `run` or `fs` (each returns
the new layer, or None when nothing changed), then `cache_put(key, state)`. `commit` makes
the final image visible, last.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from pycontainer.build.copier import FsOp, HashCache
from pycontainer.build.dockerfile import Mount

if TYPE_CHECKING:
    from pycontainer.oci.imagespec import DescriptorJSON, ImageConfig


@dataclass
class State:
    """An image in the making: its id (the config digest, "scratch" for nothing), its
    config and its manifest layer descriptors."""

    id: str
    config: ImageConfig
    layers: list[DescriptorJSON] = field(default_factory=list)

    @property
    def diff_ids(self) -> list[str]:
        rootfs = self.config.get("rootfs")
        return list(rootfs.get("diff_ids", [])) if rootfs else []


@dataclass
class Layer:
    descriptor: DescriptorJSON  # mediaType, digest, size of the compressed blob
    diff_id: str


@dataclass
class RunRequest:
    args: list[str]
    env: list[str]
    user: str
    workdir: str
    network: str  # default (private with slirp4netns), none, host
    mounts: list[Mount] = field(default_factory=list)
    #: RUN --mount=type=bind,from=X: the State behind each such mount's `from_`
    mount_sources: dict[str, State] = field(default_factory=dict)
    context_dir: str = ""
    quiet: bool = False


class StepFailed(Exception):
    """A RUN command exited non-zero."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class Backend(Protocol):
    hash_cache: HashCache

    def base(self, ref: str, platform: str | None, pull: str) -> State:
        """An image from the store (pulled as `pull` says: missing | always)."""
        ...

    def run(self, state: State, req: RunRequest) -> Layer | None:
        """Run a command on top of `state`; raises StepFailed with its status."""
        ...

    def fs(self, state: State, op: FsOp, source: State | None) -> Layer | None:
        """Apply a file operation on top of `state`; `source` is a COPY --from stage/image
        (its merged file system becomes `op.src_root`)."""
        ...

    def fetch(self, url: str, checksum: str | None) -> tuple[str, int | None]:
        """Download `url` into the build's scratch space: (directory, mtime)."""
        ...

    def scratch_dir(self) -> str:
        """A private directory for this build's temporary files (heredocs, downloads)."""
        ...

    def cache_get(self, key: str) -> State | None: ...

    def cache_put(self, key: str, state: State) -> None: ...

    def commit(self, state: State, names: list[str]) -> str:
        """Write config and manifest, index the image under `names`; returns its id."""
        ...
