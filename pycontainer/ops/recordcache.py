"""Parsed records the API service keeps between requests, for its read-only views.

docker-py's `containers.list()` inspects every container after listing them all, so a
service answers the same parse of the same config.json many times a second. Only data that
changes with its file is kept here (a container's config and state records, the image
index's digests), keyed by the file's identity and stamps and re-validated by one `os.stat`
each time: a `pyc rename`/`stop`/`update`/`rm` rewrites or removes the file, so the next
request sees it at once. The supervisor's pid/exit files are never cached: the liveness
sync runs on every request, and a state it may change is parsed anew (see `load`).

Off unless `enable()` ran (the service does): the CLI is one request per process.
Values handed out are shared: callers only read them (views), never edit and save them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

from pycontainer.containers.lifecycle import ACTIVE
from pycontainer.containers.model import Container, ContainerConfig, ContainerState
from pycontainer.containers.store import ContainerStore

_T = TypeVar("_T")

Stamp = tuple[int, int, int, int]

_enabled = False
_entries: dict[str, tuple[Stamp, object]] = {}
#: entries kept at most: a service serving many thousand containers stays bounded
LIMIT = 4096


def enable() -> None:
    global _enabled
    _enabled = True


def enabled() -> bool:
    return _enabled


def stamp(st: os.stat_result) -> Stamp:
    return (st.st_ino, st.st_mtime_ns, st.st_size, st.st_ctime_ns)


def cached(path: str, build: Callable[[], _T], kind: type[_T]) -> _T:
    """`build()`'s value for `path` as it is now. The stat comes before the read: a file
    replaced in between is cached under the old stamp, which the next stat no longer
    matches, so a stale value is never served twice. OSError of the stat propagates."""
    now = stamp(os.stat(path))
    hit = _entries.get(path)  # dict reads and writes are atomic: threads need no lock
    if hit is not None and hit[0] == now and isinstance(hit[1], kind):
        return hit[1]
    value = build()
    if len(_entries) >= LIMIT:
        _entries.clear()
    _entries[path] = (now, value)
    return value


def load_config(store: ContainerStore, cid: str) -> ContainerConfig:
    """`store.load_config(cid)`, from the cache when enabled (shared: read only)."""
    if not _enabled:
        return store.load_config(cid)
    try:
        return cached(f"{store.root}/{cid}/config.json",  # text: a Path join costs more
                      lambda: store.load_config(cid), ContainerConfig)
    except FileNotFoundError:
        return store.load_config(cid)  # raises what a missing record raises


def load(store: ContainerStore, cid: str) -> Container:
    """`store.load(cid)` for a view. The state is cached only while it is one that
    `store.sync` leaves alone (not ACTIVE): sync edits an active state in place, so that one
    is parsed anew each time, and the supervisor's files are read by sync each time."""
    if not _enabled:
        return store.load(cid)
    config = load_config(store, cid)
    try:
        state = cached(f"{store.root}/{cid}/state.json", lambda: store.load_state(cid),
                       ContainerState)
    except FileNotFoundError:
        state = store.load_state(cid)  # raises what a missing record raises
    if state.status in ACTIVE:
        state = store.load_state(cid)
    return Container(config, state)
