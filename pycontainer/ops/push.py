"""`pyc push`: copy an image from the store to a registry.

Order (the distribution spec's): every blob first (skipped when the registry has it, mounted
from another repository of the same registry when we know one, uploaded otherwise), the
manifest last, so the registry never holds a manifest whose blobs are missing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TextIO

from pycontainer.errors import ImageNotFound, IntegrityError, UsageError
from pycontainer.images import layersources, layertar
from pycontainer.images.store import ImageRecord, ImageStore
from pycontainer.oci import image as oci_image
from pycontainer.oci import mediatypes as mt
from pycontainer.oci import reference
from pycontainer.oci.digest import of_bytes
from pycontainer.ops import events
from pycontainer.ops.registries import client_for
from pycontainer.paths import Paths
from pycontainer.registry.client import RegistryClient

PARALLEL = 3

#: structured progress for the Engine API: ("start", {"repository"}), ("layer", {"id",
#: "status"}) (Layer already exists / Mounted from R / Pushed), ("done", {"tag", "digest",
#: "size"}) once per pushed tag
PushListener = Callable[[str, dict[str, Any]], None]


@dataclass
class PushOptions:
    name: str
    destination: str = ""
    all_tags: bool = False
    tls_verify: bool | None = None
    authfile: str | None = None
    listener: PushListener | None = None
    #: (username, password) given by the client (the API's X-Registry-Auth)
    credentials: tuple[str, str] | None = None


def push(paths: Paths, opts: PushOptions, out: TextIO | None = None) -> list[str]:
    """Push; returns the pushed manifest digests (one per tag)."""
    store = ImageStore(paths)
    if opts.all_tags:
        dest = reference.parse(opts.destination or opts.name)
        pairs = [(store.resolve(n), reference.parse(n)) for n, _ in store.iter_names()
                 if reference.parse(n).name == dest.name]
        if not pairs:
            raise ImageNotFound(f"No such image: {dest.name} (no tags to push)")
    else:
        rec = store.resolve(opts.name)
        target = opts.destination or opts.name
        if not opts.destination and not rec.names and rec.id.endswith(opts.name.split(":")[-1]):
            raise UsageError("push by image id needs a destination: pyc push ID NAME[:TAG]")
        dest = reference.parse(target)
        pairs = [(rec, dest)]
    if dest.digest:
        raise UsageError(f"cannot push to a digest reference: {dest}")
    client = client_for(paths, dest.registry, dest.repository, opts.tls_verify, opts.authfile,
                        credentials=opts.credentials)
    if out:
        out.write(f"The push refers to repository [{dest.familiar_name}]\n")
    if opts.listener:
        opts.listener("start", {"repository": dest.familiar_name})
    digests = [_push_one(store, rec, client, t, out, opts.listener) for rec, t in pairs]
    for _, pushed in pairs:
        events.image_ref(paths, "push", pushed)
    return digests


def _push_one(store: ImageStore, rec: ImageRecord, client: RegistryClient,
              dest: reference.Reference, out: TextIO | None,
              listener: PushListener | None = None) -> str:
    raw, media_type = _manifest(store, rec)
    manifest = oci_image.parse(raw)
    assert isinstance(manifest, oci_image.Manifest)
    sources = [d.split("@")[0] for d in rec.repo_digests]
    mount_from = next((s.split("/", 1)[1] for s in sources
                       if s.split("/", 1)[0] == dest.registry and s != dest.name), "")
    jobs = [_Layer(d, diff_id, mount_from) for d, diff_id in
            zip(manifest.layers, rec.diff_ids, strict=True)]

    def report(line: str) -> None:
        if out:
            out.write(line + "\n")
            out.flush()
        if listener:
            short, _, status = line.partition(": ")
            listener("layer", {"id": short, "status": status})

    # registry round trips in parallel; a layer that must be rebuilt from its unpacked files
    # is done after, from this thread alone (rebuilding forks a user namespace child)
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        for job in pool.map(lambda j: _place(store, client, dest.repository, j), jobs):
            if job.status:
                report(job.status)
    for job in jobs:
        if not job.status:
            report(_recompress(store, client, dest.repository, job, media_type))
    _push_blob(store, client, dest.repository, manifest.config, mount_from)
    if any(j.pushed != j.desc for j in jobs):
        raw = _with_layers(raw, [j.pushed for j in jobs])
    tag = dest.tag or reference.DEFAULT_TAG
    client.put_manifest(dest.repository, tag, raw, media_type)
    digest = of_bytes(raw)
    if out:
        out.write(f"{tag}: digest: {digest} size: {len(raw)}\n")
    if listener:
        listener("done", {"tag": tag, "digest": digest, "size": len(raw)})
    store.add(ImageRecord(id=rec.id, names=[], digest=rec.digest, config=rec.config,
                          created=rec.created, size=rec.size,
                          repo_digests=[f"{dest.name}@{digest}"], layers=rec.layers,
                          manifest_type=rec.manifest_type))
    return digest


@dataclass
class _Layer:
    desc: oci_image.Descriptor  # as the stored manifest lists it
    diff_id: str
    mount_from: str  # a repository of the target registry the image was pulled from
    pushed: oci_image.Descriptor | None = None  # what the pushed manifest lists
    status: str = ""  # the progress line once placed


def _place(store: ImageStore, client: RegistryClient, repo: str, job: _Layer) -> _Layer:
    """Put the layer in place without rebuilding it: a blob the registry has (the manifest's
    or one recorded for the diff id), a cross-repository mount, or the stored blob."""
    # each known blob of the layer, with a repository of this registry to mount it from
    candidates: dict[str, tuple[oci_image.Descriptor, str]] = {
        job.desc.digest: (job.desc, job.mount_from)}
    for src in layersources.sources(store, job.diff_id):
        desc, mount = candidates.get(src.digest, (oci_image.Descriptor(
            src.media_type, src.digest, src.size), ""))
        if not mount and src.registry == client.registry and src.repository != repo:
            mount = src.repository
        candidates[src.digest] = (desc, mount)
    for desc, _ in candidates.values():
        if client.has_blob(repo, desc.digest):
            job.pushed, job.status = desc, f"{_short(desc)}: Layer already exists"
            return job
    location = None
    for desc, source in candidates.values():
        if source:
            location = client.mount_blob(repo, desc.digest, source)
            if location is None:
                job.pushed, job.status = desc, f"{_short(desc)}: Mounted from {source}"
                return job
    if store.blobs.has(job.desc.digest):  # a built layer, or one pulled by an older pyc
        location = location or client.start_upload(repo)
        with store.blobs.open(job.desc.digest) as f:
            client.put_blob(repo, location, job.desc.digest,
                            store.blobs.size(job.desc.digest), f)
        job.pushed, job.status = job.desc, f"{_short(job.desc)}: Pushed"
    return job


def _recompress(store: ImageStore, client: RegistryClient, repo: str, job: _Layer,
                manifest_type: str) -> str:
    """Gzip the layer again from its unpacked files (deterministically: the same digest each
    time) and upload it unless the registry has that blob already."""
    tmp, digest, size = layertar.compress(store, job.diff_id, job.desc.digest)
    try:
        layer_type = mt.DOCKER_LAYER if manifest_type == mt.DOCKER_MANIFEST else \
            mt.OCI_LAYER_GZIP
        job.pushed = oci_image.Descriptor(layer_type, digest, size)
        line = f"{_short(job.pushed)}: Layer already exists"
        if not client.has_blob(repo, digest):
            location = client.start_upload(repo)
            with open(tmp, "rb") as f:
                client.put_blob(repo, location, digest, size, f)
            line = f"{_short(job.pushed)}: Pushed"
    finally:
        os.unlink(tmp)
    layersources.add_sources(store, job.diff_id, [layersources.LayerSource(
        client.registry, repo, digest, layer_type, size)])
    return line


def _with_layers(raw: bytes, layers: list[oci_image.Descriptor | None]) -> bytes:
    """The manifest with its layer descriptors replaced by those pushed."""
    obj = json.loads(raw)
    for entry, desc in zip(obj["layers"], layers, strict=True):
        assert desc is not None
        entry.update({"mediaType": desc.media_type, "digest": desc.digest,
                      "size": desc.size})
    return json.dumps(obj, separators=(",", ":")).encode()


def _short(desc: oci_image.Descriptor) -> str:
    return desc.digest.split(":", 1)[1][:12]


def _manifest(store: ImageStore, rec: ImageRecord) -> tuple[bytes, str]:
    if rec.digest and store.blobs.has(rec.digest):
        raw = store.blobs.read(rec.digest)
        return raw, oci_image.media_type_of(raw, rec.manifest_type)
    raw_cfg = store.blobs.read(rec.id)
    layers = [oci_image.Descriptor.from_json(d) for d in rec.layers]
    raw = oci_image.build_manifest(oci_image.Descriptor(mt.OCI_CONFIG, rec.id, len(raw_cfg)),
                                   layers)
    return raw, mt.OCI_MANIFEST


def _push_blob(store: ImageStore, client: RegistryClient, repo: str,
               desc: oci_image.Descriptor, mount_from: str) -> str:
    short = _short(desc)
    if client.has_blob(repo, desc.digest):
        return f"{short}: Layer already exists"
    if not store.blobs.has(desc.digest):
        raise IntegrityError(f"blob {desc.digest} is not in the local store; pull the image "
                             "again before pushing")
    location = client.mount_blob(repo, desc.digest, mount_from) if mount_from else None
    if mount_from and location is None:
        return f"{short}: Mounted from {mount_from}"
    location = location or client.start_upload(repo)
    with store.blobs.open(desc.digest) as f:
        client.put_blob(repo, location, desc.digest, store.blobs.size(desc.digest), f)
    return f"{short}: Pushed"
