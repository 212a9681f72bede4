"""`pyc system df` and `pyc system prune`: disk usage of the whole store, and removing what
nothing uses. Both call the other ops (ps, images, volumes, networks, builder); this module
only adds up and sequences.

Sizes, as Docker counts them:
  * images: the unpacked layers (`layers/<hex>.json` "size"); a layer shared by images is
    counted once in the total, and is SHARED SIZE of each image that has it. ACTIVE: images a
    container (any state) uses; RECLAIMABLE: the layers no such image has.
  * containers: the writable layer (`<container>/storage/diff`); ACTIVE: running or paused;
    RECLAIMABLE: the writable layers of the others.
  * volumes: the blocks under `_data`; ACTIVE: used by a container; RECLAIMABLE: the others.
  * build cache: each step entry (`<data>/build-cache/steps/<key>.json`) with the layers it
    alone keeps (no image has them), each `RUN --mount=type=cache` dir, and the remembered
    context file hashes; all of it is reclaimable (no build holds it between builds).
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pycontainer.errors import PycError, UsageError
from pycontainer.paths import Paths

if TYPE_CHECKING:
    from pycontainer.images.store import ImageRecord
    from pycontainer.ops.ps import PsEntry

#: the filters `system prune` accepts (Docker's: until, label, label!)
PRUNE_FILTERS = frozenset({"until", "label", "label!"})


@dataclass
class ImageUsage:
    id: str
    names: list[str]
    created: str
    size: int
    shared_size: int
    containers: int


@dataclass
class ContainerUsage:
    entry: PsEntry  # size_rw filled in


@dataclass
class VolumeUsage:
    name: str
    links: int
    size: int


@dataclass
class CacheUsage:
    id: str
    type: str  # "regular" (a step) or "exec.cachemount" (a RUN --mount=type=cache dir)
    size: int
    created: float  # epoch seconds
    last_used: float
    shared: bool  # its layers are also in an image
    description: str = ""


@dataclass
class Summary:
    total: int = 0
    active: int = 0
    size: int = 0
    reclaimable: int = 0


@dataclass
class DiskUsage:
    images: list[ImageUsage] = field(default_factory=list)
    containers: list[ContainerUsage] = field(default_factory=list)
    volumes: list[VolumeUsage] = field(default_factory=list)
    build_cache: list[CacheUsage] = field(default_factory=list)
    image_sum: Summary = field(default_factory=Summary)
    container_sum: Summary = field(default_factory=Summary)
    volume_sum: Summary = field(default_factory=Summary)
    cache_sum: Summary = field(default_factory=Summary)


# --- df ------------------------------------------------------------------------------------


def disk_usage(paths: Paths) -> DiskUsage:
    du = DiskUsage()
    layer_size = _images(paths, du)
    _containers(paths, du)
    _volumes(paths, du)
    _build_cache(paths, du, layer_size)
    return du


def _images(paths: Paths, du: DiskUsage) -> dict[str, int]:
    from pycontainer.ops import images as ops_images

    store = ops_images.store(paths)
    records = store.all()
    users = ops_images.containers_using(paths)
    sizes: dict[str, int] = {}
    holders: dict[str, int] = {}
    for rec in records:
        for d in set(rec.diff_ids):
            if d not in sizes:
                try:
                    sizes[d] = int(store.layers.meta(d).get("size", 0) or 0)
                except (OSError, ValueError):
                    sizes[d] = 0
            holders[d] = holders.get(d, 0) + 1
    active_layers: set[str] = set()
    for rec in sorted(records, key=lambda r: r.created, reverse=True):
        layers = set(rec.diff_ids)
        n = len(users.get(rec.id, []))
        if n:
            du.image_sum.active += 1
            active_layers |= layers
        du.images.append(ImageUsage(
            id=rec.id, names=list(rec.names), created=rec.created,
            size=sum(sizes[d] for d in layers),
            shared_size=sum(sizes[d] for d in layers if holders[d] > 1), containers=n))
    du.image_sum.total = len(records)
    du.image_sum.size = sum(sizes.values())
    du.image_sum.reclaimable = du.image_sum.size - sum(sizes[d] for d in active_layers)
    return sizes


def _containers(paths: Paths, du: DiskUsage) -> None:
    from pycontainer.ops.ps import PsOptions, list_containers

    for e in list_containers(paths, PsOptions(all=True, size=True)):
        size = e.size_rw or 0
        du.container_sum.total += 1
        du.container_sum.size += size
        if e.state in ("running", "paused", "restarting"):
            du.container_sum.active += 1
        else:
            du.container_sum.reclaimable += size
        du.containers.append(ContainerUsage(e))


def _volumes(paths: Paths, du: DiskUsage) -> None:
    from pycontainer.ops import volumes as ops_volumes

    users = ops_volumes.usage(paths)
    for vol in ops_volumes.store(paths).list():
        links = len(users.get(vol.name, []))
        size = _blocks(vol.mountpoint)
        du.volumes.append(VolumeUsage(vol.name, links, size))
        du.volume_sum.total += 1
        du.volume_sum.size += size
        if links:
            du.volume_sum.active += 1
        else:
            du.volume_sum.reclaimable += size


def _build_cache(paths: Paths, du: DiskUsage, in_images: dict[str, int]) -> None:
    from pycontainer.images.store import keep_refs
    from pycontainer.ops import images as ops_images

    layers = ops_images.store(paths).layers
    root = Path(paths.build_cache)
    counted: set[str] = set()
    steps = root / "steps"
    for entry in sorted(steps.glob("*.json")) if steps.is_dir() else []:
        try:
            st = entry.stat()
        except OSError:
            continue
        _blobs, diff_ids = keep_refs(entry)
        size = st.st_size
        for d in sorted(diff_ids - set(in_images) - counted):
            counted.add(d)
            with contextlib.suppress(OSError, ValueError):
                size += int(layers.meta(d).get("size", 0) or 0)
        du.build_cache.append(CacheUsage(
            id=entry.stem, type="regular", size=size, created=st.st_mtime,
            last_used=st.st_atime if st.st_atime > st.st_mtime else st.st_mtime,
            shared=bool(diff_ids & set(in_images))))
    mounts = root / "mounts"
    for mount in sorted(mounts.iterdir()) if mounts.is_dir() else []:
        with contextlib.suppress(OSError):
            st = mount.stat()
            du.build_cache.append(CacheUsage(
                id=mount.name, type="exec.cachemount", size=_bytes(mount), created=st.st_ctime,
                last_used=st.st_mtime, shared=False))
    files = root / "files"
    if files.is_dir() and any(files.iterdir()):
        with contextlib.suppress(OSError):
            st = files.stat()
            du.build_cache.append(CacheUsage(
                id="context-hashes", type="source.local", size=_bytes(files),
                created=st.st_ctime, last_used=st.st_mtime, shared=False))
    du.cache_sum.total = len(du.build_cache)
    du.cache_sum.size = sum(c.size for c in du.build_cache)
    du.cache_sum.reclaimable = du.cache_sum.size


def _bytes(path: Path) -> int:
    from pycontainer.ops.ps import dir_size

    return int(dir_size(path))


def _blocks(path: Path) -> int:
    total = 0
    for top, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(top, name)).st_blocks * 512
    return total


# --- prune ---------------------------------------------------------------------------------


@dataclass
class SystemPruneReport:
    containers: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)  # "deleted: sha256:..." lines
    build_cache: list[str] = field(default_factory=list)
    reclaimed: int = 0


def check_prune_filters(volumes: bool, filters: list[str]) -> dict[str, list[str]]:
    """Validate `system prune`'s flags before its prompt (Docker's errors)."""
    from pycontainer.formats.filters import check

    parsed = check(filters, PRUNE_FILTERS)
    if volumes and "until" in parsed:
        raise UsageError('ERROR: The "until" filter is not supported with "--volumes"')
    return parsed


def prune(paths: Paths, all_: bool = False, volumes: bool = False,
          filters: list[str] | None = None) -> SystemPruneReport:
    """`system prune [-a] [--volumes] [--filter ...]`, in Docker's order: containers,
    networks, volumes, images, build cache (the build cache only without filters)."""
    from pycontainer.ops import builder as ops_builder
    from pycontainer.ops import networks as ops_networks
    from pycontainer.ops import volumes as ops_volumes

    filters = list(filters or [])
    parsed = check_prune_filters(volumes, filters)
    report = SystemPruneReport()
    report.containers, size = _prune_containers(paths, parsed)
    report.reclaimed += size
    report.networks = ops_networks.prune(paths, filters)
    if volumes:
        vols = ops_volumes.prune(paths, False, filters)
        report.volumes = list(vols.removed)
        report.reclaimed += vols.reclaimed
    names = {rec.id: rec.names for rec in _image_records(paths)}
    deleted, size = _prune_images(paths, all_, parsed)
    for d in deleted:
        report.images += [f"untagged: {_familiar(n)}" for n in names.get(d, [])]
        report.images.append(f"deleted: {d}")
    report.reclaimed += size
    if not parsed:
        cache = ops_builder.prune(paths, all_)
        report.build_cache = list(cache.deleted)
        report.reclaimed += cache.reclaimed
    report.reclaimed += _drop_compressed(paths)
    return report


def _drop_compressed(paths: Paths) -> int:
    """Compressed layer copies an older pyc kept beside pulled layers: now rebuilt from the
    layers' tar-splits instead (images.upgrade)."""
    from pycontainer.images.upgrade import drop_compressed
    from pycontainer.ops import images as ops_images

    s = ops_images.store(paths)
    lock = s.collecting(wait=False)
    try:
        lock.acquire()
    except PycError:  # something is being added: next time
        return 0
    try:
        return drop_compressed(s)
    finally:
        lock.release()


def _image_records(paths: Paths) -> list[ImageRecord]:
    from pycontainer.ops import images as ops_images

    return list(ops_images.list_images(paths))


def _familiar(name: str) -> str:
    from pycontainer.ops.images import display_name

    return display_name(name)


CONTAINER_PRUNE_FILTERS = frozenset({"until", "label", "label!"})


def prune_containers(paths: Paths, filters: list[str]) -> tuple[list[str], int]:
    """Docker's `container prune` (the API's, with its filters until=, label=, label!=):
    the removed ids and the bytes their writable layers held."""
    from pycontainer.formats.filters import check

    return _prune_containers(paths, check(filters, CONTAINER_PRUNE_FILTERS))


def _prune_containers(paths: Paths, parsed: dict[str, list[str]]) -> tuple[list[str], int]:
    """`container prune` (ops.prune.prune) on the stopped containers the filters select;
    returns the removed ids and their writable layers' size."""
    from pycontainer.ops import prune
    from pycontainer.ops.ps import PsOptions, list_containers

    until = _until(parsed)
    chosen = {}
    for e in list_containers(paths, PsOptions(all=True, size=True)):
        if e.state not in ("exited", "created"):
            continue
        if until is not None and _epoch(e.created) >= until:
            continue
        if not _labels_match(e.labels, parsed):
            continue
        chosen[e.id] = e.size_rw or 0
    if not chosen:
        return [], 0
    removed = prune.prune(paths, [f"id={cid}" for cid in chosen])
    return removed, sum(chosen.get(cid, 0) for cid in removed)


def _prune_images(paths: Paths, all_: bool, parsed: dict[str, list[str]]
                  ) -> tuple[list[str], int]:
    """`image prune [-a]` (ops.images.prune); with filters, only the images they select are
    removed (the store's own delete + collect, as ops.images.prune does)."""
    from pycontainer.ops import images as ops_images

    if not parsed:
        return ops_images.prune(paths, all_)
    until = _until(parsed)
    s = ops_images.store(paths)
    deleted = []
    with s.deleting():  # no container is being created from an image meanwhile
        users = ops_images.containers_using(paths)
        for rec in s.all():
            if rec.id in users or (rec.names and not all_):
                continue
            if until is not None and _epoch(rec.created) >= until:
                continue
            labels = (rec.config.get("config") or {}).get("Labels") or {}
            if not _labels_match(labels, parsed):
                continue
            if s.delete(rec.id):
                deleted.append(rec.id)
    if not deleted:
        return deleted, 0
    lock = s.collecting(wait=True)
    try:
        lock.acquire()
    except PycError:
        return deleted, 0
    try:
        return deleted, s.collect()[1]
    finally:
        lock.release()


def _until(parsed: dict[str, list[str]]) -> float | None:
    from pycontainer.formats.filters import until

    return until(parsed)


def _labels_match(labels: dict[str, str], parsed: dict[str, list[str]]) -> bool:
    from pycontainer.formats.filters import labels_match

    return labels_match(labels, parsed)


def _epoch(stamp: str) -> float:
    from pycontainer.formats.timestamps import epoch

    return epoch(stamp, time.time())

