"""The local image store: blobs, unpacked layers and an index of images.

    images/
      index.json          {"images": {id: entry}}: names, manifest digest, created, size
      index.lock          flock guarding read-modify-write of index.json
      gc.lock             shared while something is being added; exclusive for garbage
                          collection, which is skipped (not waited for) while it is busy
      users.lock          shared while a container is created from an image; exclusive
                          while rmi/prune choose the images no container uses and drop them
      blobs/sha256/<hex>  manifests, configs and compressed layers, verified before rename
                          (a pulled layer's compressed blob is not kept: see tar-split)
      layers/<hex>/       the unpacked layer whose diff id is sha256:<hex> (overlay lower dir)
      layers/<hex>.tar-split.gz  how to rebuild the layer's exact tar stream from the dir
                          (images.tarsplit); renamed into place before the meta
      layers/<hex>.sources.json  where its compressed blobs are (images.layersources)
      layers/<hex>.json   {"diff_id", "size", "tar_size"}: written after the rename
      locks/<hex>.lock    one layer being unpacked (concurrent pulls wait, then reuse it)

An image is visible only once its index entry is written, and that happens last, after every
blob and layer it needs is in place; index.json itself is replaced atomically.

Garbage collection keeps what an image refers to, and also what a *keep file* refers to: a
JSON object in one of `KEEP_DIRS` (`<data>/build-cache/steps/*.json`, the build cache's
steps, written by `ops.build.store`) of the form

    {"layers": [{"digest": "sha256:..."}, ...],      blobs to keep
     "diff_ids": ["sha256:...", ...],                  unpacked layers to keep
     "config": "<image config as JSON text>"}          (older files: its rootfs.diff_ids)

Any other keys are ignored; an unreadable file keeps nothing. Whoever removes keep files
holds `collecting()` while doing it (`pyc builder prune`), so no build is using them.

Adding an image from a new layer (`images.commit.commit_layer_image`): for `pyc commit`,
`pyc import` and builds. Give it the layer as an uncompressed tar stream, the image config
(without rootfs: it is filled in), an optional base image whose layers come first, and the
names to tag. It gzips the layer into a blob, unpacks it into a layer dir, writes config and
manifest blobs, and indexes the image.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from pycontainer.errors import (
    Conflict,
    ImageNotFound,
    IntegrityError,
    InvalidReference,
    LockTimeout,
)
from pycontainer.images.blobs import BlobStore
from pycontainer.images.layers import LayerStore
from pycontainer.linux.fs import atomic_write_json, read_json
from pycontainer.linux.locks import FileLock
from pycontainer.oci import digest as digests
from pycontainer.oci import image as oci_image
from pycontainer.oci import reference
from pycontainer.paths import Paths

if TYPE_CHECKING:
    from pycontainer.oci.imagespec import DescriptorJSON, ImageConfig

_HEX = re.compile(r"^[0-9a-f]{4,64}$")

#: Directories (below the data dir) of keep files (see the module docstring)
KEEP_DIRS = ("build-cache/steps",)


class IndexEntry(TypedDict, total=False):
    """One image in index.json (its config is the blob named by the image id)."""

    names: list[str]
    digest: str
    created: str
    size: int
    repo_digests: list[str]
    layers: list[DescriptorJSON]
    manifest_type: str
    tagged_at: str
    extra_blobs: list[str]


@dataclass
class ImageRecord:
    id: str  # "sha256:<hex>" of the config blob: Docker's image ID
    names: list[str]  # normalised name:tag refs
    digest: str  # manifest digest ("" if the image has none)
    config: ImageConfig  # the parsed OCI image config
    created: str  # RFC 3339
    size: int  # bytes of the unpacked layers
    repo_digests: list[str] = field(default_factory=list)  # name@digest as pulled
    layers: list[DescriptorJSON] = field(default_factory=list)  # manifest layer descriptors
    manifest_type: str = ""
    tagged_at: str = ""

    @property
    def diff_ids(self) -> list[str]:
        rootfs = self.config.get("rootfs")
        return list(rootfs.get("diff_ids", [])) if rootfs else []

    @property
    def short_id(self) -> str:
        return self.id.split(":", 1)[1][:12]


def now() -> str:
    # lazily: only writers need it, and `run` resolves images on its hot path
    from pycontainer.formats.timestamps import rfc3339

    return rfc3339(digits=6, fixed=True)  # fixed width: image lists sort by this text


class ImageStore:
    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self.root = Path(paths.images)
        self.blobs = BlobStore(self.root / "blobs")
        self.layers = LayerStore(self.root / "layers")
        self.index_path = self.root / "index.json"

    # -- locking -----------------------------------------------------------------------------

    def ensure(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "locks").mkdir(exist_ok=True)
        self.blobs.ensure()
        self.layers.ensure()

    def index_lock(self) -> FileLock:
        self.ensure()
        return FileLock(self.root / "index.lock", timeout=120)

    def adding(self) -> FileLock:
        """Held (shared) while blobs/layers are added but not yet indexed: GC keeps off."""
        self.ensure()
        return FileLock(self.root / "gc.lock", shared=True, timeout=600)

    def using(self) -> FileLock:
        """Held (shared) by `create` from resolving its image until the container's record
        is written: whoever deletes images (`deleting()`) then sees every container that
        uses one, and a container never points at a deleted image."""
        self.ensure()
        return FileLock(self.root / "users.lock", shared=True, timeout=120)

    def deleting(self) -> FileLock:
        """The exclusive side of `using()`: held while deciding which images no container
        uses and dropping them from the index (short: garbage collection comes after)."""
        self.ensure()
        return FileLock(self.root / "users.lock", timeout=120)

    def has_id(self, image_id: str) -> bool:
        return image_id in self._load()

    def layer_lock(self, diff_id: str) -> FileLock:
        self.ensure()
        return FileLock(self.root / "locks" / (diff_id.split(":", 1)[1] + ".lock"),
                        timeout=3600)

    # -- the index ---------------------------------------------------------------------------

    def _load(self) -> dict[str, IndexEntry]:
        try:
            obj = read_json(self.index_path)
        except FileNotFoundError:
            return {}
        except ValueError as exc:
            raise IntegrityError(f"image index {self.index_path} is corrupt: {exc}") from None
        images = obj.get("images", {}) if isinstance(obj, dict) else {}
        return images if isinstance(images, dict) else {}

    def _save(self, images: dict[str, IndexEntry]) -> None:
        atomic_write_json(self.index_path, {"version": 1, "images": images})

    def _record(self, image_id: str, entry: IndexEntry) -> ImageRecord:
        config: ImageConfig
        try:
            config = json.loads(self.blobs.read(image_id))
        except (OSError, ValueError):
            config = {}
        return ImageRecord(
            id=image_id, names=list(entry.get("names", [])), digest=entry.get("digest", ""),
            config=config, created=entry.get("created", "") or config.get("created", ""),
            size=int(entry.get("size", 0)), repo_digests=list(entry.get("repo_digests", [])),
            layers=list(entry.get("layers", [])), manifest_type=entry.get("manifest_type", ""),
            tagged_at=entry.get("tagged_at", ""))

    def all(self) -> list[ImageRecord]:
        return [self._record(i, e) for i, e in self._load().items()]

    def exists(self, name_or_id: str) -> bool:
        try:
            self.resolve(name_or_id)
        except (ImageNotFound, InvalidReference):
            return False
        return True

    def digest_of(self, image_id: str) -> str | None:
        """The digest the index records for a full image id, without reading the image's
        config (None: no such image)."""
        entry = self._load().get(image_id)
        return None if entry is None else str(entry.get("digest", ""))

    def resolve(self, name_or_id: str) -> ImageRecord:
        images = self._load()
        image_id = self._find(images, name_or_id)
        if image_id is None:
            raise ImageNotFound(f"No such image: {name_or_id}")
        return self._record(image_id, images[image_id])

    def _find(self, images: dict[str, IndexEntry], text: str) -> str | None:
        if text.startswith("sha256:"):
            return self._by_prefix(images, text[len("sha256:"):], text)
        by_name = None
        with contextlib.suppress(InvalidReference):
            by_name = self._by_name(images, reference.parse(text))
        if by_name is None and _HEX.match(text):
            by_name = self._by_prefix(images, text, text)
        if by_name is None:
            reference.parse(text)  # an invalid name that is no id either: say so
            by_name = self._by_search_registries(images, text)
        return by_name

    def _by_search_registries(self, images: dict[str, IndexEntry], text: str) -> str | None:
        """An unqualified name pulled through registries.conf's search list
        ("app" pulled as quay.io/app:latest) is found under that registry too."""
        if reference.is_qualified(text) or not images:
            return None
        from pycontainer import config

        for registry in config.load(self.paths.config).search:
            if registry != reference.DEFAULT_REGISTRY:
                found = self._by_name(images, reference.parse(text, registry))
                if found:
                    return found
        return None

    def _by_prefix(self, images: dict[str, IndexEntry], prefix: str, text: str) -> str | None:
        if not _HEX.match(prefix):
            return None
        hits = [i for i in images if i[len("sha256:"):].startswith(prefix)]
        if len(hits) > 1:
            raise Conflict(f"short id {text} is ambiguous: it matches {len(hits)} images")
        return hits[0] if hits else None

    def _by_name(self, images: dict[str, IndexEntry], ref: reference.Reference) -> str | None:
        for image_id, entry in images.items():
            if ref.digest:
                if (ref.digest == entry.get("digest") and ref.name in
                        [n.rsplit(":", 1)[0] for n in entry.get("names", [])]) or \
                        f"{ref.name}@{ref.digest}" in entry.get("repo_digests", []):
                    return image_id
            elif ref.tagged in entry.get("names", []):
                return image_id
        return None

    # -- changes -----------------------------------------------------------------------------

    def add(self, record: ImageRecord) -> ImageRecord:
        """Index an image whose blobs and layers are all in place; its names move to it."""
        with self.index_lock():
            images = self._load()
            for other_id, entry in images.items():
                if other_id != record.id:
                    entry["names"] = [n for n in entry.get("names", []) if n not in
                                      record.names]
            old: IndexEntry = images.get(record.id, {})
            names = list(dict.fromkeys(old.get("names", []) + record.names))
            repo_digests = list(dict.fromkeys(old.get("repo_digests", []) +
                                              record.repo_digests))
            images[record.id] = {
                "names": names, "digest": record.digest or old.get("digest", ""),
                "created": record.created, "size": record.size,
                "repo_digests": repo_digests, "layers": record.layers,
                "manifest_type": record.manifest_type, "tagged_at": now(),
            }
            self._save(images)
            return self._record(record.id, images[record.id])

    def tag(self, name_or_id: str, new_name: str) -> None:
        ref = reference.parse(new_name)
        if ref.digest:
            raise InvalidReference(f"refusing to create a tag with a digest reference: "
                                   f"{new_name}")
        with self.index_lock():
            images = self._load()
            image_id = self._find(images, name_or_id)
            if image_id is None:
                raise ImageNotFound(f"No such image: {name_or_id}")
            for entry in images.values():
                entry["names"] = [n for n in entry.get("names", []) if n != ref.tagged]
            images[image_id]["names"].append(ref.tagged)
            images[image_id]["tagged_at"] = now()
            self._save(images)

    def untag(self, image_id: str, name: str) -> None:
        with self.index_lock():
            images = self._load()
            if image_id in images:
                entry = images[image_id]
                entry["names"] = [n for n in entry.get("names", []) if n != name]
                base = name.rsplit(":", 1)[0]
                if not any(n.rsplit(":", 1)[0] == base for n in entry["names"]):
                    entry["repo_digests"] = [d for d in entry.get("repo_digests", [])
                                             if d.split("@")[0] != base]
                self._save(images)

    def delete(self, image_id: str) -> bool:
        """Drop the index entry (blobs and layers go at the next `gc`)."""
        with self.index_lock():
            images = self._load()
            if images.pop(image_id, None) is None:
                return False
            self._save(images)
        return True

    # -- layers for containers ---------------------------------------------------------------

    def layer_dirs(self, record: ImageRecord) -> list[Path]:
        """The unpacked layer dirs, base layer first (reverse of overlay's lowerdir order)."""
        out = []
        for diff_id in record.diff_ids:
            path = self.layers.path(diff_id)
            if not path.is_dir():
                raise IntegrityError(f"layer {diff_id} of image {record.short_id} is missing "
                                     "from the store; pull the image again")
            out.append(path)
        return out

    # -- garbage collection ------------------------------------------------------------------

    def collecting(self, wait: bool = False) -> FileLock:
        """The exclusive side of `adding()`: held while collecting garbage. Without `wait`
        it fails at once (LockTimeout) while something is being added."""
        self.ensure()
        return FileLock(self.root / "gc.lock", timeout=600 if wait else 0)

    def gc(self, wait: bool = False) -> bool:
        """Remove blobs and layers no image (and no keep file) refers to. Skipped (False)
        while something is being added, unless `wait`: a pull's new blobs are not yet
        referenced."""
        lock = self.collecting(wait)
        try:
            lock.acquire()
        except LockTimeout:  # someone is adding; next time
            return False
        try:
            self.collect()
        finally:
            lock.release()
        return True

    def collect(self) -> tuple[int, int]:
        """Remove what nothing refers to; the caller holds `collecting()`. Returns the bytes
        freed: (compressed blobs, unpacked layers)."""
        blobs, diff_ids = self.referenced()
        blob_bytes = 0
        self.blobs.sweep_temp()
        for d in self.blobs.all():
            if d not in blobs:
                with contextlib.suppress(OSError):
                    blob_bytes += self.blobs.size(d)
                self.blobs.remove(d)
        gone = [d for d in self.layers.all() if d not in diff_ids]
        layer_bytes = sum(int(self.layers.meta(d).get("size", 0) or 0) for d in gone)
        self.layers.remove(gone)
        return blob_bytes, layer_bytes

    def sweep(self) -> None:
        """Remove temp files and dirs left by killed pyc processes (cheap when there are
        none: two directory listings)."""
        self.blobs.sweep_temp()
        if self.layers.root.is_dir() and any(n.startswith(".tmp-")
                                             for n in os.listdir(self.layers.root)):
            self.layers.remove([])

    def referenced(self, keep_files: bool = True) -> tuple[set[str], set[str]]:
        """(blob digests, diff ids) that images refer to, and keep files unless told not."""
        blobs: set[str] = set()
        diff_ids: set[str] = set()
        if keep_files:
            for keep in self.keep_files():
                b, d = keep_refs(keep)
                blobs |= b
                diff_ids |= d
        for image_id, entry in self._load().items():
            blobs.add(image_id)
            if entry.get("digest"):
                blobs.add(entry["digest"])
            for extra in entry.get("extra_blobs", []):
                blobs.add(extra)
            blobs.update(d["digest"] for d in entry.get("layers", []))
            rec = self._record(image_id, entry)
            diff_ids.update(rec.diff_ids)
        return blobs, diff_ids

    def keep_files(self) -> Iterator[Path]:
        for rel in KEEP_DIRS:
            d = Path(self.paths.data) / rel
            try:
                names = os.listdir(d)
            except FileNotFoundError:
                continue
            yield from (d / n for n in names if n.endswith(".json"))

    def fsck(self) -> list[str]:
        """Problems found: missing or corrupt blobs, missing layers. Empty means healthy."""
        problems = []
        for rec in self.all():
            needed = [rec.id] + ([rec.digest] if rec.digest else [])
            # a layer's blob is not kept when its tar-split can rebuild it (images.tarsplit)
            needed += [d["digest"] for d, diff_id in zip(rec.layers, rec.diff_ids, strict=False)
                       if self.blobs.has(d["digest"]) or not self.layers.has_split(diff_id)]
            for d in needed:
                if not self.blobs.has(d):
                    problems.append(f"image {rec.short_id}: blob {d} is missing")
                    continue
                with self.blobs.open(d) as f:
                    h = digests.hasher(d)
                    while chunk := f.read(1 << 20):
                        h.update(chunk)
                if f"sha256:{h.hexdigest()}" != d:
                    problems.append(f"image {rec.short_id}: blob {d} is corrupt")
            problems += [f"image {rec.short_id}: layer {d} is missing"
                         for d in rec.diff_ids if not self.layers.has(d)]
        return problems

    def iter_names(self) -> Iterator[tuple[str, str]]:
        for image_id, entry in self._load().items():
            for n in entry.get("names", []):
                yield n, image_id


def manifest_of(store: ImageStore, record: ImageRecord) -> oci_image.Manifest | None:
    if not record.digest or not store.blobs.has(record.digest):
        return None
    parsed = oci_image.parse(store.blobs.read(record.digest), record.digest)
    return parsed if isinstance(parsed, oci_image.Manifest) else None


def keep_refs(path: Path) -> tuple[set[str], set[str]]:
    """(blob digests, diff ids) that one keep file names; nothing when it is unreadable."""
    try:
        obj = read_json(path)
        diff_ids: Iterable[object] | None = obj.get("diff_ids")
        if diff_ids is None and isinstance(obj.get("config"), str):
            diff_ids = json.loads(obj["config"]).get("rootfs", {}).get("diff_ids", [])
        blobs = {str(d["digest"]) for d in obj.get("layers") or []}
        return blobs, {str(d) for d in diff_ids or []}
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        return set(), set()
