"""`GET /events`: the event log of `pyc events`, streamed as Docker's JSON messages.

`since`/`until` are Unix times (with a fraction) or Docker's other forms; without `until` the
stream follows until the client goes away. The headers go out at once (a client waiting for
its first event must not time out on them)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from pycontainer.api.routes import route
from pycontainer.api.wire import Request, Response, Stream
from pycontainer.ops import events


def _time(request: Request, name: str) -> float | None:
    value = request.arg(name)
    if not value:
        return None
    from pycontainer.formats.timestamps import get_timestamp

    return get_timestamp(value)  # UsageError (400) for a bad value


def _filters(request: Request) -> dict[str, list[str]]:
    raw = request.arg("filters")
    if not raw:
        return {}
    from pycontainer.formats import filters

    parsed = filters.from_json(raw)  # UsageError (400) for a bad filter
    events.validate(parsed)
    return parsed


@route("GET", r"/events")
def stream(request: Request) -> Response:
    since, until = _time(request, "since"), _time(request, "until")
    wanted = _filters(request)
    found = events.read(request.store, since, until, wanted, follow=True,
                        stop=request.client_gone)
    return Stream(_lines(found), "application/json")


def _lines(found: Iterator[dict[str, object]]) -> Iterator[bytes]:
    for event in found:
        yield json.dumps(event, separators=(",", ":")).encode() + b"\n"
