"""OCI image records: descriptors, manifests, indexes, platforms.

Manifests and indexes keep their raw bytes and digest: pyc never re-serialises what it
pulled, so a push sends exactly the bytes (and digest) the registry gave it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pycontainer.errors import IntegrityError, UsageError
from pycontainer.oci import digest as digests
from pycontainer.oci import mediatypes as mt

if TYPE_CHECKING:
    from pycontainer.oci.imagespec import DescriptorJSON, ManifestJSON, PlatformJSON


@dataclass(frozen=True)
class Platform:
    os: str = "linux"
    architecture: str = "amd64"
    variant: str = ""

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)

    @classmethod
    def parse(cls, text: str) -> Platform:
        parts = text.strip().split("/")
        if len(parts) == 1 and parts[0]:
            return cls(architecture=_norm_arch(parts[0])[0], variant=_norm_arch(parts[0])[1])
        if len(parts) not in (2, 3) or not all(parts):
            raise UsageError(f"invalid platform {text!r}: expected os/arch[/variant]")
        arch, variant = _norm_arch(parts[1])
        return cls(parts[0], arch, parts[2] if len(parts) == 3 else variant)

    @classmethod
    def host(cls) -> Platform:
        arch, variant = _norm_arch(os.uname().machine)
        return cls("linux", arch, variant)

    def matches(self, other: PlatformJSON) -> bool:
        """Does an index entry's `platform` object satisfy this one?"""
        if other.get("os", "") != self.os:
            return False
        arch, variant = _norm_arch(other.get("architecture", ""))
        if arch != self.architecture:
            return False
        theirs = other.get("variant", "") or variant
        return not self.variant or not theirs or theirs == self.variant


def _norm_arch(arch: str) -> tuple[str, str]:
    return {
        "x86_64": ("amd64", ""), "x86-64": ("amd64", ""), "aarch64": ("arm64", ""),
        "armv7l": ("arm", "v7"), "armhf": ("arm", "v7"), "armel": ("arm", "v6"),
        "i386": ("386", ""), "i686": ("386", ""),
    }.get(arch, (arch, ""))


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int
    platform: PlatformJSON | None = None
    annotations: dict[str, str] | None = None
    urls: list[str] | None = None

    @classmethod
    def from_json(cls, obj: DescriptorJSON) -> Descriptor:
        try:
            return cls(str(obj.get("mediaType", "")), digests.validate(str(obj["digest"])),
                       int(obj["size"]), obj.get("platform"), obj.get("annotations"),
                       obj.get("urls"))
        except (KeyError, TypeError, ValueError) as exc:
            raise IntegrityError(f"malformed descriptor: {exc}") from None

    def to_json(self) -> DescriptorJSON:
        out: DescriptorJSON = {"mediaType": self.media_type, "digest": self.digest,
                               "size": self.size}
        if self.platform:
            out["platform"] = self.platform
        if self.annotations:
            out["annotations"] = self.annotations
        if self.urls:
            out["urls"] = self.urls
        return out


@dataclass(frozen=True)
class Raw:
    """An artefact as bytes with its digest and media type."""

    raw: bytes
    digest: str
    media_type: str

    @property
    def json(self) -> ManifestJSON:
        return _loads(self.raw)


@dataclass(frozen=True)
class Manifest(Raw):
    config: Descriptor = field(default=None)  # type: ignore[assignment]
    layers: tuple[Descriptor, ...] = ()


@dataclass(frozen=True)
class Index(Raw):
    manifests: tuple[Descriptor, ...] = ()

    def select(self, want: Platform) -> Descriptor:
        for d in self.manifests:
            if d.platform and want.matches(d.platform) and mt.is_manifest(d.media_type or
                                                                           mt.OCI_MANIFEST):
                return d
        have = ", ".join(_plat_str(d.platform) for d in self.manifests if d.platform)
        raise UsageError(f"no image found in image index for platform {want} "
                         f"(available: {have or 'none'})")


def _plat_str(p: PlatformJSON) -> str:
    return "/".join(x for x in (p.get("os"), p.get("architecture"), p.get("variant")) if x)


def _loads(raw: bytes) -> ManifestJSON:
    try:
        # the keys parse reads are checked as it reads them (Descriptor.from_json)
        obj: ManifestJSON = json.loads(raw)
    except ValueError as exc:
        raise IntegrityError(f"malformed JSON document: {exc}") from None
    if not isinstance(obj, dict):
        raise IntegrityError("malformed JSON document: not an object")
    return obj


def media_type_of(raw: bytes, header: str = "") -> str:
    """The media type a document declares, else the HTTP header's, else a guess by shape."""
    obj = _loads(raw)
    declared = obj.get("mediaType") or header.split(";")[0].strip()
    if declared in mt.INDEXES or declared in mt.MANIFESTS:
        return str(declared)
    if "manifests" in obj:
        return mt.OCI_INDEX
    if obj.get("schemaVersion") == 1:
        return mt.DOCKER_SCHEMA1
    return mt.OCI_MANIFEST


def parse(raw: bytes, digest: str = "", header_type: str = "") -> Manifest | Index:
    """Parse a manifest or index, keeping its bytes; `digest` (if given) is verified."""
    if digest:
        digests.verify_bytes(raw, digest)
    else:
        digest = digests.of_bytes(raw)
    media_type = media_type_of(raw, header_type)
    obj = _loads(raw)
    if media_type == mt.DOCKER_SCHEMA1:
        raise UsageError("Docker schema 1 manifests are not supported; "
                         "push the image again with a current client")
    if mt.is_index(media_type):
        return Index(raw, digest, media_type,
                     tuple(Descriptor.from_json(d) for d in obj.get("manifests", [])))
    try:
        config = Descriptor.from_json(obj["config"])
    except (KeyError, TypeError):
        raise IntegrityError(f"manifest {digest} has no config") from None
    layers = tuple(Descriptor.from_json(d) for d in obj.get("layers") or [])
    return Manifest(raw, digest, media_type, config, layers)


def build_manifest(config: Descriptor, layers: list[Descriptor], oci: bool = True) -> bytes:
    """A new manifest's bytes (for images pyc creates: import, commit, save/load)."""
    obj = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST if oci else mt.DOCKER_MANIFEST,
        "config": config.to_json(),
        "layers": [d.to_json() for d in layers],
    }
    return json.dumps(obj, separators=(",", ":")).encode()
