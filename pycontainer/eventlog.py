"""The user's event log (Podman's `events_logger = "file"`): Docker's Engine API event
messages, one JSON object per line, in `<runtime>/events/events.log`.

Every pyc process that changes something appends its events, and the supervisor appends what
happens while no pyc runs (`die`, `oom`). Without a daemon this file is the only event bus:

- a write is one `open(O_APPEND)` + one `write` + `close`: lines from concurrent writers
  never interleave (the kernel appends each write whole) and nobody takes a lock;
- above `max_size` bytes (Podman's `events_logfile_max_size`, 1 MB) the writer that crossed it
  renames the file to `events.log.1` under `events.log.lock` (the previous `.1` goes) and
  the next event starts a new file; a follower notices the new inode, drains the old file
  and reopens (ops.events.read).

Only `os` and `fcntl` (stdlib C modules): the supervisor imports this module. The caller
encodes the line (ops with `json`, the supervisor with its own small encoder).

API:
    path_in(runtime) -> str            # the log's path under a runtime dir
    message(type_, action, actor_id, attrs, now_ns=None) -> dict   # Docker's field order
    append(path, line, max_size=None) -> None    # best effort: never raises OSError
    max_size() -> int                  # $PYC_EVENTS_LOGFILE_MAX_SIZE, else 1 MB
"""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pycontainer.jsontypes import JSON

DEFAULT_MAX_SIZE = 1_000_000
MAX_SIZE_ENV = "PYC_EVENTS_LOGFILE_MAX_SIZE"
_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC


def path_in(runtime: str | os.PathLike[str]) -> str:
    return os.path.join(os.fspath(runtime), "events", "events.log")


def max_size() -> int:
    """The rotation size: an environment knob, so no config file is read per event."""
    try:
        return max(1, int(os.environ.get(MAX_SIZE_ENV, "") or DEFAULT_MAX_SIZE))
    except ValueError:
        return DEFAULT_MAX_SIZE


def message(type_: str, action: str, actor_id: str, attrs: dict[str, str],
            now_ns: int | None = None) -> JSON:
    """One event as Docker's events.Message: the deprecated status/id/from are filled for
    container and image events only, as dockerd does."""
    ns = time.time_ns() if now_ns is None else now_ns
    msg: JSON = {}
    if type_ in ("container", "image"):
        msg["status"] = action
        msg["id"] = actor_id
        if type_ == "container" and attrs.get("image"):
            msg["from"] = attrs["image"]
    msg.update({"Type": type_, "Action": action,
                "Actor": {"ID": actor_id, "Attributes": dict(attrs)},
                "scope": "local", "time": ns // 1_000_000_000, "timeNano": ns})
    return msg


def append(path: str, line: bytes, limit: int | None = None) -> None:
    """Append one line (it must end in a newline); rotate once the file is above `limit`.
    Events are best effort, as Docker's: a full disk must not fail the operation."""
    try:
        try:
            fd = os.open(path, _FLAGS, 0o600)
        except FileNotFoundError:
            os.mkdir(os.path.dirname(path), 0o700)  # the runtime dir itself must exist
            fd = os.open(path, _FLAGS, 0o600)
        try:
            os.write(fd, line)
            st = os.fstat(fd)
        finally:
            os.close(fd)
        if st.st_size > (max_size() if limit is None else limit):
            _rotate(path, st.st_ino)
    except OSError:
        pass


def _rotate(path: str, ino: int) -> None:
    """Rename the full file to `.1`, unless a concurrent writer already did."""
    import fcntl

    lock = os.open(path + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            current = os.stat(path).st_ino
        except FileNotFoundError:
            return
        if current == ino:
            os.replace(path, path + ".1")
    finally:
        os.close(lock)


__all__ = ["DEFAULT_MAX_SIZE", "MAX_SIZE_ENV", "append", "max_size", "message", "path_in"]
