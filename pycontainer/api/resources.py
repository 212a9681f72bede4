"""Containers' resources over the API: `stats` (streamed or one answer), `update` (new
limits, `ops.update`) and `containers/prune` (`ops.prune`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from pycontainer.api.containers import filter_items
from pycontainer.api.routes import route
from pycontainer.api.wire import JSON, ApiError, Request, Response, Stream, json_line

if TYPE_CHECKING:
    from pycontainer.ops.limits import LimitFlags

ID = r"/containers/(?P<id>[^/]+)"


@route("GET", ID + r"/stats")
def stats(request: Request) -> Response:
    from pycontainer.ops import docker_stats

    stream = request.flag("stream", True)
    objects = docker_stats.stats(request.store, request.params["id"], stream=stream,
                                 one_shot=request.flag("one-shot"), stop=request.client_gone)
    if not stream:
        return JSON(next(iter(objects), {}))
    return Stream(_lines(objects), "application/json")


def _lines(objects: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    try:
        for obj in objects:
            yield json_line(obj)
    finally:
        close = getattr(objects, "close", None)
        if close is not None:
            close()


@route("POST", r"/containers/prune")
def prune(request: Request) -> Response:
    from pycontainer.ops import sysmaint

    removed, size = sysmaint.prune_containers(request.store, filter_items(request))
    return JSON({"ContainersDeleted": removed or None, "SpaceReclaimed": size})


#: HostConfig resource fields `docker update` sends, and the `pyc update` flag of each
_FIELDS = {"Memory": "memory", "MemorySwap": "memory_swap",
           "MemoryReservation": "memory_reservation", "CpuPeriod": "cpu_period",
           "CpuQuota": "cpu_quota", "CpuShares": "cpu_shares", "CpusetCpus": "cpuset_cpus",
           "CpusetMems": "cpuset_mems"}
#: fields pyc cannot change: refused unless absent, zero or empty (the CLI sends them all)
_UNSUPPORTED = ("BlkioWeight", "BlkioWeightDevice", "BlkioDeviceReadBps",
                "BlkioDeviceWriteBps", "BlkioDeviceReadIOps", "BlkioDeviceWriteIOps",
                "CpuRealtimePeriod", "CpuRealtimeRuntime", "KernelMemory", "KernelMemoryTCP",
                "MemorySwappiness", "OomKillDisable", "Devices", "DeviceCgroupRules",
                "DeviceRequests", "Ulimits", "CgroupParent", "CpuCount", "CpuPercent",
                "IOMaximumIOps", "IOMaximumBandwidth")


def update_flags(body: dict[str, Any]) -> LimitFlags:
    """Docker's update body as `pyc update`'s flags (0 and "" mean "unchanged")."""
    from pycontainer.ops.limits import LimitFlags

    for key in _UNSUPPORTED:
        if body.get(key) not in (None, 0, "", [], False):
            raise ApiError(400, f"{key} cannot be updated: pyc does not support it")
    policy = body.get("RestartPolicy") or {}
    if isinstance(policy, dict) and policy.get("Name"):
        raise ApiError(400, "RestartPolicy cannot be updated: pyc does not support it")
    flags = LimitFlags()
    for key, attr in _FIELDS.items():
        value = body.get(key)
        if value not in (None, 0, ""):
            setattr(flags, attr, str(value))
    if body.get("NanoCpus"):
        flags.cpus = str(int(body["NanoCpus"]) / 1e9)
    if body.get("PidsLimit") is not None:
        flags.pids_limit = str(body["PidsLimit"])
    return flags


@route("POST", ID + r"/update")
def update(request: Request) -> Response:
    from pycontainer.ops import update as ops_update

    flags = update_flags(request.json_object())
    ops_update.update(request.store, request.params["id"], flags)
    return JSON({"Warnings": []})
