"""Podman's extra `inspect` fields, next to Docker's (which stay as they are): scripts
written for Podman read `.ImageName`, `.ImageDigest`, `.NamesHistory`, ... ; a field Docker
also has is never replaced.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pycontainer.containers.model import Container
from pycontainer.containers.store import ContainerStore
from pycontainer.errors import PycError

if TYPE_CHECKING:
    from pycontainer.images.store import ImageRecord


def add_missing(out: dict[str, Any], extras: dict[str, Any]) -> dict[str, Any]:
    for key, value in extras.items():
        out.setdefault(key, value)
    return out


def container_extras(store: ContainerStore, c: Container) -> dict[str, Any]:
    from pycontainer.ops import selection

    cfg = c.config
    return {
        "ImageName": cfg.image,
        "ImageDigest": _image_digest(store, cfg.image_id),
        "Rootfs": "",
        "Pod": cfg.spec.pod,  # Podman's: the pod's full id
        "Namespace": "",
        "IsInfra": False,
        "OCIRuntime": cfg.runtime,
        "OCIConfigPath": str(store.bundle(c.id) / "config.json"),
        "StaticDir": str(store.dir(c.id)),
        "Dependencies": sorted(selection.joined(store, c)),
    }


def _image_digest(store: ContainerStore, image_id: str) -> str:
    from pycontainer.ops import recordcache

    if not recordcache.enabled():
        return _read_digest(store, image_id)
    index = str(store.paths.images / "index.json")
    try:
        # the digests read since the index last changed (the index holds them)
        known = recordcache.cached(index, dict, dict)
    except OSError:
        return _read_digest(store, image_id)
    digest = known.get(image_id)
    if not isinstance(digest, str):
        digest = known[image_id] = _read_digest(store, image_id)
    return digest


def _read_digest(store: ContainerStore, image_id: str) -> str:
    from pycontainer.images.store import ImageStore

    images = ImageStore(store.paths)
    try:
        digest = images.digest_of(image_id)  # the index alone: inspect runs per container
        return digest if digest is not None else images.resolve(image_id).digest
    except PycError:
        return ""  # removed (rmi -f) since


def image_extras(rec: ImageRecord) -> dict[str, Any]:
    """`rec`: an images.store.ImageRecord."""
    inner = rec.config.get("config") or {}
    return {
        "Version": rec.config.get("docker_version", ""),
        "Labels": inner.get("Labels"),
        "Annotations": {},
        "ManifestType": rec.manifest_type,
        "User": inner.get("User", ""),
        "NamesHistory": list(rec.names),
    }
