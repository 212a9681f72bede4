"""The `docker run` flows: `POST /containers/create` and `POST /containers/{id}/wait`.

The docker CLI's run is create, attach (hijacked, `api/attaching.py`), wait, start: wait
answers its headers at once and its body when the condition holds; the exit code comes from
the event log's `die`, which outlives an `AutoRemove` container.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from pycontainer.api.routes import route
from pycontainer.api.wire import JSON, ApiError, Request, Response, Stream, json_line
from pycontainer.containers.lifecycle import ACTIVE, Status
from pycontainer.containers.store import ContainerStore
from pycontainer.errors import ContainerNotFound

ID = r"/containers/(?P<id>[^/]+)"
CONDITIONS = ("not-running", "next-exit", "removed")
#: how long a stopped container may go without its `die` event before its record is read
#: instead (a supervisor killed before writing it)
DIE_GRACE = 2.0


@route("POST", r"/containers/create")
def create(request: Request) -> Response:
    from pycontainer import config
    from pycontainer.api import createbody
    from pycontainer.ops import limits
    from pycontainer.ops.create import create as ops_create

    body = request.json_object()
    paths = request.store
    name = request.arg("name") or ""
    opts = createbody.create_options(body, name.lstrip("/"), request.arg("platform") or "",
                                     config.load_engine(paths.config).log_driver)
    spec = opts.spec
    plan = limits.plan(paths, createbody.limit_flags(body.get("HostConfig") or {}),
                       spec.cgroup_parent)
    spec.resources, spec.oom_score_adj, spec.limits = (plan.resources, plan.oom_score_adj,
                                                       plan.limits)
    cid = ops_create(paths, opts)
    return JSON({"Id": cid, "Warnings": list(plan.warnings)}, 201)


@route("POST", ID + r"/wait")
def wait(request: Request) -> Response:
    condition = request.arg("condition") or "not-running"
    if condition not in CONDITIONS:
        raise ApiError(400, f"invalid condition: {condition!r} (not-running, next-exit or "
                            "removed)")
    store = ContainerStore(request.store)
    cid = store.resolve(request.params["id"])  # a 404 before the headers
    since = time.time()
    return Stream(_wait(store, cid, condition, since, request.client_gone))


def _status(store: ContainerStore, cid: str) -> tuple[Status | None, int]:
    """The container's status and exit code now; (None, 0) once it is removed."""
    from pycontainer.ops.lifecycle import load_synced

    try:
        with store.lock(cid):
            c = load_synced(store, cid)
    except (ContainerNotFound, FileNotFoundError):
        return None, 0
    return c.state.status, c.state.exit_code


def _wait(store: ContainerStore, cid: str, condition: str, since: float,
          gone: Callable[[], bool]) -> Iterator[bytes]:
    yield b""  # the headers go out now: the docker CLI starts the container after them
    status, code = _status(store, cid)
    if condition == "not-running" and status not in ACTIVE:
        yield _result(code)
        return
    if condition == "removed" and status is None:
        yield _result(code)
        return
    found = _die_code(store, cid, condition, since, gone)
    if found is not None:
        yield _result(found)


def _die_code(store: ContainerStore, cid: str, condition: str, since: float,
              gone: Callable[[], bool]) -> int | None:
    """Follow the event log for this container's `die` (and `destroy` when waiting for the
    removal); None when the client left first."""
    from pycontainer.ops import events

    wanted = ["die", "destroy"] if condition == "removed" else ["die"]
    watch = _Watch(store, cid, condition, gone)
    code: int | None = None
    for event in events.read(store.paths, since=since, follow=True, stop=watch.stop,
                             filters={"type": ["container"], "container": [cid],
                                      "event": wanted}):
        if event.get("Action") == "die":
            attrs = (event.get("Actor") or {}).get("Attributes") or {}
            code = int(attrs.get("exitCode") or 0)
            watch.died = True
            if condition != "removed" or _status(store, cid)[0] is None:
                return code
        elif event.get("Action") == "destroy":
            return code if code is not None else watch.code
    if not watch.fallback:
        return None
    return code if code is not None else watch.code


class _Watch:
    """Asked while the event log is idle: the client gone ends the wait; a container that
    stopped (or went) with no `die` for DIE_GRACE seconds ends it with its record's code."""

    def __init__(self, store: ContainerStore, cid: str, condition: str,
                 gone: Callable[[], bool]) -> None:
        self.store, self.cid, self.condition, self.gone = store, cid, condition, gone
        self.died = False
        self.code = 0
        self.fallback = False
        self.idle_since: float | None = None
        self.checked = 0.0

    def stop(self) -> bool:
        if self.gone():
            return True
        now = time.monotonic()
        if now - self.checked < 0.5:
            return False
        self.checked = now
        status, code = self.store_status()
        done = status is None if self.condition == "removed" else status not in ACTIVE
        if not done:
            self.idle_since = None
            return False
        if status is not None:
            self.code = code
        self.idle_since = self.idle_since or now
        if self.died or now - self.idle_since >= DIE_GRACE:
            self.fallback = True
            return True
        return False

    def store_status(self) -> tuple[Status | None, int]:
        return _status(self.store, self.cid)


def _result(code: int) -> bytes:
    return json_line({"StatusCode": code, "Error": None})


def attach_args(request: Request) -> dict[str, Any]:
    return {k: request.flag(k) for k in ("stream", "stdin", "stdout", "stderr", "logs")}
