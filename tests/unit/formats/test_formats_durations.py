"""formats.durations against Go's time package tests (ParseDuration, Duration.String) and
go-units' duration_test.go (HumanDuration)."""

from __future__ import annotations

import pytest

from pycontainer.errors import BuildError, UsageError
from pycontainer.formats.durations import (
    HOUR,
    MICROSECOND,
    MILLISECOND,
    MINUTE,
    SECOND,
    format_duration,
    human_duration,
    parse_duration,
)

MAX, MIN = (1 << 63) - 1, -(1 << 63)


@pytest.mark.parametrize(("text", "ns"), [
    ("0", 0), ("5s", 5 * SECOND), ("30s", 30 * SECOND), ("1478s", 1478 * SECOND),
    ("-5s", -5 * SECOND), ("+5s", 5 * SECOND), ("-0", 0), ("+0", 0),
    ("5.0s", 5 * SECOND), ("5.6s", 5 * SECOND + 600 * MILLISECOND), ("5.s", 5 * SECOND),
    (".5s", 500 * MILLISECOND), ("1.0s", SECOND), ("1.00s", SECOND),
    ("1.004s", SECOND + 4 * MILLISECOND), ("1.0040s", SECOND + 4 * MILLISECOND),
    ("100.00100s", 100 * SECOND + MILLISECOND),
    ("10ns", 10), ("11us", 11 * MICROSECOND), ("12µs", 12 * MICROSECOND),
    ("12μs", 12 * MICROSECOND), ("13ms", 13 * MILLISECOND), ("14s", 14 * SECOND),
    ("15m", 15 * MINUTE), ("16h", 16 * HOUR),
    ("3h30m", 3 * HOUR + 30 * MINUTE), ("10.5s4m", 4 * MINUTE + 10 * SECOND + 500 * MILLISECOND),
    ("-2m3.4s", -(2 * MINUTE + 3 * SECOND + 400 * MILLISECOND)),
    ("1h2m3s4ms5us6ns", HOUR + 2 * MINUTE + 3 * SECOND + 4 * MILLISECOND + 5 * MICROSECOND + 6),
    ("39h9m14.425s", 39 * HOUR + 9 * MINUTE + 14 * SECOND + 425 * MILLISECOND),
    ("52763797000ns", 52 * SECOND + 763797 * MICROSECOND),
    ("0.3333333333333333333h", 20 * MINUTE),
    ("9007199254740993ns", (1 << 53) + 1),
    ("9223372036854775807ns", MAX), ("9223372036854775.807us", MAX),
    ("9223372036s854ms775us807ns", MAX),
    ("-9223372036854775808ns", MIN), ("-9223372036854775.808us", MIN),
    ("-9223372036s854ms775us808ns", MIN), ("-2562047h47m16.854775808s", MIN),
    ("0.100000000000000000000h", 6 * MINUTE),
    ("0.830103483285477580700h", 49 * MINUTE + 48 * SECOND + 372539827),
])
def test_parse_duration(text: str, ns: int) -> None:
    assert parse_duration(text) == ns


@pytest.mark.parametrize(("text", "message"), [
    ("", 'time: invalid duration ""'),
    ("3", 'time: missing unit in duration "3"'),
    ("-", 'time: invalid duration "-"'),
    ("s", 'time: invalid duration "s"'),
    (".", 'time: invalid duration "."'),
    ("-.", 'time: invalid duration "-."'),
    (".s", 'time: invalid duration ".s"'),
    ("+.s", 'time: invalid duration "+.s"'),
    ("1d", 'time: unknown unit "d" in duration "1d"'),
    ("1x", 'time: unknown unit "x" in duration "1x"'),
    ("1 s", 'time: unknown unit " s" in duration "1 s"'),
    ("9223372036854775808ns", 'time: invalid duration "9223372036854775808ns"'),
    ("9223372036854775.808us", 'time: invalid duration "9223372036854775.808us"'),
    ("9223372036s854ms775us808ns", 'time: invalid duration "9223372036s854ms775us808ns"'),
    ("-9223372036854775809ns", 'time: invalid duration "-9223372036854775809ns"'),
])
def test_parse_duration_errors(text: str, message: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_duration(text)
    assert str(info.value) == message


@pytest.mark.parametrize(("ns", "text"), [
    (0, "0s"), (1, "1ns"), (1100, "1.1µs"), (2200 * MICROSECOND, "2.2ms"),
    (3300 * MILLISECOND, "3.3s"), (4 * MINUTE + 5 * SECOND, "4m5s"),
    (4 * MINUTE + 5001 * MILLISECOND, "4m5.001s"),
    (5 * HOUR + 6 * MINUTE + 7001 * MILLISECOND, "5h6m7.001s"),
    (8 * MINUTE + 1, "8m0.000000001s"), (60 * SECOND, "1m0s"), (90 * MINUTE, "1h30m0s"),
    (MAX, "2562047h47m16.854775807s"), (MIN, "-2562047h47m16.854775808s"),
])
def test_format_duration(ns: int, text: str) -> None:
    assert format_duration(ns) == text


M, H, DAY = 60, 3600, 86400
WEEK, MONTH, YEAR = 7 * DAY, 30 * DAY, 365 * DAY


@pytest.mark.parametrize(("seconds", "expected"), [
    (0.45, "Less than a second"), (-5, "Less than a second"), (1, "1 second"),
    (45, "45 seconds"), (46, "46 seconds"), (59, "59 seconds"), (60, "About a minute"),
    (3 * M, "3 minutes"), (35 * M, "35 minutes"), (35 * M + 40, "35 minutes"),
    (45 * M + 40, "45 minutes"), (59 * M, "59 minutes"), (H, "About an hour"),
    (H + 29 * M, "About an hour"), (H + 31 * M, "2 hours"), (H + 59 * M, "2 hours"),
    (3 * H, "3 hours"), (3 * H + 29 * M, "3 hours"), (3 * H + 31 * M, "4 hours"),
    (3 * H + 60 * M, "4 hours"), (24 * H, "24 hours"), (DAY + 12 * H, "36 hours"),
    (2 * DAY, "2 days"), (7 * DAY, "7 days"), (13 * DAY + 5 * H, "13 days"),
    (2 * WEEK, "2 weeks"), (2 * WEEK + 4 * DAY, "2 weeks"), (3 * WEEK, "3 weeks"),
    (4 * WEEK, "4 weeks"), (4 * WEEK + 3 * DAY, "4 weeks"), (MONTH, "4 weeks"),
    (MONTH + 2 * WEEK, "6 weeks"), (2 * MONTH, "2 months"), (2 * MONTH + 2 * WEEK, "2 months"),
    (3 * MONTH, "3 months"), (3 * MONTH + WEEK, "3 months"), (5 * MONTH + 2 * WEEK, "5 months"),
    (13 * MONTH, "13 months"), (23 * MONTH, "23 months"), (24 * MONTH, "24 months"),
    (24 * MONTH + 2 * WEEK, "2 years"), (3 * YEAR + 2 * MONTH, "3 years"),
])
def test_human_duration(seconds: float, expected: str) -> None:
    assert human_duration(seconds) == expected


def test_health_flags_and_healthcheck_read_durations_alike() -> None:
    # --health-interval and HEALTHCHECK --interval used two parsers that disagreed
    from pycontainer.build import dockerfile
    from pycontainer.ops import health

    for text in ("1m30s", ".5s", "1.5h", "10µs5ms"):
        inst = dockerfile.parse(f"FROM a\nHEALTHCHECK --interval={text} CMD true\n")
        config = dockerfile.health_config(inst.stages[0].instructions[-1])
        assert config["Interval"] == health.parse_duration(text, "--health-interval")
    with pytest.raises(UsageError, match='for "--health-interval" flag: time: unknown unit'):
        health.parse_duration("1x", "--health-interval")
    # the old parsers: a traceback for the flag, 2s for the Dockerfile; Go refuses it
    with pytest.raises(UsageError, match='time: missing unit in duration "1.5.5s"'):
        health.parse_duration("1.5.5s", "--health-interval")
    with pytest.raises(BuildError, match='missing unit in duration "1.5.5s"'):
        dockerfile.parse("FROM a\nHEALTHCHECK --interval=1.5.5s CMD true\n")
