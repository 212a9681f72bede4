"""The `docker run` flows: `POST /containers/create` and `POST /containers/{id}/wait`.

The docker CLI's run is create, attach (hijacked, `api/attaching.py`), wait, start: wait
answers its headers at once and its body when the condition holds; the exit code comes from
the event log's `die`, which outlives an `AutoRemove` container.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from pycontainer.api.routes import route
from pycontainer.api.wire import JSON, ApiError, Request, Response, Stream, json_line
from pycontainer.ops import waiting

if TYPE_CHECKING:
    from pycontainer.paths import Paths

ID = r"/containers/(?P<id>[^/]+)"
CONDITIONS = waiting.CONDITIONS


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
    paths = request.store
    cid = waiting.resolve(paths, request.params["id"])  # a 404 before the headers
    since = time.time()
    return Stream(_wait(paths, cid, condition, since, request.client_gone))


def _wait(paths: Paths, cid: str, condition: str, since: float,
          gone: Callable[[], bool]) -> Iterator[bytes]:
    yield b""  # the headers go out now: the docker CLI starts the container after them
    code = waiting.wait_condition(paths, cid, condition, since, gone)
    if code is not None:
        yield _result(code)




def _result(code: int) -> bytes:
    return json_line({"StatusCode": code, "Error": None})


def attach_args(request: Request) -> dict[str, Any]:
    return {k: request.flag(k) for k in ("stream", "stdin", "stdout", "stderr", "logs")}
