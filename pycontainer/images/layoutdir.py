"""Podman's directory formats for `save -o DIR` and `load -i DIR`.

- `oci-dir`: an OCI image layout (oci-layout, index.json, blobs/sha256/...): what an
  oci-archive holds, unpacked.
- `docker-dir`: containers/image's `dir:` transport: `manifest.json` (a Docker v2s2
  manifest), `version`, and every blob as a file named by its hex digest; one image.

Layers are written uncompressed (their digest is the diff id), as in the archives, so
`--uncompressed` is what pyc always does.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from pycontainer.errors import UsageError
from pycontainer.images import layertar
from pycontainer.images.store import ImageStore
from pycontainer.oci import digest as digests
from pycontainer.oci import image as oci_image
from pycontainer.oci import mediatypes as mt

if TYPE_CHECKING:
    from pycontainer.images.saveload import SaveItem
    from pycontainer.images.store import ImageRecord

DIR_VERSION = b"Directory Transport Version: 1.1\n"
#: a Docker v2s2 layer that is not compressed (containers/image writes these too)
DOCKER_LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar"
FORMATS = ("oci-dir", "docker-dir")


def _fresh_dir(dest: Path) -> None:
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UsageError(f"{dest} exists and is not an empty directory")
    dest.mkdir(parents=True, exist_ok=True)


def save_dir(store: ImageStore, items: list[SaveItem], dest: Path, fmt: str) -> None:
    """`items`: images.saveload.SaveItem."""
    if fmt == "docker-dir" and len(items) != 1:
        raise UsageError("docker-dir holds one image: save the others to other directories")
    _fresh_dir(dest)
    if fmt == "oci-dir":
        _save_oci_dir(store, items, dest)
    else:
        _save_docker_dir(store, items[0].record, dest)


def _save_oci_dir(store: ImageStore, items: list[SaveItem], dest: Path) -> None:
    from pycontainer.images import saveload

    # the oci-archive's bytes, unpacked by the archive reader's own checked extraction
    with tempfile.TemporaryFile(dir=dest.parent) as tmp:
        saveload.save(store, items, tmp, oci_only=True)
        tmp.seek(0)
        saveload.extract_archive(tmp, dest)


def _save_docker_dir(store: ImageStore, rec: ImageRecord, dest: Path) -> None:
    raw_cfg = store.blobs.read(rec.id)
    (dest / digests.hex_of(rec.id)).write_bytes(raw_cfg)
    layers = []
    for layer, diff_id in zip(rec.layers, rec.diff_ids, strict=True):
        target = dest / digests.hex_of(diff_id)
        with layertar.open_tar(store, diff_id, layer["digest"]) as f, \
                open(target, "wb") as out:
            while chunk := f.read(1 << 20):
                out.write(chunk)
        layers.append(oci_image.Descriptor(DOCKER_LAYER_TAR, diff_id, target.stat().st_size))
    config = oci_image.Descriptor(mt.DOCKER_CONFIG, rec.id, len(raw_cfg))
    (dest / "manifest.json").write_bytes(oci_image.build_manifest(config, layers, oci=False))
    (dest / "version").write_bytes(DIR_VERSION)
