"""docker-archive and oci-archive tarballs: writing (`pyc save`) and reading (`pyc load`).

`save` writes what Docker 25+ writes, which both `docker load` and `podman load` read: an OCI
image layout (oci-layout, index.json, blobs/sha256/...) plus Docker's manifest.json and
repositories. Layers are written uncompressed (their digest is then the diff id), as Docker
does, so the archive does not depend on how a registry compressed them.

`load` unpacks the archive's files into a temp dir inside the store (plain files only,
names checked), then reads manifest.json (docker-archive) or index.json (oci-archive).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from pycontainer.errors import (
    IntegrityError,
    InvalidReference,
    PycError,
    UnsafeArchive,
    UsageError,
)
from pycontainer.images import layertar
from pycontainer.images.commit import commit_unpacked
from pycontainer.images.layers import Unpacker, mapping
from pycontainer.images.store import ImageRecord, ImageStore
from pycontainer.linux.fs import safe_join
from pycontainer.oci import digest as digests
from pycontainer.oci import image as oci_image
from pycontainer.oci import mediatypes as mt
from pycontainer.oci import reference

if TYPE_CHECKING:
    from pycontainer.jsontypes import JSON


@dataclass
class SaveItem:
    record: ImageRecord
    names: list[str]  # normalised name:tag to record in the archive


def save(store: ImageStore, items: list[SaveItem], out: BinaryIO, oci_only: bool = False) -> None:
    tf = tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT)  # noqa: SIM115
    written: set[str] = set()
    index: list[JSON] = []
    docker_manifest: list[JSON] = []
    repositories: dict[str, dict[str, str]] = {}
    try:
        _add_bytes(tf, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        _add_dir(tf, "blobs")
        _add_dir(tf, "blobs/sha256")
        for item in items:
            descs = _save_image(store, item.record, tf, written)
            raw_cfg = store.blobs.read(item.record.id)
            manifest = oci_image.build_manifest(
                oci_image.Descriptor(mt.OCI_CONFIG, item.record.id, len(raw_cfg)), descs)
            m_digest = digests.of_bytes(manifest)
            _add_blob(tf, m_digest, manifest, written)
            tags = [_docker_name(n) for n in item.names]
            for n in item.names or [""]:
                ann = {"io.containerd.image.name": n,
                       "org.opencontainers.image.ref.name": n.rpartition(":")[2]} if n else {}
                index.append({"mediaType": mt.OCI_MANIFEST, "digest": m_digest,
                              "size": len(manifest), **({"annotations": ann} if ann else {})})
            docker_manifest.append({"Config": _blob_path(item.record.id), "RepoTags": tags,
                                    "Layers": [_blob_path(d.digest) for d in descs]})
            for t in tags:
                repo, _, tag = t.rpartition(":")
                repositories.setdefault(repo, {})[tag] = descs[-1].digest[7:] if descs else ""
        _add_bytes(tf, "index.json", json.dumps(
            {"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": index}).encode())
        if not oci_only:
            _add_bytes(tf, "manifest.json", json.dumps(docker_manifest).encode())
            _add_bytes(tf, "repositories", json.dumps(repositories).encode())
    finally:
        tf.close()


def _docker_name(name: str) -> str:
    base, _, tag = name.rpartition(":")
    return f"{reference.familiar(base)}:{tag}"


def _blob_path(digest: str) -> str:
    return "blobs/sha256/" + digest.split(":", 1)[1]


def _add_dir(tf: tarfile.TarFile, name: str) -> None:
    ti = tarfile.TarInfo(name)
    ti.type = tarfile.DIRTYPE
    ti.mode = 0o755
    tf.addfile(ti)


def _add_bytes(tf: tarfile.TarFile, name: str, data: bytes) -> None:
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mode = 0o644
    tf.addfile(ti, io.BytesIO(data))


def _add_blob(tf: tarfile.TarFile, digest: str, data: bytes, written: set[str]) -> None:
    if digest not in written:
        written.add(digest)
        _add_bytes(tf, _blob_path(digest), data)


def _save_image(store: ImageStore, rec: ImageRecord, tf: tarfile.TarFile,
                written: set[str]) -> list[oci_image.Descriptor]:
    _add_blob(tf, rec.id, store.blobs.read(rec.id), written)
    descs = []
    for layer, diff_id in zip(rec.layers, rec.diff_ids, strict=True):
        size = _tar_size(store, layer["digest"], diff_id)
        descs.append(oci_image.Descriptor(mt.OCI_LAYER, diff_id, size))
        if diff_id in written:
            continue
        written.add(diff_id)
        ti = tarfile.TarInfo(_blob_path(diff_id))
        ti.size = size
        ti.mode = 0o644
        with layertar.open_tar(store, diff_id, layer["digest"]) as f:
            tf.addfile(ti, f)
    return descs


def _tar_size(store: ImageStore, blob: str, diff_id: str) -> int:
    size = store.layers.meta(diff_id).get("tar_size")
    if isinstance(size, int):
        return size
    n = 0
    with layertar.open_tar(store, diff_id, blob) as f:
        while chunk := f.read(1 << 20):
            n += len(chunk)
    return n


# -- load --------------------------------------------------------------------------------------

def load(store: ImageStore, stream: BinaryIO) -> list[str]:
    """Load every image of the archive; returns what was loaded (names, or ids if untagged)."""
    store.ensure()
    tmp = store.blobs.temp_path()
    os.mkdir(tmp)
    try:
        with store.adding():
            _extract_archive(stream, tmp)
            return _load_images(store, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load_dir(store: ImageStore, root: Path) -> list[str]:
    """`load -i DIR`: an oci-dir or docker-dir (images/layoutdir.py), read in place."""
    store.ensure()
    with store.adding():
        return _load_images(store, root)


def _read_any(root: Path) -> list[Image]:
    if is_docker_dir(root):
        return read_docker_dir(root)
    return _read_docker(root) if (root / "manifest.json").is_file() else _read_oci(root)


def _load_images(store: ImageStore, root: Path) -> list[str]:
    images = _read_any(root)
    for config_path, layer_paths, _, _ in images:  # all present before any is added
        _check_present(root, [config_path, *layer_paths])
    seen: dict[Path, oci_image.Descriptor] = {}  # layers shared by several images
    # every layer first, then the records: a bad layer leaves no image half-loaded
    # (the layers unpacked before it are unreferenced: the store's GC removes them)
    ready = [(_layers(store, seen, cfg, layers), names, manifest)
             for cfg, layers, names, manifest in images]
    loaded = []
    for (config, descs), names, manifest in ready:
        rec = _add_record(store, config, descs, names, manifest)
        loaded += [_docker_name(n) for n in rec.names if n in names] or [rec.id]
    return loaded


def _extract_archive(stream: BinaryIO, dest: Path) -> None:
    try:
        tf = tarfile.open(fileobj=stream, mode="r|*")  # noqa: SIM115
    except tarfile.TarError as exc:
        raise UsageError(f"not a docker-archive or oci-archive tarball: {exc}") from None
    with tf:
        try:
            for m in tf:
                try:
                    _extract_member(tf, m, dest)
                except OSError as exc:  # twice the same name, a file where a dir must be
                    raise IntegrityError(f"archive entry {m.name!r}: "
                                         f"{exc.strerror or exc}") from None
        except (tarfile.TarError, EOFError) as exc:  # cut short, or not a tar after all
            raise IntegrityError(f"the archive is truncated or corrupt: {exc}") from None


def extract_archive(stream: BinaryIO, dest: Path) -> None:
    """Unpack an image archive's files below `dest` (names checked, plain files only)."""
    _extract_archive(stream, dest)


def _extract_member(tf: tarfile.TarFile, m: tarfile.TarInfo, dest: Path) -> None:
    if m.name.startswith("/"):
        raise UnsafeArchive(f"archive entry {m.name!r} is an absolute path")
    path = safe_join(dest, m.name)
    if m.isdir():
        path.mkdir(parents=True, exist_ok=True)
    elif m.isreg():
        path.parent.mkdir(parents=True, exist_ok=True)
        src = tf.extractfile(m)
        assert src is not None
        with open(path, "xb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
    # links and special files have no place in an image archive: ignored


Image = tuple[Path, list[Path], list[str], bytes | None]


def _read_docker(root: Path) -> list[Image]:
    try:
        entries = json.loads((root / "manifest.json").read_bytes())
    except ValueError:
        raise IntegrityError("manifest.json of the archive is not JSON") from None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise IntegrityError("manifest.json of the archive is not a list of images")
    out: list[Image] = []
    for e in entries:
        config, layers, tags = e.get("Config"), e.get("Layers"), e.get("RepoTags") or []
        if not isinstance(config, str) or not isinstance(layers, list) or not all(
                isinstance(x, str) for x in [*layers, *tags]):
            raise IntegrityError("manifest.json of the archive: each image needs a Config "
                                 "path, a list of Layers paths and a list of RepoTags")
        names = [reference.parse(t).tagged for t in tags]
        out.append((_archive_path(root, config), [_archive_path(root, p) for p in layers],
                    names, None))
    return out


def _archive_path(root: Path, member: str) -> Path:
    """A file manifest.json names: inside the archive, never an absolute path."""
    if member.startswith("/"):
        raise UnsafeArchive(f"manifest.json of the archive names an absolute path: {member!r}")
    return safe_join(root, member)


def _check_present(root: Path, files: list[Path]) -> None:
    for path in files:
        if not path.is_file() or path.is_symlink():
            raise IntegrityError(f"the archive lacks {path.relative_to(root)}, which its "
                                 "manifest names")


def _read_oci(root: Path) -> list[Image]:
    if not (root / "index.json").is_file():
        raise UsageError("archive has neither manifest.json (docker-archive) nor index.json "
                         "(oci-archive)")
    try:
        return _read_index(root)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        what = exc.strerror if isinstance(exc, OSError) else exc
        raise IntegrityError(f"the archive's OCI layout is not valid: {what}") from None


def _read_index(root: Path) -> list[Image]:
    index = json.loads((root / "index.json").read_bytes())
    out: list[Image] = []
    for d in index.get("manifests", []):
        raw = (_blob_file(root, d["digest"])).read_bytes()
        parsed = oci_image.parse(raw, d["digest"])
        if isinstance(parsed, oci_image.Index):
            parsed_m = parsed.select(oci_image.Platform.host())
            raw = _blob_file(root, parsed_m.digest).read_bytes()
            parsed = oci_image.parse(raw, parsed_m.digest)
        assert isinstance(parsed, oci_image.Manifest)
        ann = d.get("annotations") or {}
        name = ann.get("io.containerd.image.name") or ann.get("org.opencontainers.image.ref.name")
        names = []
        if name and (":" in name or "/" in name):
            with contextlib.suppress(InvalidReference):
                names = [reference.parse(name).tagged]
        out.append((_blob_file(root, parsed.config.digest),
                    [_blob_file(root, x.digest) for x in parsed.layers], names, raw))
    return out


def _blob_file(root: Path, digest: str) -> Path:
    return root / "blobs" / "sha256" / digests.hex_of(digest)


def _layers(store: ImageStore, seen: dict[Path, oci_image.Descriptor], config_path: Path,
            layer_paths: list[Path]) -> tuple[bytes, list[oci_image.Descriptor]]:
    """Unpack an image's layers into the store: its raw config and the layer descriptors."""
    raw_cfg = config_path.read_bytes()
    diff_ids = _diff_ids(raw_cfg, config_path.name)
    if len(diff_ids) != len(layer_paths):
        raise IntegrityError("archive: the config's layer count does not match its manifest")
    descs = []
    for path, diff_id in zip(layer_paths, diff_ids, strict=True):
        if path not in seen:
            seen[path] = _ingest_layer(store, path, diff_id)
        descs.append(seen[path])
    return raw_cfg, descs


def _diff_ids(raw_cfg: bytes, name: str) -> list[str]:
    try:
        config = json.loads(raw_cfg)
        diff_ids = config.get("rootfs", {}).get("diff_ids", [])
        for d in diff_ids:
            digests.validate(d)
    except (ValueError, TypeError, AttributeError, PycError) as exc:
        raise IntegrityError(f"archive: image config {name} is not valid: {exc}") from None
    if not isinstance(diff_ids, list):
        raise IntegrityError(f"archive: image config {name}: rootfs.diff_ids is not a list")
    return list(diff_ids)


def _add_record(store: ImageStore, raw_cfg: bytes, descs: list[oci_image.Descriptor],
                names: list[str], manifest_raw: bytes | None) -> ImageRecord:
    config = json.loads(raw_cfg)
    diff_ids = config.get("rootfs", {}).get("diff_ids", [])
    cfg_digest = store.blobs.put_bytes(raw_cfg)
    if manifest_raw is None:
        manifest_raw = oci_image.build_manifest(
            oci_image.Descriptor(mt.OCI_CONFIG, cfg_digest, len(raw_cfg)), descs)
    m_digest = store.blobs.put_bytes(manifest_raw)
    size = sum(int(store.layers.meta(d).get("size", 0)) for d in diff_ids)
    rec = ImageRecord(id=cfg_digest, names=names, digest=m_digest, config=config,
                      created=str(config.get("created", "")), size=size,
                      layers=[d.to_json() for d in descs],
                      manifest_type=oci_image.media_type_of(manifest_raw))
    return store.add(rec)


def _ingest_layer(store: ImageStore, path: Path, diff_id: str) -> oci_image.Descriptor:
    with open(path, "rb") as f:
        head = f.read(8)
    kind = mt.compression_of(head)
    media_type = {"gzip": mt.OCI_LAYER_GZIP, "zstd": mt.OCI_LAYER_ZSTD}.get(kind, mt.OCI_LAYER)
    h = hashlib.sha256()
    need = not store.layers.has(diff_id)
    unpacker = Unpacker(store.layers.root, diff_id, mapping()) if need else None
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
                if unpacker:
                    unpacker.write(chunk)
        if unpacker:
            commit_unpacked(store, unpacker, diff_id, unpacker.finish())
    except BaseException:
        if unpacker:
            unpacker.abort()
        raise
    digest = "sha256:" + h.hexdigest()
    size = os.path.getsize(path)
    if store.layers.has_split(diff_id) and not store.blobs.has(digest):
        # its tar can be rebuilt (images.tarsplit): no copy kept, as after a pull
        return oci_image.Descriptor(media_type, digest, size)
    if not store.blobs.has(digest):
        os.rename(path, store.blobs.path(digest))
    return oci_image.Descriptor(media_type, digest, size)


# -- Podman's docker-dir (`dir:`), read in place: the saving side is images/layoutdir.py --

def is_docker_dir(root: Path) -> bool:
    return (root / "version").is_file() and (root / "manifest.json").is_file()


def read_docker_dir(root: Path) -> list[tuple[Path, list[Path], list[str], bytes | None]]:
    """The one image of a `dir:` directory, as images.saveload's readers give it."""
    try:
        manifest = json.loads((root / "manifest.json").read_bytes())
        config = manifest["config"]["digest"]
        layers = [d["digest"] for d in manifest["layers"]]
        paths = [safe_join(root, digests.hex_of(d)) for d in [config, *layers]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IntegrityError(f"{root}: not a docker-dir image: {exc}") from None
    for path in paths:
        if not path.is_file() or os.path.islink(path):
            raise IntegrityError(f"{root}: lacks {path.name}, which its manifest names")
    return [(paths[0], paths[1:], [], None)]
