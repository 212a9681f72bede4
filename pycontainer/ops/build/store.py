"""The image-store side of builds: new layers in, the step cache, and the final image.

A layer arrives as an uncompressed tar stream (from `storage.diff`). In one pass it is
unpacked into the layer store (so later steps can use it as a lower dir), gzip-compressed
into a blob and hashed. A stream of nothing but zero blocks is an empty changeset: no layer.

The step cache (`<data>/build-cache/steps/<key>.json`) maps a step's cache key to the state
after it: the config (its digest is the state id), the manifest layer descriptors and the
diff ids. Each entry is a keep file of the image store (`images.store`: garbage collection
keeps the blobs and layers it names, so `rmi` or `image prune` do not empty the cache);
`pyc builder prune` (`ops.builder`) removes entries. An entry whose blobs or unpacked layers
are gone all the same (removed behind pyc's back) is a miss, not an error.

Everything here that adds blobs or layers holds the store's `adding()` (shared) lock, so a
concurrent `rmi` / `image prune` cannot collect them before they are indexed or cached;
`ops.build` holds it for the whole build as well (cache hits are used without being indexed
until the final commit).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from pycontainer.build import imageconfig as ic
from pycontainer.build.backend import Layer, State
from pycontainer.errors import UsageError
from pycontainer.images import layertar
from pycontainer.images.commit import GZIP_LEVEL, commit_unpacked
from pycontainer.images.layers import Unpacker
from pycontainer.images.store import ImageRecord, ImageStore
from pycontainer.linux.fs import atomic_write_json, read_json
from pycontainer.oci import image as oci_image
from pycontainer.oci import mediatypes as mt
from pycontainer.oci import reference

if TYPE_CHECKING:
    from pycontainer.oci.imagespec import DescriptorJSON

#: Docker media types of layers inherited from a pulled base, as OCI manifests name them
_TO_OCI = {mt.DOCKER_LAYER: mt.OCI_LAYER_GZIP}


class _Blob:
    """gzip + sha256 of what passes through, into a temp file of the blob store."""

    def __init__(self, store: ImageStore) -> None:
        self.tmp = store.blobs.temp_path()
        self.file = open(self.tmp, "wb")  # noqa: SIM115 - closed in finish/discard
        self.comp = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        out = self.comp.compress(data)
        self.file.write(out)
        self.sha.update(out)
        self.size += len(out)

    def finish(self) -> str:
        self.write_tail()
        self.file.close()
        return "sha256:" + self.sha.hexdigest()

    def write_tail(self) -> None:
        out = self.comp.flush()
        self.file.write(out)
        self.sha.update(out)
        self.size += len(out)

    def discard(self) -> None:
        self.file.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.tmp)


def ingest(store: ImageStore, stream: BinaryIO) -> Layer | None:
    """Unpack and store the layer tar read from `stream`; None when it holds no entries."""
    with store.adding():
        return _ingest(store, stream)


def _ingest(store: ImageStore, stream: BinaryIO) -> Layer | None:
    unpacker = Unpacker(store.layers.root)
    blob = _Blob(store)
    empty = True
    try:
        while chunk := stream.read(1 << 20):
            empty = empty and not chunk.strip(b"\0")
            unpacker.write(chunk)
            blob.write(chunk)
        digest = blob.finish()
        result = unpacker.finish()
    except BaseException:
        unpacker.abort()
        blob.discard()
        raise
    if empty:
        unpacker.abort()
        blob.discard()
        return None
    diff_id = str(result["diff_id"])
    commit_unpacked(store, unpacker, diff_id, result)
    os.rename(blob.tmp, store.blobs.path(digest))
    return Layer({"mediaType": mt.OCI_LAYER_GZIP, "digest": digest, "size": blob.size},
                 diff_id)


class StepCache:
    def __init__(self, store: ImageStore, root: Path) -> None:
        self.store = store
        self.root = root / "steps"

    def get(self, key: str) -> State | None:
        try:
            entry = read_json(self.root / f"{key}.json")
            config = json.loads(entry["config"])
            layers = list(entry["layers"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        state = State(str(entry.get("id", "")), config, layers)
        if state.id != ic.config_id(config) or len(layers) != len(state.diff_ids):
            return None
        if not all(layertar.can_read(self.store, diff_id, d["digest"])
                   for d, diff_id in zip(layers, state.diff_ids, strict=True)):
            return None
        if not all(self.store.layers.has(d) for d in state.diff_ids):
            return None
        return state

    def put(self, key: str, state: State) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.root / f"{key}.json", {
            "id": state.id, "config": ic.config_bytes(state.config).decode(),
            "layers": state.layers, "diff_ids": state.diff_ids})


def _oci_layer(d: DescriptorJSON) -> oci_image.Descriptor:
    d = d.copy()
    d["mediaType"] = _TO_OCI.get(d.get("mediaType", ""), d.get("mediaType", ""))
    return oci_image.Descriptor.from_json(d)


#: `build --format docker` (Podman): the OCI layer types as a Docker v2s2 manifest names them
_TO_DOCKER = {mt.OCI_LAYER_GZIP: mt.DOCKER_LAYER,
              mt.OCI_LAYER: "application/vnd.docker.image.rootfs.diff.tar"}


def commit(store: ImageStore, state: State, names: list[str], docker: bool = False) -> str:
    """Index the built image (its blobs and layers are in place) under `names`; `docker`:
    with a Docker v2s2 manifest instead of an OCI one."""
    with store.adding():
        return _commit(store, state, names, docker)


def _docker_layer(d: oci_image.Descriptor) -> oci_image.Descriptor:
    if d.media_type not in _TO_DOCKER:
        raise UsageError(f"--format docker: a layer of type {d.media_type} has no Docker "
                         "equivalent")
    return dataclasses.replace(d, media_type=_TO_DOCKER[d.media_type])


def _commit(store: ImageStore, state: State, names: list[str], docker: bool = False) -> str:
    raw = ic.config_bytes(state.config)
    cfg_digest = store.blobs.put_bytes(raw)
    layers = [_oci_layer(d) for d in state.layers]
    if docker:
        layers = [_docker_layer(d) for d in layers]
    manifest = oci_image.build_manifest(oci_image.Descriptor(
        mt.DOCKER_CONFIG if docker else mt.OCI_CONFIG, cfg_digest, len(raw)), layers,
        oci=not docker)
    man_digest = store.blobs.put_bytes(manifest)
    size = sum(int(store.layers.meta(d).get("size", 0)) for d in state.diff_ids)
    record = ImageRecord(
        id=cfg_digest, names=[reference.parse(n).tagged for n in names], digest=man_digest,
        config=state.config, created=str(state.config.get("created", "")), size=size,
        layers=[d.to_json() for d in layers],
        manifest_type=mt.DOCKER_MANIFEST if docker else mt.OCI_MANIFEST)
    store.add(record)
    return cfg_digest
