"""ops.logs: `--since`/`--until` values, the two log formats' lines, and the time window.

Docker (docs: `docker logs`): `--since`/`--until` take an RFC 3339 date, a Unix timestamp
(seconds, optionally with a fraction) or a Go duration relative to now ("42m" is 42 minutes
ago); dates without a zone are the client's local time. The window includes both ends (the
json-file reader skips lines Before(since) and stops After(until)).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pycontainer.errors import UsageError
from pycontainer.ops import logs

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
EPOCH_NOW = NOW.timestamp()


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(("value", "expected"), [
    ("", None),
    ("10m", EPOCH_NOW - 600),
    ("1h30m", EPOCH_NOW - 5400),
    ("1.5h", EPOCH_NOW - 5400),
    ("0s", EPOCH_NOW),
    ("-5m", EPOCH_NOW + 300),  # Go reads a negative duration: the future
    ("2026-03-01T11:00:00Z", EPOCH_NOW - 3600),
    ("2026-03-01T13:00:00+02:00", EPOCH_NOW - 3600),
    ("2026-03-01T11:00:00", EPOCH_NOW - 3600),  # local time (UTC here)
    ("2026-03-01", datetime(2026, 3, 1, tzinfo=UTC).timestamp()),
    ("1772362800", 1772362800.0),
    ("1772362800.5", 1772362800.5),
    ("0", 0.0),  # a Unix time, not a duration
])
def test_parse_time(value: str, expected: float | None) -> None:
    got = logs.parse_time(value, NOW)
    assert got == (pytest.approx(expected) if expected is not None else None)


def test_parse_time_local_dates_follow_the_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "CET-1")
    time.tzset()
    assert logs.parse_time("2026-03-01T13:00:00", NOW) == EPOCH_NOW  # 13:00 CET is 12:00 UTC
    assert logs.parse_time("2026-03-01T13:00:00Z", NOW) == EPOCH_NOW + 3600


@pytest.mark.parametrize("value", ["yesterday", "10x", "2026-13-01", "12:00", "1h-"])
def test_parse_time_refuses(value: str) -> None:
    with pytest.raises(UsageError) as info:
        logs.parse_time(value, NOW)
    assert str(info.value) and "\n" not in str(info.value)


def _json(stream: str, ts: str, text: str, **attrs: str) -> bytes:
    rec: dict[str, object] = {"log": text, "stream": stream, "time": ts}
    if attrs:
        rec["attrs"] = attrs
    return json.dumps(rec).encode()


@pytest.mark.parametrize(("raw", "expected"), [
    (_json("stdout", "2026-03-01T12:00:00.123456789Z", "hi\n"),
     logs.LogLine("stdout", "2026-03-01T12:00:00.123456789Z", "hi\n")),
    (_json("stderr", "2026-03-01T12:00:00Z", "oops\n", tag="web"),
     logs.LogLine("stderr", "2026-03-01T12:00:00Z", "oops\n", attrs={"tag": "web"})),
    # k8s-file (CRI): "TIME STREAM F|P TEXT"; P is a partial line, F ends one
    (b"2026-03-01T12:00:00.5Z stdout F full line\n",
     logs.LogLine("stdout", "2026-03-01T12:00:00.5Z", "full line\n")),
    (b"2026-03-01T12:00:00.5Z stderr P part",
     logs.LogLine("stderr", "2026-03-01T12:00:00.5Z", "part", partial=True)),
    (b"2026-03-01T12:00:00Z stdout F a  b  c",
     logs.LogLine("stdout", "2026-03-01T12:00:00Z", "a  b  c\n")),  # spaces kept
    (b'{"log": "broken', None),
    (b"too short", None),
])
def test_parse_line(raw: bytes, expected: logs.LogLine | None) -> None:
    assert logs.parse_line(raw) == expected


def test_details_prefix_is_sorted_and_query_escaped() -> None:
    line = logs.LogLine("stdout", "", "x", attrs={"tag": "a b", "env": "k=v&w"})
    assert logs.details(line) == "env=k%3Dv%26w,tag=a+b "
    assert logs.details(logs.LogLine("stdout", "", "x")) == " "


LINES = [_json("stdout", f"2026-03-01T12:00:0{i}Z", f"line {i}\n") for i in range(5)]
LINES.insert(2, b"{\"log\": \"truncat")  # a torn json-file line is skipped


@pytest.mark.parametrize(("since", "until", "expected"), [
    (None, None, [0, 1, 2, 3, 4]),
    ("2026-03-01T12:00:02Z", None, [2, 3, 4]),  # both ends included
    (None, "2026-03-01T12:00:02Z", [0, 1, 2]),
    ("2026-03-01T12:00:01Z", "2026-03-01T12:00:03Z", [1, 2, 3]),
    ("2026-03-01T12:00:01.5Z", "2026-03-01T12:00:02.5Z", [2]),
    ("2026-03-01T12:00:05Z", None, []),
    ("4s", None, [0, 1, 2, 3, 4]),  # 4 s before NOW=12:00:04 -> from 12:00:00
])
def test_window(since: str | None, until: str | None, expected: list[int]) -> None:
    now = datetime(2026, 3, 1, 12, 0, 4, tzinfo=UTC)
    lo = logs.parse_time(since, now) if since else None
    hi = logs.parse_time(until, now) if until else None
    got = [int(line.text.split()[1]) for line in logs._filter(LINES, lo, hi)]
    assert got == expected


def test_rotated_files_oldest_first(tmp_path: Path) -> None:
    log = tmp_path / "c-json.log"
    for name in ("c-json.log", "c-json.log.1", "c-json.log.2.gz", "c-json.log.10.gz",
                 "c-json.log.tmp", "c-json.log.x.gz", "other.log.3"):
        (tmp_path / name).write_bytes(b"")
    assert logs.rotated_files(str(log)) == [
        os.path.join(tmp_path, n) for n in ("c-json.log.10.gz", "c-json.log.2.gz",
                                            "c-json.log.1")]
    assert logs.rotated_files(str(tmp_path / "gone" / "c-json.log")) == []
