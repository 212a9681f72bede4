"""Volume endpoints: list, create, inspect, delete, prune (`ops.volumes`, as `pyc volume`)."""

from __future__ import annotations

from typing import Any

from pycontainer.api.containers import filter_items
from pycontainer.api.routes import route
from pycontainer.api.wire import JSON, ApiError, Empty, Request, Response
from pycontainer.ops import volumes

NAME = r"/volumes/(?P<name>[^/]+)"


@route("GET", r"/volumes")
def list_volumes(request: Request) -> Response:
    return JSON({"Volumes": volumes.list_volumes(request.store, filter_items(request)),
                 "Warnings": None})


def _str_map(body: dict[str, Any], key: str) -> dict[str, str]:
    value = body.get(key) or {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ApiError(400, f"invalid {key}: a map of strings was expected")
    return {str(k): v for k, v in value.items()}


@route("POST", r"/volumes/create")
def create(request: Request) -> Response:
    body = request.json_object(required=False)
    name = body.get("Name") or None
    if name is not None and not isinstance(name, str):
        raise ApiError(400, "invalid Name: a string was expected")
    if body.get("ClusterVolumeSpec"):
        raise ApiError(400, "ClusterVolumeSpec is not supported: pyc has no swarm")
    vol = volumes.create(request.store, name, _str_map(body, "Labels"),
                         _str_map(body, "DriverOpts"), body.get("Driver") or "local")
    return JSON(volumes.inspect(request.store, vol.name), 201)


@route("GET", NAME)
def inspect(request: Request) -> Response:
    return JSON(volumes.inspect(request.store, request.params["name"]))


@route("DELETE", NAME)
def remove(request: Request) -> Response:
    # a missing volume: 404, or nothing to do with force (Docker's `volume rm -f`)
    volumes.remove(request.store, request.params["name"], force=request.flag("force"))
    return Empty(204)


def _all_by_default(request: Request) -> bool:
    """Before API 1.42 a prune removed every unused volume, not only anonymous ones (and
    this service is 1.41: so does an unversioned request)."""
    if not request.version:
        return True
    try:
        major, minor = (int(p) for p in request.version.split(".")[:2])
    except ValueError:
        return False
    return (major, minor) < (1, 42)


@route("POST", r"/volumes/prune")
def prune(request: Request) -> Response:
    items = filter_items(request)
    all_volumes = _all_by_default(request) and not any(i.startswith("all=") for i in items)
    report = volumes.prune(request.store, all_volumes, items)
    return JSON({"VolumesDeleted": report.removed, "SpaceReclaimed": report.reclaimed})
