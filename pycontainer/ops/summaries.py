"""The Engine API's list shapes (Docker's ContainerSummary), made from the same records as
`pyc ps` and `pyc inspect`, so `docker ps` over the API and `pyc ps` always agree."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from pycontainer.containers.model import Container
from pycontainer.ops.ps import PsEntry, PsOptions
from pycontainer.paths import Paths

if TYPE_CHECKING:
    from pycontainer.jsontypes import JSON


def container_summaries(paths: Paths, opts: PsOptions, now: float) -> list[JSON]:
    """The API's container list: `ps`'s entries, each record read once."""
    from pycontainer.ops.ps import list_containers

    loaded: dict[str, Container] = {}
    entries = list_containers(paths, opts, loaded)
    return [container_summary(paths, e, now, loaded.get(e.id)) for e in entries]


def container_summary(paths: Paths, entry: PsEntry, now: float,
                      loaded: Container | None = None) -> JSON:
    """`loaded`: the entry's record as the list read it (ps.list_containers' `loaded`)."""
    from pycontainer.containers.store import ContainerStore
    from pycontainer.formats.timestamps import parse_rfc3339
    from pycontainer.ops.inspect import inspect_container, list_view, list_view_of

    if entry.size_rw is not None:
        info = inspect_container(paths, entry.id, size=True)
    elif loaded is not None:
        info = list_view_of(ContainerStore(paths), loaded)
    else:
        info = list_view(ContainerStore(paths), entry.id)
    settings = info.get("NetworkSettings") or {}
    out: JSON = {
        "Id": entry.id,
        "Names": ["/" + entry.name],
        "Image": entry.image,
        "ImageID": info.get("Image", ""),
        "Command": entry.command,
        "Created": int(parse_rfc3339(entry.created)) if entry.created else 0,
        "Ports": ports_list(settings.get("Ports") or {}),
        "Labels": entry.labels,
        "State": entry.state,
        "Status": entry.status_text(now),
        "HostConfig": {"NetworkMode": (info.get("HostConfig") or {}).get("NetworkMode", "")},
        "NetworkSettings": {"Networks": settings.get("Networks") or {}},
        "Mounts": info.get("Mounts") or [],
    }
    if entry.size_rw is not None:
        out["SizeRw"] = info.get("SizeRw", entry.size_rw)
        out["SizeRootFs"] = info.get("SizeRootFs", entry.size_rw)
    return out


def ports_list(ports: Mapping[str, object]) -> list[JSON]:
    """inspect's `NetworkSettings.Ports` map as the list's `Ports` entries."""
    out: list[JSON] = []
    for key, bindings in ports.items():
        number, _, proto = key.partition("/")
        if not bindings or not isinstance(bindings, list):
            out.append({"PrivatePort": int(number), "Type": proto or "tcp"})
            continue
        for b in bindings:
            if not isinstance(b, Mapping):
                continue
            out.append({"IP": b.get("HostIp") or "0.0.0.0", "PrivatePort": int(number),
                        "PublicPort": int(b.get("HostPort") or 0), "Type": proto or "tcp"})
    return out


def image_summaries(paths: Paths, filters: list[str]) -> list[JSON]:
    """Docker's ImageSummary list, one entry per image (its tags together), from the rows
    `pyc images` prints."""
    from pycontainer.formats.timestamps import parse_rfc3339
    from pycontainer.oci import reference
    from pycontainer.ops import images

    by_id: dict[str, JSON] = {}
    tags: dict[str, list[str]] = {}
    records = {r.id: r for r in images.list_images(paths)}
    for row in images.list_rows(paths, None, filters, no_trunc=True):
        rec = records.get(row.id)
        entry = by_id.get(row.id)
        if entry is None:
            entry = by_id[row.id] = {
                "Id": row.id, "ParentId": "", "RepoTags": tags.setdefault(row.id, []),
                "RepoDigests": [],
                "Created": int(parse_rfc3339(row.created)) if row.created else 0,
                "Size": row.size, "VirtualSize": row.size, "SharedSize": -1,
                "Labels": row.labels or {}, "Containers": row.containers,
            }
            if rec is not None:
                entry["RepoDigests"] = [reference.familiar(d.split("@")[0]) + "@"
                                        + d.split("@")[1] for d in rec.repo_digests]
        if row.repository != "<none>":
            tags[row.id].append(f"{row.repository}:{row.tag}")
    # API 1.41: a dangling image's RepoTags is ["<none>:<none>"]
    for image_id, entry in by_id.items():
        entry["RepoTags"] = tags[image_id] or ["<none>:<none>"]
    return list(by_id.values())


def disk_usage(paths: Paths) -> JSON:
    """Docker's `GET /system/df` (types.DiskUsage), from `sysmaint.disk_usage`, the numbers
    `pyc system df` prints."""
    import time

    from pycontainer.formats.timestamps import rfc3339
    from pycontainer.ops import sysmaint, volumes

    du = sysmaint.disk_usage(paths)
    usage = {u.id: u for u in du.images}
    images = []
    for entry in image_summaries(paths, []):
        u = usage.get(str(entry["Id"]))
        if u is not None:
            entry.update(Size=u.size, VirtualSize=u.size, SharedSize=u.shared_size,
                         Containers=u.containers)
        images.append(entry)
    now = time.time()
    containers = [container_summary(paths, c.entry, now) for c in du.containers]
    vols = {v["Name"]: v for v in volumes.list_volumes(paths, [])}
    volume_list = [{**vols.get(v.name, {"Name": v.name, "Driver": "local"}),
                    "UsageData": {"Size": v.size, "RefCount": v.links}} for v in du.volumes]
    cache = [{"ID": c.id, "Parent": "", "Type": c.type, "Description": c.description,
              "InUse": False, "Shared": c.shared, "Size": c.size,
              "CreatedAt": rfc3339(int(c.created * 1e9)),
              "LastUsedAt": rfc3339(int(c.last_used * 1e9)), "UsageCount": 1}
             for c in du.build_cache]
    return {"LayersSize": du.image_sum.size, "Images": images, "Containers": containers,
            "Volumes": volume_list, "BuildCache": cache}
