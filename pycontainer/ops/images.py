"""Image verbs on the local store: list, inspect, tag, rmi, prune, history, import, exists."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

from pycontainer.errors import (
    Conflict,
    ImageNotFound,
    InvalidReference,
    LockTimeout,
    PycError,
    UsageError,
)
from pycontainer.images.store import ImageRecord, ImageStore, now
from pycontainer.oci import reference
from pycontainer.ops import events
from pycontainer.paths import Paths

if TYPE_CHECKING:
    from pycontainer.jsontypes import JSON
    from pycontainer.oci.imagespec import HistoryEntry, ImageConfig


def store(paths: Paths) -> ImageStore:
    return ImageStore(paths)


# -- import ------------------------------------------------------------------------------------

@dataclass
class ImportOptions:
    source: BinaryIO
    name: str = ""
    changes: list[str] = field(default_factory=list)
    message: str = ""
    platform: str = ""


def import_image(paths: Paths, opts: ImportOptions) -> ImageRecord:
    """A one-layer image from a rootfs tarball (plain, gzip or zstd), like `docker import`."""
    from pycontainer.images.compression import DecompressingReader
    from pycontainer.oci import image as oci_image
    from pycontainer.ops import changes

    names = [reference.parse(opts.name).tagged] if opts.name else []
    if opts.name and reference.parse(opts.name).digest:
        raise UsageError(f"import: a digest cannot name a new image: {opts.name}")
    plat = oci_image.Platform.parse(opts.platform) if opts.platform else \
        oci_image.Platform.host()
    created = now()
    config: ImageConfig = {"created": created, "architecture": plat.architecture,
                           "os": plat.os, "config": {}}
    if plat.variant:
        config["variant"] = plat.variant
    changes.apply(config, opts.changes)
    history: HistoryEntry = {"created": created, "created_by": "pyc import"}
    if opts.message:
        history["comment"] = opts.message
        config["comment"] = opts.message
    layer = DecompressingReader(opts.source)
    from pycontainer.images.commit import commit_layer_image

    record = commit_layer_image(store(paths), layer, config, names, None, history)
    events.image(paths, "import", record.id, record.id)
    return record


# -- queries -----------------------------------------------------------------------------------

def resolve(paths: Paths, name: str) -> ImageRecord:
    return store(paths).resolve(name)


def exists(paths: Paths, name: str) -> bool:
    return store(paths).exists(name)


def list_images(paths: Paths) -> list[ImageRecord]:
    return store(paths).all()


def inspect_image(paths: Paths, name: str) -> dict[str, Any]:
    """Docker's `image inspect` object for one image (ImageNotFound if there is none)."""
    s = store(paths)
    rec = s.resolve(name)
    return inspect_record(s, rec)


def inspect_record(s: ImageStore, rec: ImageRecord) -> dict[str, Any]:
    cfg = rec.config
    c = dict(cfg.get("config") or {})
    for key in ("Hostname", "Domainname", "User", "Tty", "OpenStdin", "StdinOnce",
                "AttachStdin", "AttachStdout", "AttachStderr"):
        c.setdefault(key, "" if key in ("Hostname", "Domainname", "User") else False)
    c.setdefault("Env", None)
    c.setdefault("Cmd", None)
    c.setdefault("Image", "")
    c.setdefault("Volumes", None)
    c.setdefault("WorkingDir", "")
    c.setdefault("Entrypoint", None)
    c.setdefault("OnBuild", None)
    c.setdefault("Labels", None)
    layers = [str(s.layers.path(d)) for d in rec.diff_ids]
    from pycontainer.ops.podman_fields import add_missing, image_extras

    return add_missing({
        "Id": rec.id,
        "RepoTags": [display_name(n) for n in rec.names],
        "RepoDigests": [reference.familiar(d.split("@")[0]) + "@" + d.split("@")[1]
                        for d in rec.repo_digests],
        "Parent": "",
        "Comment": cfg.get("comment", ""),
        "Created": rec.created,
        "DockerVersion": cfg.get("docker_version", ""),
        "Author": cfg.get("author", ""),
        "Config": c,
        "Architecture": cfg.get("architecture", ""),
        **({"Variant": cfg["variant"]} if cfg.get("variant") else {}),
        "Os": cfg.get("os", ""),
        "Size": rec.size,
        "VirtualSize": rec.size,
        "GraphDriver": {"Name": "overlay", "Data": {
            "LowerDir": ":".join(reversed(layers[:-1])),
            "UpperDir": layers[-1] if layers else "", "WorkDir": ""}},
        "RootFS": {"Type": "layers", "Layers": rec.diff_ids},
        "Metadata": {"LastTagTime": rec.tagged_at or "0001-01-01T00:00:00Z"},
        "Digest": rec.digest,
        "History": cfg.get("history", []),
    }, image_extras(rec))


def display_name(name: str) -> str:
    """docker.io/library/busybox:latest -> busybox:latest (Docker's familiar form)."""
    base, _, tag = name.rpartition(":")
    return f"{reference.familiar(base)}:{tag}"


def history(paths: Paths, name: str) -> list[dict[str, Any]]:
    """Newest first, like `docker history`: id (the image's for the top entry), created,
    created_by, size (of the layer the step added), comment."""
    s = store(paths)
    rec = s.resolve(name)
    diff_ids = rec.diff_ids
    rows = []
    layer_i = 0
    for h in rec.config.get("history", []) or [{}] * len(diff_ids):
        size = 0
        if not h.get("empty_layer") and layer_i < len(diff_ids):
            size = int(s.layers.meta(diff_ids[layer_i]).get("size", 0))
            layer_i += 1
        rows.append({"created": h.get("created", ""), "created_by": h.get("created_by", ""),
                     "size": size, "comment": h.get("comment", ""), "id": "<missing>"})
    rows.reverse()
    if rows:
        rows[0]["id"] = rec.id
    return rows


# -- changes -----------------------------------------------------------------------------------

def tag(paths: Paths, source: str, target: str) -> None:
    store(paths).tag(source, target)
    events.image(paths, "tag", resolve(paths, target).id, display_name(reference.parse(
        target).tagged or target))


@dataclass
class RemoveReport:
    untagged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


def containers_using(paths: Paths) -> dict[str, list[str]]:
    """{image id: [container ids]} from the containers' records.

    Asks the containers component when it offers `image_users(paths)`; otherwise reads any
    JSON record under paths.containers for an image id (keys image_id / ImageID / Image).
    """
    try:
        from pycontainer.containers import store as cstore

        users = getattr(cstore, "image_users", None)
        if users is not None:
            return dict(users(paths))
    except ImportError:
        pass
    return _scan_container_records(paths)


def _scan_container_records(paths: Paths) -> dict[str, list[str]]:
    import json

    out: dict[str, list[str]] = {}
    root = paths.containers
    if not root.is_dir():
        return out
    for cid in os.listdir(root):
        d = root / cid
        if not d.is_dir():
            continue
        for name in os.listdir(d):
            if not name.endswith(".json"):
                continue
            try:
                obj = json.loads((d / name).read_bytes())
            except (OSError, ValueError):
                continue
            image = _image_field(obj) if isinstance(obj, dict) else None
            if image:
                out.setdefault(image, []).append(cid)
                break
    return out


def _image_field(obj: JSON) -> str | None:
    for key in ("image_id", "ImageID", "imageId", "Image", "image"):
        v = obj.get(key)
        if isinstance(v, str) and v.startswith("sha256:") and len(v) == 71:
            return v
    return None


def remove(paths: Paths, names: list[str], force: bool = False,
           prune: bool = True) -> tuple[RemoveReport, list[Exception]]:
    """`pyc rmi`: untag, then delete images that have no names left and no containers."""
    s = store(paths)
    report = RemoveReport()
    errors: list[Exception] = []
    with s.deleting():  # no container is being created from an image meanwhile
        users = containers_using(paths)
        for name in names:
            try:
                before, gone = len(report.untagged), len(report.deleted)
                image_id = _remove_one(s, name, force, users, report, paths)
                events.image_removed(paths, image_id, len(report.untagged) - before,
                                     len(report.deleted) > gone)
            except (ImageNotFound, Conflict) as exc:
                errors.append(exc)
    if report.deleted and prune:
        s.gc()
    return report, errors


def _remove_one(s: ImageStore, name: str, force: bool, users: dict[str, list[str]],
                report: RemoveReport, paths: Paths) -> str:
    """Untag or delete one image; returns its id."""
    rec = s.resolve(name)
    by_id = _is_id(rec, name)
    in_use = users.get(rec.id, [])
    if not by_id and len(rec.names) > 1:  # just one of several tags: untag only
        tagged = reference.parse(name).tagged
        s.untag(rec.id, tagged)
        report.untagged.append(display_name(tagged))
        return rec.id
    if by_id and len(rec.names) > 1 and not force:
        raise Conflict(f"conflict: unable to delete {rec.short_id} (must be forced) - image "
                       "is referenced in multiple repositories")
    if in_use:
        if not force:
            raise Conflict(f"conflict: unable to remove repository reference \"{name}\" "
                           f"(must force) - container {in_use[0][:12]} is using its "
                           f"referenced image {rec.short_id}")
        running = _running_user(paths, in_use) if by_id else None
        if running:  # Docker: a hard conflict, even forced
            raise Conflict(f"conflict: unable to delete {rec.short_id} (cannot be forced) - "
                           f"image is being used by running container {running[:12]}")
        for n in rec.names:  # forced: untag, keep the image for its containers
            s.untag(rec.id, n)
            report.untagged.append(display_name(n))
        return rec.id
    for n in rec.names:
        report.untagged.append(display_name(n))
    report.untagged += [reference.familiar(d.split("@")[0]) + "@" + d.split("@")[1]
                        for d in rec.repo_digests]
    if s.delete(rec.id):
        report.deleted.append(rec.id)
    return rec.id


def _running_user(paths: Paths, cids: list[str]) -> str | None:
    from pycontainer.containers.lifecycle import ACTIVE
    from pycontainer.containers.store import ContainerStore

    cstore = ContainerStore(paths)
    for cid in cids:
        with contextlib.suppress(PycError):
            if cstore.load(cid).state.status in ACTIVE:
                return cid
    return None


def _is_id(rec: ImageRecord, name: str) -> bool:
    """Was the image named by id (or digest) rather than by one of its tags?"""
    if name.startswith("sha256:") or "@" in name:
        return True
    if rec.id[7:].startswith(name):
        try:
            return reference.parse(name).tagged not in rec.names
        except InvalidReference:
            return True
    return False


def prune(paths: Paths, all_images: bool = False,
          labels: Mapping[str, list[str]] | None = None) -> tuple[list[str], int]:
    """Delete dangling images (with `all_images`, every image no container uses); `labels`:
    only those the prune filters' `label=`/`label!=` rules select (by the image config's
    labels). Returns (deleted ids, bytes reclaimed: the unpacked layers really removed, not
    those that another image or the build cache still holds)."""
    from pycontainer.formats.filters import labels_match

    s = store(paths)
    deleted = []
    with s.deleting():  # no container is being created from an image meanwhile
        users = containers_using(paths)
        for rec in s.all():
            if rec.id in users or (rec.names and not all_images):
                continue
            if labels and not labels_match(
                    (rec.config.get("config") or {}).get("Labels") or {}, labels):
                continue
            if s.delete(rec.id):
                deleted.append(rec.id)
    lock = s.collecting(wait=True)
    try:
        lock.acquire()
    except LockTimeout:  # collected by a later rmi or prune
        return deleted, 0
    try:
        return deleted, s.collect()[1]
    finally:
        lock.release()


# -- listing -----------------------------------------------------------------------------------

@dataclass
class ImageRow:
    """One line of `pyc images`: an image under one of its names (or <none>)."""

    id: str
    repository: str
    tag: str
    digest: str
    created: str
    size: int
    containers: int = 0
    labels: dict[str, str] = field(default_factory=dict)


def list_rows(paths: Paths, repository: str | None = None, filters: list[str] | None = None,
              no_trunc: bool = False) -> list[ImageRow]:
    from pycontainer.formats import filters as _filters

    parsed = _filters.parse(filters or [])
    _filters.validate(parsed, LIST_FILTERS)
    name_preds = [_name_filter(v) for v in parsed.get("reference", [])]
    preds = [_filter(key, v, paths) for key, values in parsed.items() if key != "reference"
             for v in values]
    users = containers_using(paths)
    rows: list[ImageRow] = []
    for rec in sorted(list_images(paths), key=lambda r: r.created, reverse=True):
        if not all(p(rec) for p in preds):
            continue
        labels = (rec.config.get("config") or {}).get("Labels") or {}
        n_users = len(users.get(rec.id, []))
        for name in rec.names or [""]:
            repo, tag = (name.rpartition(":")[0], name.rpartition(":")[2]) if name else \
                ("<none>", "<none>")
            if repository and not _repo_matches(repository, repo, tag):
                continue
            if name_preds and not (name and all(p(name) for p in name_preds)):
                continue
            digest = next((d.split("@")[1] for d in rec.repo_digests
                           if d.split("@")[0] == repo), rec.digest or "<none>")
            shown = reference.familiar(repo) if repo != "<none>" else repo
            rows.append(ImageRow(rec.id, shown, tag, digest, rec.created, rec.size,
                                 n_users, labels))
    return rows


def _repo_matches(pattern: str, repo: str, tag: str) -> bool:
    import fnmatch

    try:
        ref = reference.parse(pattern)
    except InvalidReference:
        return fnmatch.fnmatch(reference.familiar(repo), pattern)
    has_tag = ":" in pattern.rsplit("/", 1)[-1]
    return ref.name == repo and (not has_tag or ref.tag == tag)


def _name_filter(pattern: str) -> Callable[[str], bool]:
    """reference=PATTERN: a glob on the familiar name, with or without its tag."""
    import fnmatch

    def match(name: str) -> bool:
        base, _, t = name.rpartition(":")
        fam = reference.familiar(base)
        return any(fnmatch.fnmatch(c, pattern) for c in (fam, f"{fam}:{t}", base, name))
    return match


#: `images --filter` keys: Docker's, then Podman's (podman_filter)
LIST_FILTERS = frozenset({"dangling", "reference", "label", "before", "since", "after",
                          "readonly", "id", "digest", "intermediate"})


def _filter(key: str, value: str, paths: Paths) -> Callable[[ImageRecord], bool]:
    from pycontainer.formats.filters import boolean, match_label
    if (pred := podman_filter(key, value)) is not None:
        return pred
    key = "since" if key == "after" else key  # Podman's other name for it
    if key == "dangling":
        want = boolean(key, value)
        return lambda rec: (not rec.names) == want
    if key == "label":
        return lambda rec: match_label((rec.config.get("config") or {}).get("Labels") or {},
                                       value)
    pivot = resolve(paths, value).created  # before / since
    if key == "before":
        return lambda rec: rec.created < pivot
    return lambda rec: rec.created > pivot


def podman_filter(key: str, value: str) -> Callable[[ImageRecord], bool] | None:
    """Podman's own `images --filter` keys (None for the others): `id` and `digest` match a
    prefix; pyc's store has no read-only layers and keeps no intermediate images (build
    steps are cached, not stored as images), so `readonly` and `intermediate` are false."""
    from pycontainer.formats.filters import boolean

    if key == "id":
        wanted = value.removeprefix("sha256:")
        return lambda rec: rec.id.removeprefix("sha256:").startswith(wanted)
    if key == "digest":
        return lambda rec: any(d.startswith(value) for d in
                               [rec.digest, *(r.split("@")[1] for r in rec.repo_digests)])
    if key in ("readonly", "intermediate"):
        want = boolean(key, value)
        return lambda rec: not want
    return None
