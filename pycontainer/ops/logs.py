"""`pyc logs`: read the supervisor's log (json-file or k8s-file), optionally following it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pycontainer.containers.lifecycle import ACTIVE
from pycontainer.containers.store import ContainerStore
from pycontainer.errors import UsageError
from pycontainer.paths import Paths


@dataclass
class LogsOptions:
    follow: bool = False
    tail: int = -1  # -1: all
    since: str = ""
    until: str = ""
    timestamps: bool = False


@dataclass
class LogLine:
    stream: str  # stdout / stderr
    time: str  # RFC 3339 with nanoseconds
    text: str
    partial: bool = False


def parse_time(value: str, now: datetime | None = None) -> float | None:
    """Docker's --since/--until: RFC 3339, a Unix timestamp, or a duration like 10m, 1h30m."""
    if not value:
        return None
    now = now or datetime.now(UTC)
    try:
        return float(value)
    except ValueError:
        pass
    total, num = 0.0, ""
    units = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    i = 0
    ok = bool(value)
    while i < len(value):
        ch = value[i]
        if ch.isdigit() or ch == ".":
            num += ch
            i += 1
            continue
        unit = value[i : i + 2] if value[i : i + 2] in units else ch
        if unit not in units or not num:
            ok = False
            break
        total += float(num) * units[unit]
        num = ""
        i += len(unit)
    if ok and not num:
        return (now - timedelta(seconds=total)).timestamp()
    return _rfc3339(value)


def _rfc3339(value: str) -> float:
    text = value.strip().replace("Z", "+00:00")
    if "." in text:  # Python parses at most microseconds
        head, _, rest = text.partition(".")
        digits = "".join(ch for ch in rest if ch.isdigit())
        tz = rest[len(digits):]
        text = f"{head}.{digits[:6]}{tz}"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"invalid time value: {value}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def parse_line(raw: bytes) -> LogLine | None:
    if raw.startswith(b"{"):
        try:
            rec = json.loads(raw)
        except ValueError:
            return None
        return LogLine(rec.get("stream", "stdout"), rec.get("time", ""), rec.get("log", ""))
    parts = raw.decode("utf-8", "replace").rstrip("\n").split(" ", 3)  # k8s-file
    if len(parts) < 4:
        return None
    ts, stream, tag, text = parts
    return LogLine(stream, ts, text if tag == "P" else text + "\n", tag == "P")


def _read_lines(path: str, offset: int) -> tuple[list[bytes], int]:
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n") + 1
    return data[:end].splitlines(), offset + end


def read(paths: Paths, ref: str, opts: LogsOptions) -> Iterator[LogLine]:
    store = ContainerStore(paths)
    cid = store.resolve(ref)
    path = str(store.log_path(cid))
    since, until = parse_time(opts.since), parse_time(opts.until)
    lines, offset = _read_lines(path, 0)
    if opts.tail >= 0:
        lines = lines[len(lines) - opts.tail :] if opts.tail else []
    yield from _filter(lines, since, until)
    while opts.follow:
        if not _running(store, cid):
            lines, offset = _read_lines(path, offset)
            yield from _filter(lines, since, until)
            return
        time.sleep(0.1)
        lines, offset = _read_lines(path, offset)
        yield from _filter(lines, since, until)


def _running(store: ContainerStore, cid: str) -> bool:
    try:
        c = store.load(cid)
    except Exception:  # noqa: BLE001 - removed: nothing more will come
        return False
    store.sync(c)
    return c.state.status in ACTIVE


def _filter(lines: list[bytes], since: float | None, until: float | None) -> Iterator[LogLine]:
    for raw in lines:
        line = parse_line(raw)
        if line is None:
            continue
        if since is not None or until is not None:
            ts = _rfc3339(line.time)
            if (since is not None and ts < since) or (until is not None and ts > until):
                continue
        yield line


__all__ = ["LogLine", "LogsOptions", "parse_time", "read"]
