"""`pyc logs`: read the supervisor's log (json-file or k8s-file) across its rotated files
(.log.N[.gz] oldest first, then .log), optionally following it through rotations."""

from __future__ import annotations

import gzip
import json
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import quote_plus

from pycontainer.containers.lifecycle import ACTIVE
from pycontainer.containers.store import ContainerStore
from pycontainer.errors import PycError, UsageError
from pycontainer.paths import Paths

if TYPE_CHECKING:
    from pycontainer.jsontypes import JSON


@dataclass
class LogsOptions:
    follow: bool = False
    tail: int = -1  # -1: all
    since: str = ""
    until: str = ""
    timestamps: bool = False
    details: bool = False


@dataclass
class LogLine:
    stream: str  # stdout / stderr
    time: str  # RFC 3339 with nanoseconds
    text: str
    partial: bool = False
    attrs: JSON = field(default_factory=dict)  # json-file labels/env/tag


def parse_time(value: str, now: datetime | None = None) -> float | None:
    """Docker's --since/--until: RFC 3339, a Unix timestamp, or a duration like 10m, 1h30m."""
    from pycontainer.formats.timestamps import get_timestamp

    if not value:
        return None
    return get_timestamp(value, now.timestamp() if now is not None else None)


def parse_line(raw: bytes) -> LogLine | None:
    if raw.startswith(b"{"):
        try:
            rec = json.loads(raw)
        except ValueError:
            return None
        return LogLine(rec.get("stream", "stdout"), rec.get("time", ""), rec.get("log", ""),
                       attrs=rec.get("attrs") or {})
    parts = raw.decode("utf-8", "replace").rstrip("\n").split(" ", 3)  # k8s-file
    if len(parts) < 4:
        return None
    ts, stream, tag, text = parts
    return LogLine(stream, ts, text if tag == "P" else text + "\n", tag == "P")


def details(line: LogLine) -> str:
    """Docker's --details prefix: the attrs as k=v,k=v (query-escaped, sorted), a space."""
    return ",".join(f"{quote_plus(k)}={quote_plus(str(v))}"
                    for k, v in sorted(line.attrs.items())) + " "


def rotated_files(path: str) -> list[str]:
    """The rotated files of a log, oldest first: .log.N[.gz] ... .log.1."""
    directory, base = os.path.split(path)
    found: list[tuple[int, str]] = []
    try:
        names = os.listdir(directory or ".")
    except FileNotFoundError:
        return []
    for name in names:
        if not name.startswith(base + "."):
            continue
        rest = name[len(base) + 1 :].removesuffix(".gz")
        if rest.isdigit():
            found.append((int(rest), os.path.join(directory, name)))
    return [p for _, p in sorted(found, reverse=True)]


def _read_whole(path: str) -> bytes:
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as g:
                return g.read()
        with open(path, "rb") as f:
            return f.read()
    except (FileNotFoundError, EOFError, OSError):
        return b""  # rotated away (or being compressed) meanwhile


def _tail(path: str, live: _Follower, count: int) -> list[bytes]:
    """The last `count` lines across the live file and the rotated ones, newest first until
    there are enough: read backwards from each file's end, so a huge log costs only the
    lines asked for (a compressed file is inflated as a stream, keeping `count` lines)."""
    lines = live.tail(count)
    if count <= 0:
        return []
    for old in reversed(rotated_files(path)):
        if len(lines) >= count:
            break
        lines = _tail_rotated(old, count - len(lines)) + lines
    return lines


def _tail_rotated(path: str, count: int) -> list[bytes]:
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as g:
                kept = deque(g, maxlen=count)  # iterates line by line
            return [line.removesuffix(b"\n") for line in kept]
        with open(path, "rb") as f:
            lines, rest = _last_lines(f, os.fstat(f.fileno()).st_size, count)
            return (lines + [rest])[-count:] if rest else lines
    except (FileNotFoundError, EOFError, OSError):
        return []  # rotated away (or being compressed) meanwhile


def _last_lines(f: BinaryIO, end: int, count: int) -> tuple[list[bytes], bytes]:
    """The last `count` complete lines before offset `end`, and what follows the last
    newline (a line still being written), reading back from `end` in blocks."""
    pos, blocks, newlines = end, [], 0
    while pos > 0 and newlines <= count:
        size = min(1 << 16, pos)
        pos -= size
        f.seek(pos)
        block = f.read(size)
        blocks.append(block)
        newlines += block.count(b"\n")
    data = b"".join(reversed(blocks))
    cut = data.rfind(b"\n") + 1
    complete, rest = data[:cut], data[cut:]
    if pos > 0:  # the first block starts inside a line that is not wanted
        complete = complete[complete.find(b"\n") + 1 :]
    lines = complete.splitlines()
    return lines[max(0, len(lines) - count) :], rest


class _Follower:
    """The live log file, read by an open handle so a rotation (rename) loses nothing."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.f: BinaryIO | None = None
        self.rest = b""
        self._open()

    def _open(self) -> None:
        try:
            self.f = open(self.path, "rb")  # noqa: SIM115
        except FileNotFoundError:
            self.f = None
        self.rest = b""

    def read(self) -> list[bytes]:
        if self.f is None:
            self._open()
            if self.f is None:
                return []
        st = os.fstat(self.f.fileno())
        if st.st_size < self.f.tell():  # truncated (max-file=1)
            self.f.seek(0)
            self.rest = b""
        data = self.rest + self.f.read()
        end = data.rfind(b"\n") + 1
        self.rest = data[end:]
        return data[:end].splitlines()

    def tail(self, count: int) -> list[bytes]:
        """The last `count` complete lines; following goes on from the end."""
        if self.f is None:
            return []
        end = os.fstat(self.f.fileno()).st_size
        lines, self.rest = _last_lines(self.f, end, count)
        self.f.seek(end)
        return lines

    def rotated(self) -> bool:
        """Whether the path is another file now; then the old one's rest was read."""
        if self.f is None:
            return False
        try:
            ino = os.stat(self.path).st_ino
        except FileNotFoundError:
            return False
        return ino != os.fstat(self.f.fileno()).st_ino

    def reopen(self) -> list[bytes]:
        lines = self.read()
        if self.f is not None:
            self.f.close()
        self._open()
        return lines + self.read()

    def close(self) -> None:
        if self.f is not None:
            self.f.close()


def read(paths: Paths, ref: str, opts: LogsOptions,
         stop: Callable[[], bool] | None = None) -> Iterator[LogLine]:
    """The container's log lines; following ends when the container stops or `stop()`
    is true (the API's client is gone: a silent container must not keep a follower)."""
    store = ContainerStore(paths)
    cid = store.resolve(ref)
    try:
        driver = store.load(cid).config.log_driver
    except (PycError, OSError):  # unreadable now: read again below when following
        driver = "json-file"
    if driver == "none":
        raise UsageError('configured logging driver does not support reading')
    path = str(store.log_path(cid))
    since, until = parse_time(opts.since), parse_time(opts.until)
    live = _Follower(path)  # opened first: a rotation now shows as a duplicate, not a gap
    try:
        if opts.tail >= 0:
            yield from _filter(_tail(path, live, opts.tail), since, until)
        else:
            for old in rotated_files(path):  # one file at a time: memory is one file's
                yield from _filter(_read_whole(old).splitlines(), since, until)
            yield from _filter(live.read(), since, until)
        while opts.follow:
            running = _running(store, cid)
            lines = live.reopen() if live.rotated() else live.read()
            yield from _filter(lines, since, until)
            if not running:
                return
            if not lines:
                if stop is not None and stop():
                    return
                time.sleep(0.1)
    finally:
        live.close()


def _running(store: ContainerStore, cid: str) -> bool:
    try:
        c = store.load(cid)
    except (PycError, OSError):  # removed (or its record broken): nothing more will come
        return False
    store.sync(c)
    return c.state.status in ACTIVE


def _filter(lines: list[bytes], since: float | None, until: float | None) -> Iterator[LogLine]:
    from pycontainer.formats.timestamps import parse_rfc3339

    for raw in lines:
        line = parse_line(raw)
        if line is None:
            continue
        if since is not None or until is not None:
            ts = parse_rfc3339(line.time)
            if (since is not None and ts < since) or (until is not None and ts > until):
                continue
        yield line


__all__ = ["LogLine", "LogsOptions", "details", "parse_time", "read", "rotated_files"]
