"""The OCI image config (and Docker's fields in it) as the JSON shapes pyc reads by key.

TypedDicts, not classes: the config is stored and hashed exactly as it came (its sha256 is
the image id), so it stays a plain dict on every path; these only say which keys pyc reads
and what they hold. Keys pyc does not know stay in the dict untouched. All `total=False`:
any key may be missing from an image built elsewhere, and readers use `.get`.
"""

from __future__ import annotations

from typing import TypedDict


class HealthConfig(TypedDict, total=False):
    """HEALTHCHECK: `Test` as Docker stores it (["CMD", ...], ["CMD-SHELL", cmd],
    ["NONE"]), durations in nanoseconds."""

    Test: list[str]
    Interval: int
    Timeout: int
    StartPeriod: int
    StartInterval: int
    Retries: int


class RunConfig(TypedDict, total=False):
    """The config's `config`: what a container of the image starts with (Docker's
    container.Config subset that images carry)."""

    User: str
    ExposedPorts: dict[str, dict[str, object]]
    Env: list[str]
    Entrypoint: list[str] | None
    Cmd: list[str] | None
    Volumes: dict[str, dict[str, object]]
    WorkingDir: str
    Labels: dict[str, str]
    StopSignal: str
    Shell: list[str]
    Healthcheck: HealthConfig
    OnBuild: list[str] | None
    ArgsEscaped: bool


class RootFS(TypedDict):
    type: str
    diff_ids: list[str]


class HistoryEntry(TypedDict, total=False):
    created: str
    created_by: str
    author: str
    comment: str
    empty_layer: bool


class ImageConfig(TypedDict, total=False):
    """The image config blob (application/vnd.oci.image.config.v1+json)."""

    created: str
    author: str
    comment: str
    architecture: str
    os: str
    variant: str
    config: RunConfig
    rootfs: RootFS
    history: list[HistoryEntry]


class PlatformJSON(TypedDict, total=False):
    """An index entry's `platform` (its `os.version` and `os.features` pass through)."""

    os: str
    architecture: str
    variant: str


class DescriptorJSON(TypedDict, total=False):
    """A content descriptor as written in a manifest (`oci.image.Descriptor.to_json`)."""

    mediaType: str
    digest: str
    size: int
    urls: list[str]
    annotations: dict[str, str]
    platform: PlatformJSON


class ManifestJSON(TypedDict, total=False):
    """A manifest or an index, as far as `oci.image.parse` reads one."""

    schemaVersion: int
    mediaType: str
    config: DescriptorJSON
    layers: list[DescriptorJSON]
    manifests: list[DescriptorJSON]
    annotations: dict[str, str]
