"""Waiting for a container as Docker's `wait` endpoint does (`condition` not-running,
next-exit, removed): the exit code comes from the event log's `die`, which outlives an
AutoRemove container, with the record as the fallback of a supervisor that died mute."""

from __future__ import annotations

import time
from collections.abc import Callable

from pycontainer.containers.lifecycle import ACTIVE, Status
from pycontainer.containers.store import ContainerStore
from pycontainer.errors import ContainerNotFound
from pycontainer.paths import Paths

CONDITIONS = ("not-running", "next-exit", "removed")
#: how long a stopped container may go without its `die` event before its record is read
#: instead (a supervisor killed before writing it)
DIE_GRACE = 2.0


def resolve(paths: Paths, ref: str) -> str:
    return ContainerStore(paths).resolve(ref)


def _status(store: ContainerStore, cid: str) -> tuple[Status | None, int]:
    """The container's status and exit code now; (None, 0) once it is removed."""
    from pycontainer.ops.lifecycle import load_synced

    try:
        with store.lock(cid):
            c = load_synced(store, cid)
    except (ContainerNotFound, FileNotFoundError):
        return None, 0
    return c.state.status, c.state.exit_code


def wait_condition(paths: Paths, cid: str, condition: str, since: float,
                   gone: Callable[[], bool]) -> int | None:
    """Docker's wait: the exit code once `condition` holds (not-running, next-exit,
    removed), None when `gone()` said the client left first. `since`: when the wait was
    asked (a `die` from then on counts)."""
    store = ContainerStore(paths)
    status, code = _status(store, cid)
    if condition == "not-running" and status not in ACTIVE:
        return code
    if condition == "removed" and status is None:
        return code
    return _die_code(store, cid, condition, since, gone)


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
            attrs = events.actor_of(event)[1]
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
