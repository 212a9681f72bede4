"""Image references and Docker's normalisation.

    busybox                      -> docker.io/library/busybox:latest
    user/app:1.0                 -> docker.io/user/app:1.0
    127.0.0.1:5000/ns/app        -> 127.0.0.1:5000/ns/app:latest
    app@sha256:...               -> docker.io/library/app@sha256:... (no tag)
    app:1.0@sha256:...           -> tag kept for display, the digest decides what is pulled

The first path component is a registry host when it contains "." or ":" or is "localhost",
exactly Docker's rule (so "foo/bar" is a Docker Hub user, not a host).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from pycontainer.errors import InvalidReference
from pycontainer.oci import digest as digests

DEFAULT_REGISTRY = "docker.io"
DEFAULT_TAG = "latest"
_LEGACY_HUB = ("index.docker.io", "registry-1.docker.io")

_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_DOMAIN = re.compile(
    r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$"
)
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")


@dataclass(frozen=True)
class Reference:
    registry: str
    repository: str
    tag: str = ""
    digest: str = ""

    @property
    def name(self) -> str:
        """registry/repository, e.g. docker.io/library/busybox."""
        return f"{self.registry}/{self.repository}"

    def __str__(self) -> str:
        out = self.name
        if self.tag:
            out += ":" + self.tag
        if self.digest:
            out += "@" + self.digest
        return out

    @property
    def tagged(self) -> str:
        """name:tag (the key of a tag in the store), or "" without a tag."""
        return f"{self.name}:{self.tag}" if self.tag else ""

    @property
    def familiar_name(self) -> str:
        """Docker's display form: busybox, user/app, 127.0.0.1:5000/ns/app."""
        return familiar(self.name)

    @property
    def reference(self) -> str:
        """What to ask the registry for: the digest if known, else the tag."""
        return self.digest or self.tag or DEFAULT_TAG

    def with_tag(self, tag: str) -> Reference:
        return replace(self, tag=tag, digest="")

    def with_digest(self, digest: str) -> Reference:
        return replace(self, digest=digest)


def familiar(name: str) -> str:
    if name.startswith(DEFAULT_REGISTRY + "/"):
        name = name[len(DEFAULT_REGISTRY) + 1:]
        if name.startswith("library/") and name.count("/") == 1:
            name = name[len("library/"):]
    return name


def is_qualified(text: str) -> bool:
    """True when `text` names its registry explicitly (no search list applies)."""
    first, sep, _ = text.partition("/")
    return bool(sep) and _looks_like_host(first)


def _looks_like_host(part: str) -> bool:
    return "." in part or ":" in part or part == "localhost" or part.startswith("[")


def parse(text: str, default_registry: str = DEFAULT_REGISTRY) -> Reference:
    """Parse and normalise `text`; InvalidReference with Docker-like wording if it is bad."""
    original = text
    if not text or text != text.strip():
        raise InvalidReference(f"invalid reference format: {original!r}")
    digest = ""
    if "@" in text:
        text, digest = text.split("@", 1)
        if not digests.is_digest(digest):
            raise InvalidReference(f"invalid reference format: {original!r}: bad digest")
    tag = ""
    last = text.rsplit("/", 1)[-1]
    if ":" in last:
        text, tag = text.rsplit(":", 1)
        if not _TAG.match(tag):
            raise InvalidReference(f"invalid reference format: {original!r}: bad tag")
    registry, path = _split_registry(text, default_registry, original)
    if not tag and not digest:
        tag = DEFAULT_TAG
    return Reference(registry, path, tag, digest)


def _split_registry(text: str, default: str, original: str) -> tuple[str, str]:
    first, sep, rest = text.partition("/")
    if sep and _looks_like_host(first):
        if not _DOMAIN.match(first):
            raise InvalidReference(f"invalid reference format: {original!r}: bad registry")
        registry, path = first, rest
    else:
        registry, path = default, text
    if registry in _LEGACY_HUB:
        registry = DEFAULT_REGISTRY
    if registry == DEFAULT_REGISTRY and "/" not in path:
        path = "library/" + path
    if not path or len(path) > 255:
        raise InvalidReference(f"invalid reference format: {original!r}")
    for component in path.split("/"):
        if not _COMPONENT.match(component):
            if component.lower() != component:
                raise InvalidReference(
                    f"invalid reference format: repository name ({path}) must be lowercase")
            raise InvalidReference(f"invalid reference format: {original!r}")
    return registry, path
