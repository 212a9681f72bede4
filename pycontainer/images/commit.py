"""Making an image from a new layer (`pyc import`, `pyc commit`, builds).

The layer arrives as an uncompressed tar stream. In one pass it is unpacked (by the user
namespace child, which also computes the diff id), gzip-compressed into a blob and hashed;
then config and manifest blobs are written and the image is indexed.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import zlib
from typing import TYPE_CHECKING

from pycontainer.images.layers import Unpacker
from pycontainer.images.store import ImageRecord, now
from pycontainer.oci import image as oci_image
from pycontainer.oci import mediatypes as mt
from pycontainer.oci import reference
from pycontainer.oci.digest import Readable

if TYPE_CHECKING:
    from pycontainer.images.layers import UnpackResult
    from pycontainer.images.store import ImageStore
    from pycontainer.oci.imagespec import HistoryEntry, ImageConfig

#: zlib level 1: several times faster than the default and only a little larger; commit and
#: import are interactive, and registries accept any valid gzip.
GZIP_LEVEL = 1


def commit_layer_image(store: ImageStore, layer: Readable, config: ImageConfig,
                       names: list[str], base: ImageRecord | None = None,
                       history: HistoryEntry | None = None) -> ImageRecord:
    store.ensure()
    with store.adding():
        diff_id, files_size, blob = _ingest_layer(store, layer)
        cfg = copy.deepcopy(config)
        cfg.setdefault("created", now())
        cfg.setdefault("architecture", oci_image.Platform.host().architecture)
        cfg.setdefault("os", "linux")
        base_ids = base.diff_ids if base else []
        cfg["rootfs"] = {"type": "layers", "diff_ids": base_ids + [diff_id]}
        hist = list(base.config.get("history", [])) if base else []
        hist.append(history or {"created": cfg["created"], "created_by": "pyc"})
        cfg["history"] = hist
        raw_cfg = json.dumps(cfg, separators=(",", ":")).encode()
        cfg_digest = store.blobs.put_bytes(raw_cfg)
        layers = [oci_image.Descriptor.from_json(d) for d in (base.layers if base else [])]
        layers.append(blob)
        manifest = oci_image.build_manifest(
            oci_image.Descriptor(mt.OCI_CONFIG, cfg_digest, len(raw_cfg)), layers)
        man_digest = store.blobs.put_bytes(manifest)
        record = ImageRecord(
            id=cfg_digest, names=[reference.parse(n).tagged for n in names], digest=man_digest,
            config=cfg, created=cfg["created"], size=(base.size if base else 0) + files_size,
            layers=[d.to_json() for d in layers], manifest_type=mt.OCI_MANIFEST)
        return store.add(record)


def _ingest_layer(store: ImageStore, layer: Readable) -> tuple[str, int, oci_image.Descriptor]:
    unpacker = Unpacker(store.layers.root)
    tmp = store.blobs.temp_path()
    comp = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    sha = hashlib.sha256()
    size = 0
    try:
        with open(tmp, "wb") as out:
            while chunk := layer.read(1 << 20):
                unpacker.write(chunk)
                data = comp.compress(chunk)
                out.write(data)
                sha.update(data)
                size += len(data)
            data = comp.flush()
            out.write(data)
            sha.update(data)
            size += len(data)
        result = unpacker.finish()
    except BaseException:
        unpacker.abort()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    diff_id = result["diff_id"]
    commit_unpacked(store, unpacker, diff_id, result)
    blob_digest = "sha256:" + sha.hexdigest()
    os.rename(tmp, store.blobs.path(blob_digest))
    return diff_id, int(result["size"]), oci_image.Descriptor(mt.OCI_LAYER_GZIP, blob_digest,
                                                              size)


def commit_unpacked(store: ImageStore, unpacker: Unpacker, diff_id: str,
                    result: UnpackResult) -> None:
    """Move a verified unpacked layer into place unless an identical one is already there."""
    with store.layer_lock(diff_id):
        if store.layers.has(diff_id):
            if result.get("split") and not store.layers.has_split(diff_id):
                # a layer unpacked by an older pyc: now its tar stream can be rebuilt too
                os.rename(unpacker.split_tmp, store.layers.split_path(diff_id))
            unpacker.abort()
            return
        final = store.layers.path(diff_id)
        if final.exists():  # a dir without meta: left by a crash between rename and meta
            store.layers.remove([diff_id])
        unpacker.commit(final)
        if result.get("split"):  # before the meta: a present layer's split is complete
            with contextlib.suppress(FileNotFoundError):  # lost a race: the layer is theirs
                os.rename(unpacker.split_tmp, store.layers.split_path(diff_id))
        store.layers.write_meta(diff_id, {"diff_id": diff_id, "size": result["size"],
                                          "tar_size": result["tar_size"]})
