"""formats.timestamps: RFC 3339 as Go prints and parses it, and Docker's --since/--until
values against moby's api/types/time (GetTimestamp) tests."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from pycontainer.errors import UsageError
from pycontainer.formats import timestamps
from pycontainer.formats.timestamps import (
    created_since,
    epoch,
    get_timestamp,
    go_string,
    parse_rfc3339,
    parse_rfc3339_ns,
    rfc3339,
)

NS = 1_000_000_000
T = 1136214245  # 2006-01-02T15:04:05Z


@pytest.fixture
def zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Set the local zone (POSIX TZ) for one test."""
    def set_zone(tz: str) -> None:
        monkeypatch.setenv("TZ", tz)
        time.tzset()

    set_zone("UTC")
    yield set_zone
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(("ns", "kwargs", "text"), [
    (T * NS, {}, "2006-01-02T15:04:05Z"),  # Go's RFC3339Nano drops a zero fraction
    (T * NS + 500_000_000, {}, "2006-01-02T15:04:05.5Z"),
    (T * NS + 999_999_999, {}, "2006-01-02T15:04:05.999999999Z"),
    (T * NS + 120_000, {}, "2006-01-02T15:04:05.00012Z"),
    (T * NS + 500_000_000, {"fixed": True}, "2006-01-02T15:04:05.500000000Z"),
    (T * NS, {"fixed": True}, "2006-01-02T15:04:05.000000000Z"),
    (T * NS + 123_456_789, {"digits": 6, "fixed": True}, "2006-01-02T15:04:05.123456Z"),
    (T * NS + 123_456_789, {"digits": 0}, "2006-01-02T15:04:05Z"),
    (0, {}, "1970-01-01T00:00:00Z"),
    (-62135596800 * NS, {}, "0001-01-01T00:00:00Z"),  # Go's zero time
])
def test_rfc3339(ns: int, kwargs: dict[str, int], text: str) -> None:
    assert rfc3339(ns, **kwargs) == text  # type: ignore[arg-type]


def test_rfc3339_local_offset(zone) -> None:  # type: ignore[no-untyped-def]
    assert rfc3339(T * NS, digits=0, local=True) == "2006-01-02T15:04:05Z"
    zone("MST+7")
    assert rfc3339(T * NS, digits=0, local=True) == "2006-01-02T08:04:05-07:00"
    zone("IST-5:30")
    assert rfc3339(T * NS, local=True) == "2006-01-02T20:34:05+05:30"


def test_now_is_now() -> None:
    before = time.time_ns()
    assert before // NS - 1 <= parse_rfc3339_ns(rfc3339()) // NS <= time.time_ns() // NS


@pytest.mark.parametrize(("text", "ns"), [
    ("2006-01-02T15:04:05Z", T * NS),
    ("2006-01-02T15:04:05.999999999Z", T * NS + 999_999_999),
    ("2006-01-02T15:04:05.123456789123Z", T * NS + 123_456_789),  # beyond ns: truncated
    ("2006-01-02T15:04:05.5+07:00", (T - 7 * 3600) * NS + 500_000_000),
    ("2006-01-02T15:04:05-00:30", (T + 1800) * NS),
    ("2006-01-02t15:04:05z", T * NS),
    ("2006-01-02 15:04:05Z", T * NS),
    ("2006-01-02T15:04:05", T * NS),  # stored without an offset: UTC
    ("0001-01-01T00:00:00Z", -62135596800 * NS),  # Go's zero time
])
def test_parse_rfc3339(text: str, ns: int) -> None:
    assert parse_rfc3339_ns(text) == ns
    assert parse_rfc3339(text) == pytest.approx(ns / NS)


@pytest.mark.parametrize("text", ["", "yesterday", "2006-01-02", "2006-13-02T15:04:05Z",
                                  "2006-02-30T15:04:05Z", "2006-01-02T25:04:05Z",
                                  "2006-01-02T15:04:05+0700"])
def test_parse_rfc3339_refuses(text: str) -> None:
    with pytest.raises(UsageError):
        parse_rfc3339_ns(text)
    assert epoch(text, -1.0) == -1.0


NOW = 1_700_000_000.0


@pytest.mark.parametrize(("value", "expected"), [  # moby api/types/time GetTimestamp tests
    ("2006-01-02T15:04:05.999999999+07:00", 1136189045.999999999),
    ("2006-01-02T15:04:05.999999999Z", 1136214245.999999999),
    ("2006-01-02T15:04:05.999999999", 1136214245.999999999),
    ("2006-01-02T15:04:05Z", 1136214245), ("2006-01-02T15:04:05", 1136214245),
    ("2006-01-02T15:04Z", 1136214240), ("2006-01-02T15:04+00:00", 1136214240),
    ("2006-01-02T15:04-00:00", 1136214240), ("2006-01-02T15:04", 1136214240),
    ("2006-01-02T15Z", 1136214000), ("2006-01-02T15+00:00", 1136214000),
    ("2006-01-02T15-00:00", 1136214000), ("2006-01-02T15", 1136214000),
    ("2006-01-02T1Z", 1136163600), ("2006-01-02T1", 1136163600),
    ("2006-01-02+00:00", 1136160000), ("2006-01-02-00:00", 1136160000),
    ("2006-01-02-00:01", 1136160060), ("2006-01-02Z", 1136160000), ("2006-01-02", 1136160000),
    ("2015-05-13T20:39:09Z", 1431549549),
    ("1136073600", 1136073600), ("1136073600.000000001", 1136073600.000000001),
    ("1136073600.5", 1136073600.5), ("0", 0),
    ("1m", NOW - 60), ("1.5h", NOW - 5400), ("1h30m", NOW - 5400), ("90s", NOW - 90),
    ("1.5s", NOW - 2),  # Docker: reference.Add(-d).Unix(), whole seconds
])
def test_get_timestamp(zone, value: str, expected: float) -> None:  # type: ignore[no-untyped-def]
    assert get_timestamp(value, NOW) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("value", ["2006-01-02T15:04:0Z", "2006-01-02T15:04:0",
                                   "2006-01-02T15:0Z", "2006-01-02T15:0", "2006-01-02TZ",
                                   "2006-01-02T", "invalid", "", "-5", "2006-13-01"])
def test_get_timestamp_refuses(zone, value: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UsageError):
        get_timestamp(value, NOW)


def test_get_timestamp_local_time_has_the_local_offset(zone) -> None:  # type: ignore[no-untyped-def]
    zone("MST+7")  # no offset in the value: the reference's zone, as Docker's ParseInLocation
    assert get_timestamp("2006-01-02T15:04:05", NOW) == T + 7 * 3600
    assert get_timestamp("2006-01-02", NOW) == 1136160000 + 7 * 3600
    assert get_timestamp("2006-01-02T15:04:05Z", NOW) == T


def test_go_string(zone) -> None:  # type: ignore[no-untyped-def]
    assert go_string(T * NS) == "2006-01-02 15:04:05 +0000 UTC"
    assert go_string(T * NS + 282_217_000) == "2006-01-02 15:04:05.282217 +0000 UTC"
    zone("MST+7")
    assert go_string(T * NS) == "2006-01-02 08:04:05 -0700 MST"


def test_created_since() -> None:
    now = 1704844800.0  # 2024-01-10T00:00:00Z
    assert created_since(now - 3 * 86400, now=now) == "3 days ago"
    assert created_since("2024-01-09T23:58:59.123456789Z", now=now) == "About a minute ago"
    assert created_since("2024-01-10T00:00:00+01:00", now=now) == "About an hour ago"
    assert created_since(None, now=now) == ""
    assert created_since("", now=now) == ""


def test_the_supervisor_can_import_it_without_re() -> None:
    import ast
    import pathlib

    tree = ast.parse(pathlib.Path(timestamps.__file__).read_text())
    top = {a.name for node in tree.body if isinstance(node, ast.Import) for a in node.names}
    top |= {node.module or "" for node in tree.body if isinstance(node, ast.ImportFrom)}
    assert top <= {"time", "__future__", "pycontainer.errors"}
