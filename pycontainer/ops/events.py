"""Docker's events without a daemon: what ops emit, and reading, filtering and following the
user's event log (`pycontainer.eventlog`) for `pyc events` and the Engine API's `GET /events`.

Emitting (one line in each ops function, after the change succeeded; never raises):

    container(paths, c, action, **extra)     # attributes: labels, image, name, + extra
    by_id(paths, cid, action, **extra)       # the same, the record read from the store
    started(paths, c, attached)              # attach (when attached), start
    exec_event(paths, c, action, command, exec_id="") -> exec id   # exec_create/exec_start
    image(paths, action, actor_id, name="")  # attributes: name (when given)
    image_ref(paths, action, ref)            # pull / push of a reference
    image_removed(paths, image_id, untagged, deleted)   # rmi's untag / delete
    network(paths, action, net_id, name, driver, **extra)
    volume(paths, action, name, driver="local", **extra)
    supervisor_settings(paths, c) -> dict    # what the supervisor needs to log die / oom

Reading:

    read(paths, since=None, until=None, filters=None, follow=False) -> Iterator[dict]
        since/until: epoch seconds. History (`events.log.1`, then `events.log`) is replayed
        when since or until is given or when not following; a follower without either sees
        only new events. Following ends once `until` has passed.
    validate(filters) -> None                # Docker's accepted keys
    matches(event, filters) -> bool          # daemon/events/filter.go's Include
    pretty(event) -> str                     # the docker CLI's line (no newline)
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from typing import IO, TYPE_CHECKING

from pycontainer import eventlog
from pycontainer.paths import Paths

if TYPE_CHECKING:
    from pycontainer.containers.model import Container, ContainerConfig
    from pycontainer.jsontypes import JSON
    from pycontainer.oci.reference import Reference
    from pycontainer.supervisor.protocol import EventSettings

FILTERS = ("container", "event", "image", "label", "type", "volume", "network", "scope")
#: how often a follower looks for new lines: events show within this (plus a write)
POLL_SECONDS = 0.02
_NS = 1_000_000_000


# -- emitting ------------------------------------------------------------------------------

def log_path(paths: Paths) -> str:
    return eventlog.path_in(paths.runtime)


def emit(paths: Paths, type_: str, action: str, actor_id: str, attrs: dict[str, str]) -> None:
    msg = eventlog.message(type_, action, actor_id, attrs)
    line = (json.dumps(msg, separators=(",", ":")) + "\n").encode()
    path = log_path(paths)
    if not os.path.isdir(paths.runtime):  # made private, as every runtime dir use does
        from pycontainer.errors import PycError
        from pycontainer.paths import ensure_runtime

        try:
            ensure_runtime(paths)
        except (OSError, PycError):
            return
    eventlog.append(path, line)


def container_attributes(c: Container | ContainerConfig) -> dict[str, str]:
    """Docker's: the container's labels (the image's under its own), image, name."""
    cfg = _config_of(c)
    attrs = {**(cfg.image_config.get("Labels") or {}), **cfg.spec.labels}
    attrs["image"] = cfg.image
    attrs["name"] = cfg.name
    return {str(k): str(v) for k, v in attrs.items()}


def _config_of(c: Container | ContainerConfig) -> ContainerConfig:
    from pycontainer.containers.model import ContainerConfig

    return c if isinstance(c, ContainerConfig) else c.config


def container(paths: Paths, c: Container | ContainerConfig, action: str, **extra: str) -> None:
    """A container event; `c` is the record or its config (at create)."""
    cfg = _config_of(c)
    emit(paths, "container", action, cfg.id, {**container_attributes(cfg), **extra})


def by_id(paths: Paths, cid: str, action: str, **extra: str) -> None:
    """A container event for a container known by its id (its record is read)."""
    from pycontainer.containers.store import ContainerStore
    from pycontainer.errors import PycError

    try:
        c = ContainerStore(paths).load(cid)
    except (OSError, PycError):
        return
    container(paths, c, action, **extra)


def starting(paths: Paths, c: Container, attached: bool) -> None:
    """Docker's order: `attach` (a client connected before the start), the volumes'
    `mount`, then `start`, which the supervisor writes when the command runs: a command
    that exits at once must not log its `die` before its `start`."""
    if attached:
        container(paths, c, "attach")
    for m in c.config.spec.mounts:  # dockerd: one `mount` per volume at start
        if isinstance(m, dict) and m.get("volume"):
            ro = "ro" in (m.get("options") or [])
            volume(paths, "mount", str(m["volume"]), container=c.id,
                   destination=str(m.get("destination", "")), propagation="",
                   **{"read/write": "false" if ro else "true"})


def image(paths: Paths, action: str, actor_id: str, name: str = "") -> None:
    """dockerd's LogImageEvent: pull/push name the reference, the others the image id."""
    emit(paths, "image", action, actor_id, {"name": name} if name else {})


def image_ref(paths: Paths, action: str, ref: Reference) -> None:
    """pull / push: the actor is the reference ("busybox:latest"), name its repository."""
    from pycontainer.oci.reference import familiar

    image(paths, action, familiar(str(ref)), ref.familiar_name)


def image_removed(paths: Paths, image_id: str, untagged: int, deleted: bool) -> None:
    """rmi: dockerd names the image by its id in `untag` and `delete` alike."""
    for _ in range(untagged):
        image(paths, "untag", image_id, image_id)
    if deleted:
        image(paths, "delete", image_id, image_id)


def network(paths: Paths, action: str, net_id: str, name: str, driver: str = "bridge",
            **extra: str) -> None:
    emit(paths, "network", action, net_id, {"name": name, "type": driver, **extra})


def volume(paths: Paths, action: str, name: str, driver: str = "local", **extra: str) -> None:
    emit(paths, "volume", action, name, {"driver": driver, **extra})


def exec_event(paths: Paths, c: Container, action: str, command: list[str],
               exec_id: str = "") -> str:
    """Docker's `exec_create: CMD ARGS` / `exec_start: ...` with the exec's id (made here
    for exec_create); returns that id."""
    exec_id = exec_id or os.urandom(32).hex()
    container(paths, c, f"{action}: {' '.join(command)}", execID=exec_id)
    return exec_id


def supervisor_settings(paths: Paths, c: Container) -> EventSettings:
    """The supervisor writes `die` (and `oom`) with these: the log, the actor."""
    return {"path": log_path(paths), "id": c.id, "attrs": container_attributes(c)}


# -- matching ------------------------------------------------------------------------------

def validate(filters: Mapping[str, list[str]]) -> None:
    from pycontainer.formats.filters import validate as check

    check(filters, FILTERS)


def _exact(filters: Mapping[str, list[str]], key: str, *sources: str) -> bool:
    values = filters.get(key)
    return not values or any(s in values for s in sources)


def _fuzzy(filters: Mapping[str, list[str]], key: str, *sources: str) -> bool:
    """Docker's FuzzyMatch: a value equal to, or a prefix of, one of the sources."""
    values = filters.get(key)
    return not values or any(s.startswith(v) for v in values for s in sources if s)


def _strip_tag(ref: str) -> str:
    """A tagged reference without its tag ("busybox:1" -> "busybox"); others unchanged."""
    if "@" in ref:
        return ref
    name, colon, tag = ref.rpartition(":")
    return name if colon and "/" not in tag else ref


def _match_event(filters: Mapping[str, list[str]], action: str) -> bool:
    # Docker (#25798): health_status, exec_create, exec_start match their "x: detail" forms
    values = filters.get("event") or []
    if any(v in ("health_status", "exec_create", "exec_start") for v in values):
        return _fuzzy(filters, "event", action)
    return _exact(filters, "event", action)


def actor_of(event: Mapping[str, object]) -> tuple[str, dict[str, str]]:
    """An event's Actor: its ID and Attributes ("", {} where the line has none)."""
    actor = event.get("Actor")
    if not isinstance(actor, Mapping):
        return "", {}
    attrs = actor.get("Attributes")
    return (str(actor.get("ID", "")),
            {str(k): str(v) for k, v in attrs.items()} if isinstance(attrs, Mapping) else {})


def _int(value: object) -> int:
    """A number of an event line (0 when it has none)."""
    return int(value) if isinstance(value, (int, float, str)) and value else 0


def matches(event: Mapping[str, object], filters: Mapping[str, list[str]]) -> bool:
    """Repeated keys are ORed, different keys ANDed; `label` wants every label given."""
    from pycontainer.formats.filters import match_label

    kind = str(event.get("Type", ""))
    actor_id, attrs = actor_of(event)
    name = attrs.get("name", "")

    def by_name(key: str) -> bool:
        return not filters.get(key) or (kind == key and _fuzzy(filters, key, actor_id, name))

    image_name = attrs.get("name" if kind == "image" else "image", "")
    return (_match_event(filters, str(event.get("Action", "")))
            and _exact(filters, "type", kind)
            and _exact(filters, "scope", str(event.get("scope", "local")))
            and by_name("container") and by_name("volume") and by_name("network")
            and _exact(filters, "image", actor_id, image_name, _strip_tag(actor_id),
                       _strip_tag(image_name))
            and all(match_label(attrs, spec) for spec in filters.get("label", [])))


def pretty(event: Mapping[str, object]) -> str:
    """The docker CLI's line: local time (RFC3339NanoFixed), type, action, actor id, then
    the attributes sorted as `k=v` in parentheses."""
    from pycontainer.formats.timestamps import rfc3339

    ns = _int(event.get("timeNano")) or _int(event.get("time")) * _NS
    actor_id, attrs = actor_of(event)
    text = (f"{rfc3339(ns, fixed=True, local=True)} {event.get('Type', '')} "
            f"{event.get('Action', '')} {actor_id}")
    if attrs:
        text += " (" + ", ".join(f"{k}={attrs[k]}" for k in sorted(attrs)) + ")"
    return text


# -- reading -------------------------------------------------------------------------------

def read(paths: Paths | str, since: float | None = None, until: float | None = None,
         filters: Mapping[str, list[str]] | None = None, follow: bool = False,
         stop: Callable[[], bool] | None = None) -> Iterator[JSON]:
    """The events in the window that match `filters` (see the module docstring). `stop`:
    asked while following and idle; True ends it (the API's client went away)."""
    path = paths if isinstance(paths, str) else log_path(paths)
    window = (None if since is None else int(since * _NS),
              None if until is None else int(until * _NS))
    history = since is not None or until is not None or not follow
    follow = follow and (until is None or until > time.time())
    wanted = filters or {}
    for event in _events(path, history, follow, until, stop):
        ns = _int(event.get("timeNano"))
        if window[0] is not None and ns < window[0]:
            continue
        if window[1] is not None and ns > window[1]:
            if not follow:
                continue
            return
        if matches(event, wanted):
            yield event


def _events(path: str, history: bool, follow: bool, until: float | None,
            stop: Callable[[], bool] | None = None) -> Iterator[JSON]:
    """Parsed lines: the rotated file and the current one (history), then new lines."""
    current = _open(path)  # before the rotated file: a rotation meanwhile loses nothing
    if history:
        old = _open(path + ".1")
        if old is not None:
            with old:
                yield from _parse(old.read())
    elif current is not None:
        current.seek(0, os.SEEK_END)
    if not follow:
        if current is not None:
            with current:
                yield from _parse(_whole_lines(current.read()))
        return
    yield from _follow(path, current, until, stop)


def _follow(path: str, f: IO[bytes] | None, until: float | None,
            stop: Callable[[], bool] | None = None) -> Iterator[JSON]:
    """Tail the log across rotations until `until` (never, when None) or `stop()`."""
    pending = b""
    try:
        while True:
            data = f.read() if f is not None else b""
            if data:
                pending += data
                lines, _, pending = pending.rpartition(b"\n")
                yield from _parse(lines)
                continue
            if until is not None and time.time() > until:
                return
            if stop is not None and stop():
                return
            newer = _reopened(path, f)
            if newer is not None:
                if f is not None:  # what the last writers to the old file added
                    yield from _parse(pending + f.read())
                    f.close()
                f, pending = newer, b""
                continue
            time.sleep(POLL_SECONDS)
    finally:
        if f is not None:
            f.close()


def _reopened(path: str, f: IO[bytes] | None) -> IO[bytes] | None:
    """The log opened anew when `path` is another file than `f` (rotated), else None."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if f is not None and os.fstat(f.fileno()).st_ino == st.st_ino:
        return None
    return _open(path)


def _open(path: str) -> IO[bytes] | None:
    try:
        return open(path, "rb")  # noqa: SIM115 - the caller closes it
    except OSError:
        return None


def _whole_lines(data: bytes) -> bytes:
    """A line still being written is left out (a reader that stops sees whole lines)."""
    return data[: data.rfind(b"\n") + 1]


def _parse(data: bytes) -> Iterator[JSON]:
    for line in data.splitlines():
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue  # a torn line (a writer killed mid-write): skip it, as Podman does
        if isinstance(event, dict):
            yield event


__all__ = ["FILTERS", "by_id", "container", "container_attributes", "emit", "exec_event",
           "image", "image_ref", "image_removed", "matches", "network", "pretty", "read",
           "starting", "supervisor_settings", "validate", "volume"]
