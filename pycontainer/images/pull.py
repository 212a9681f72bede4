"""Copying an image from a registry into the store: manifest, config, layers, then the index.

Call order (what makes it crash-safe): the manifest and config are fetched and verified in
memory; every layer streams into a temp blob file and, at the same time, into an unpacking
child (images.layers.Unpacker); a layer's blob and unpacked dir are renamed into place only
after its digest, size and diff id are verified; the manifest and config blobs are written
next, and the index entry last. A pull killed at any point leaves temp files (swept later)
and perhaps complete, verified but unreferenced blobs and layers, which the next pull reuses.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pycontainer.errors import IntegrityError, PycError
from pycontainer.images.commit import commit_unpacked
from pycontainer.images.layers import Unpacker, mapping
from pycontainer.images.layersources import LayerSource, add_sources
from pycontainer.images.store import ImageRecord, ImageStore
from pycontainer.oci import digest as digests
from pycontainer.oci import image as oci_image
from pycontainer.oci.digest import DigestingReader
from pycontainer.registry.client import RegistryClient

if TYPE_CHECKING:
    from pathlib import Path

    from pycontainer.oci.imagespec import ImageConfig

#: progress(event, short digest, done bytes, total bytes); events: "exists", "waiting",
#: "downloading", "verifying", "complete".
Progress = Callable[[str, str, int, int], None]
PARALLEL = 4


@dataclass
class Resolved:
    """What a reference points at: the top-level digest and the platform's manifest."""

    top_digest: str
    manifest: oci_image.Manifest


def resolve_manifest(client: RegistryClient, repo: str, ref: str,
                     platform: oci_image.Platform, expected: str = "") -> Resolved:
    raw, ctype, header = client.get_manifest(repo, ref)
    digest = expected or (header if digests.is_digest(header) else "") or digests.of_bytes(raw)
    try:
        parsed = oci_image.parse(raw, digest, ctype)
    except IntegrityError as exc:
        raise IntegrityError(f"manifest {digest} from {client.registry}/{repo}: "
                             f"{exc.message}") from None
    if isinstance(parsed, oci_image.Index):
        desc = parsed.select(platform)
        raw2, ctype2, _ = client.get_manifest(repo, desc.digest)
        parsed2 = oci_image.parse(raw2, desc.digest, ctype2 or desc.media_type)
        if not isinstance(parsed2, oci_image.Manifest):
            raise IntegrityError(f"{desc.digest}: an index inside an index is not supported")
        return Resolved(digest, parsed2)
    return Resolved(digest, parsed)


def fetch_config(store: ImageStore, client: RegistryClient, repo: str,
                 manifest: oci_image.Manifest) -> tuple[bytes, ImageConfig]:
    d = manifest.config
    raw = store.blobs.read(d.digest) if store.blobs.has(d.digest) else \
        digests.verify_bytes(client.get_blob_bytes(repo, d.digest), d.digest, d.size)
    try:
        config: ImageConfig = json.loads(raw)
    except ValueError:
        raise IntegrityError(f"image config {d.digest} is not JSON") from None
    rootfs = config.get("rootfs")
    diff_ids = rootfs.get("diff_ids", []) if rootfs else []
    if len(diff_ids) != len(manifest.layers):
        raise IntegrityError(f"image config {d.digest} lists {len(diff_ids)} layers, the "
                             f"manifest {len(manifest.layers)}")
    return raw, config


def pull_image(store: ImageStore, client: RegistryClient, repo: str, resolved: Resolved,
               names: list[str], progress: Progress | None = None,
               canonical: str = "") -> ImageRecord:
    """Copy the resolved image into the store and index it under `names`; `canonical` is
    the registry/repository the digest is recorded for (not a mirror's), by default
    the client's."""
    store.ensure()
    manifest = resolved.manifest
    report = progress or (lambda *a: None)
    with store.adding():
        raw_cfg, config = fetch_config(store, client, repo, manifest)
        diff_ids = config["rootfs"]["diff_ids"]
        _fetch_layers(store, client, repo, manifest.layers, diff_ids, report)
        _record_sources(store, client.registry, repo, manifest.layers, diff_ids)
        store.blobs.put_bytes(raw_cfg, manifest.config.digest)
        store.blobs.put_bytes(manifest.raw, manifest.digest)
        size = sum(int(store.layers.meta(d).get("size", 0)) for d in diff_ids)
        name = canonical or f"{client.registry}/{repo}"
        record = ImageRecord(
            id=manifest.config.digest, names=names, digest=manifest.digest, config=config,
            created=str(config.get("created", "")), size=size,
            repo_digests=[f"{name}@{resolved.top_digest}"],
            layers=[d.to_json() for d in manifest.layers], manifest_type=manifest.media_type)
        return store.add(record)


def _fetch_layers(store: ImageStore, client: RegistryClient, repo: str,
                  layers: tuple[oci_image.Descriptor, ...], diff_ids: list[str],
                  report: Progress) -> None:
    jobs: list[tuple[oci_image.Descriptor, str, Unpacker | None]] = []
    id_map = None
    try:
        for desc, diff_id in zip(layers, diff_ids, strict=True):
            need_layer = not store.layers.has(diff_id)
            if not need_layer and (store.layers.has_split(diff_id) or
                                   store.blobs.has(desc.digest)):
                report("exists", _short(desc.digest), desc.size, desc.size)
                continue
            unpacker = None
            if need_layer:
                # Forked here, before any download thread exists (fork and threads mix badly).
                id_map = id_map or mapping()
                unpacker = Unpacker(store.layers.root, diff_id, id_map)
            jobs.append((desc, diff_id, unpacker))
            report("waiting", _short(desc.digest), 0, desc.size)
    except BaseException:
        for _, _, u in jobs:
            if u:
                u.abort()
        raise
    if not jobs:
        return
    # here, not at the top: a pull of a present image has no jobs (~10 ms to import)
    from concurrent.futures import ThreadPoolExecutor

    cancel = threading.Event()

    def run(job: tuple[oci_image.Descriptor, str, Unpacker | None]) -> None:
        _fetch_one(store, client, repo, *job, report, cancel)

    with ThreadPoolExecutor(max_workers=min(PARALLEL, len(jobs))) as pool:
        futures = [pool.submit(run, j) for j in jobs]
        errors = []
        for f in futures:
            try:
                f.result()
            except BaseException as exc:  # noqa: BLE001 - the first one is re-raised
                cancel.set()
                errors.append(exc)
    if errors:
        raise next((e for e in errors if isinstance(e, PycError)), errors[0])


def _record_sources(store: ImageStore, registry: str, repo: str,
                    layers: tuple[oci_image.Descriptor, ...], diff_ids: list[str]) -> None:
    """Where each layer's blob is, for push (images.layersources)."""
    for desc, diff_id in zip(layers, diff_ids, strict=True):
        add_sources(store, diff_id, [LayerSource(registry, repo, desc.digest, desc.media_type,
                                                 desc.size)])


def _fetch_one(store: ImageStore, client: RegistryClient, repo: str,
               desc: oci_image.Descriptor, diff_id: str, unpacker: Unpacker | None,
               report: Progress, cancel: threading.Event) -> None:
    short = _short(desc.digest)
    tmp = None
    try:
        if store.blobs.has(desc.digest):  # blob here, layer not: unpack the local copy
            assert unpacker is not None
            with store.blobs.open(desc.digest) as f:
                unpacker.feed(f)
        else:
            # the compressed bytes are kept only when the layer's tar cannot be rebuilt from
            # its tar-split: it is here from an older pyc without one
            tmp = store.blobs.temp_path() if unpacker is None else None
            _download(client, repo, desc, tmp, unpacker, short, report, cancel)
        if unpacker is not None:
            result = unpacker.finish()
            commit_unpacked(store, unpacker, diff_id, result)
            if not result.get("split") and not store.blobs.has(desc.digest):
                tmp = store.blobs.temp_path()  # a lossy layer (see images.tarsplit): rare
                _download(client, repo, desc, tmp, None, short, report, cancel)
        if tmp is not None:
            os.rename(tmp, store.blobs.path(desc.digest))
            tmp = None
        report("complete", short, desc.size, desc.size)
    except BaseException:
        if unpacker is not None:
            unpacker.abort()
        raise
    finally:
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


def _download(client: RegistryClient, repo: str, desc: oci_image.Descriptor, tmp: Path | None,
              unpacker: Unpacker | None, short: str, report: Progress,
              cancel: threading.Event) -> None:
    stream = client.open_blob(repo, desc.digest, desc.size)
    reader = DigestingReader(stream, desc.digest, desc.size)
    try:
        with open(tmp, "wb", buffering=0) if tmp is not None else \
                contextlib.nullcontext() as out:
            while chunk := reader.read(1 << 20):
                if cancel.is_set():
                    raise PycError("pull cancelled")
                if out is not None:
                    out.write(chunk)
                if unpacker is not None:
                    unpacker.write(chunk)
                report("downloading", short, reader.count, desc.size)
    finally:
        stream.close()
    report("verifying", short, reader.count, desc.size)
    try:
        reader.verify()
    except IntegrityError as exc:
        raise IntegrityError(f"blob {desc.digest} from {client.registry}/{repo} is corrupt: "
                             f"{exc.message}") from None


def _short(digest: str) -> str:
    return digest.split(":", 1)[-1][:12]
