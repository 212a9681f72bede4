"""Container endpoints: list, inspect, logs, top and the lifecycle verbs.

Each is the `ops` call `pyc` makes for the same verb; the JSON is the one `pyc inspect` and
`pyc ps` are made from, in Docker's Engine API shape.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from pycontainer.api.routes import route
from pycontainer.api.wire import (
    JSON,
    STDERR,
    STDOUT,
    ApiError,
    Empty,
    Request,
    Response,
    Stream,
    frame,
)
from pycontainer.errors import Conflict
from pycontainer.ops import inspect as ops_inspect
from pycontainer.ops import lifecycle, summaries
from pycontainer.ops import ps as ops_ps

if TYPE_CHECKING:
    from pycontainer.ops.logs import LogLine

ID = r"/containers/(?P<id>[^/]+)"


def filter_items(request: Request) -> list[str]:
    """The API's JSON filters as the `--filter k=v` items ops reads."""
    raw = request.arg("filters")
    if not raw:
        return []
    from pycontainer.formats import filters

    try:
        parsed = filters.from_json(raw)
    except ValueError as exc:
        raise ApiError(400, f"invalid filters: {exc}") from None
    return [f"{key}={value}" for key, values in parsed.items() for value in values]


@route("GET", r"/containers/json")
def list_containers(request: Request) -> Response:
    paths = request.store
    opts = ops_ps.PsOptions(all=request.flag("all"), last=request.int_arg("limit", -1) or -1,
                            filters=filter_items(request), size=request.flag("size"))
    return JSON(summaries.container_summaries(paths, opts, time.time()))


@route("GET", ID + r"/json")
def inspect(request: Request) -> Response:
    info = ops_inspect.inspect_container(request.store, request.params["id"],
                                         size=request.flag("size"))
    log = (info.get("HostConfig") or {}).get("LogConfig") or {}
    if log.get("Type") == "k8s-file":
        # docker-py's containers.run() returns output only for json-file (or journald):
        # the logs endpoint reads both formats, so the API says json-file (as Podman does)
        log["Type"] = "json-file"
    return JSON(info)


def _running(request: Request) -> bool:
    info = ops_inspect.inspect_container(request.store, request.params["id"])
    return bool(info["State"]["Running"])


@route("POST", ID + r"/start")
def start(request: Request) -> Response:
    if _running(request):
        return Empty(304)
    from pycontainer.api import attaching

    cid = lifecycle.store_for(request.store).resolve(request.params["id"])
    if not attaching.start_attached(request.store, cid):  # else held for a waiting attach
        lifecycle.start(request.store, cid)
    return Empty(204)


@route("POST", ID + r"/stop")
def stop(request: Request) -> Response:
    if not _running(request):
        return Empty(304)
    timeout = request.int_arg("t")
    lifecycle.stop(request.store, request.params["id"], timeout, request.arg("signal"))
    return Empty(204)


@route("POST", ID + r"/restart")
def restart(request: Request) -> Response:
    lifecycle.restart(request.store, request.params["id"], request.int_arg("t"))
    return Empty(204)


@route("POST", ID + r"/kill")
def kill(request: Request) -> Response:
    ref = request.params["id"]
    if not _running(request):
        raise ApiError(409, f"Container {ref} is not running")
    lifecycle.kill(request.store, ref, request.arg("signal") or "KILL")
    return Empty(204)


@route("POST", ID + r"/pause")
def pause(request: Request) -> Response:
    from pycontainer.ops import update

    update.pause(request.store, request.params["id"])
    return Empty(204)


@route("POST", ID + r"/unpause")
def unpause(request: Request) -> Response:
    from pycontainer.ops import update

    update.unpause(request.store, request.params["id"])
    return Empty(204)


@route("POST", ID + r"/rename")
def rename(request: Request) -> Response:
    name = request.arg("name")
    if not name:
        raise ApiError(400, "name is required")
    from pycontainer.ops import rename as ops_rename

    ops_rename.rename(request.store, request.params["id"], name)
    return Empty(204)


@route("DELETE", ID)
def remove(request: Request) -> Response:
    ref = request.params["id"]
    force = request.flag("force")
    if not force and _running(request):
        raise ApiError(409, f"You cannot remove a running container {ref}. Stop the "
                            "container before attempting removal or force remove")
    try:
        cid = lifecycle.remove(request.store, ref, force=force, volumes=request.flag("v"))
    except Conflict as exc:
        raise ApiError(409, exc.message) from None
    from pycontainer.ops import execs

    execs.remove_for(request.store, cid)
    return Empty(204)


@route("GET", ID + r"/top")
def top(request: Request) -> Response:
    args = (request.arg("ps_args") or "-ef").split()
    from pycontainer.ops import top as ops_top

    text = ops_top.top(request.store, request.params["id"], args)
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return JSON({"Titles": [], "Processes": []})
    titles = lines[0].split()
    rows = [line.split(None, len(titles) - 1) for line in lines[1:]]
    return JSON({"Titles": titles, "Processes": rows})


@route("GET", ID + r"/logs")
def logs(request: Request) -> Response:
    from pycontainer.ops import logs as ops_logs

    stdout, stderr = request.flag("stdout"), request.flag("stderr")
    if not (stdout or stderr):
        raise ApiError(400, "Bad parameters: you must choose at least one stream")
    tail = request.arg("tail") or "all"
    try:
        n = -1 if tail == "all" else int(tail)
    except ValueError:
        raise ApiError(400, f"invalid value for tail: {tail!r}") from None
    since, until = request.arg("since") or "", request.arg("until") or ""
    opts = ops_logs.LogsOptions(follow=request.flag("follow"), tail=n,
                                since="" if since == "0" else since,
                                until="" if until == "0" else until,
                                timestamps=request.flag("timestamps"))
    info = ops_inspect.inspect_container(request.store, request.params["id"])
    tty = bool(info["Config"]["Tty"])
    lines = ops_logs.read(request.store, info["Id"], opts, stop=request.client_gone)
    return Stream(_log_chunks(lines, stdout, stderr, opts.timestamps, tty),
                  "application/vnd.docker.raw-stream" if tty
                  else "application/vnd.docker.multiplexed-stream")


def _log_chunks(lines: Iterator[LogLine], stdout: bool, stderr: bool, timestamps: bool,
                tty: bool) -> Iterator[bytes]:
    for line in lines:
        wanted = stdout if line.stream == "stdout" else stderr
        if not wanted:
            continue
        data = line.text.encode("utf-8", "surrogateescape") if isinstance(line.text, str) \
            else line.text
        if timestamps:
            data = line.time.encode() + b" " + data
        yield data if tty else frame(STDERR if line.stream == "stderr" else STDOUT, data)
