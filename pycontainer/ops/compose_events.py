"""`compose events`: the project's container events from pyc's event log, as Compose v2
reports them (docker/compose pkg/compose/events.go: containers only, one-off `run`
containers left out, the `com.docker.compose.*` labels dropped from the attributes)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pycontainer.ops import compose_lookup as lookup
from pycontainer.paths import Paths


@dataclass(frozen=True)
class Event:
    time_ns: int
    action: str
    container: str
    service: str
    attributes: dict[str, str]


def stream(paths: Paths, project: str, services: list[str],
           stop: Callable[[], bool] | None = None) -> Iterator[Event]:
    """The project's events from now on, until `stop()` says so (or forever)."""
    from pycontainer.ops import events

    wanted = {"type": ["container"], "label": [f"{lookup.PROJECT}={project}"]}
    for raw in events.read(paths, filters=wanted, follow=True, stop=stop):
        event = from_raw(raw)
        if event is not None and (not services or event.service in services):
            yield event


def from_raw(raw: dict[str, object]) -> Event | None:
    """Compose's view of one Docker event (None for a one-off container's)."""
    actor = raw.get("Actor")
    attrs = actor.get("Attributes") if isinstance(actor, dict) else None
    attrs = {str(k): str(v) for k, v in attrs.items()} if isinstance(attrs, dict) else {}
    if attrs.get(lookup.ONEOFF) == "True":
        return None
    ns = raw.get("timeNano")
    secs = raw.get("time")
    time_ns = ns if isinstance(ns, int) else int(secs) * 1_000_000_000 \
        if isinstance(secs, int) else 0
    return Event(time_ns, str(raw.get("Action") or ""),
                 str(actor.get("ID") or "") if isinstance(actor, dict) else "",
                 attrs.get(lookup.SERVICE, ""),
                 {k: v for k, v in attrs.items() if not k.startswith("com.docker.compose.")})


def to_json(event: Event) -> str:
    """`--json`: Go's json.Marshal of Compose's map (keys sorted; time as RFC 3339 with
    nanoseconds in the local zone, as time.Time marshals)."""
    from pycontainer.formats.timestamps import rfc3339

    return json.dumps({"action": event.action, "attributes": event.attributes,
                       "id": event.container, "service": event.service,
                       "time": rfc3339(event.time_ns, local=True), "type": "container"},
                      separators=(",", ":"), sort_keys=True)


def to_text(event: Event) -> str:
    """Compose's api.Event.String(): `2006-01-02 15:04:05.000000 container ACTION ID
    (k=v, ...)`; attributes sorted here (Go's map order is random)."""
    import time

    secs, frac = divmod(event.time_ns, 1_000_000_000)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(secs)) + f".{frac // 1000:06d}"
    attrs = ", ".join(f"{k}={v}" for k, v in sorted(event.attributes.items()))
    return f"{stamp} container {event.action} {event.container} ({attrs})"
