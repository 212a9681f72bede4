"""Go durations: time.ParseDuration ("1m30s"), Duration.String, go-units HumanDuration.

API:

    parse_duration(text) -> int       # Go's time.ParseDuration, in nanoseconds
    format_duration(ns) -> str        # Go's Duration.String: "1h2m3.5s", "1.5ms", "0s"
    human_duration(seconds) -> str    # go-units HumanDuration: "About a minute", "3 weeks"

A bad duration raises `UsageError` with Go's message (`time: invalid duration "x"`,
`time: missing unit in duration "1"`, `time: unknown unit "x" in duration "1x"`).
"""

from __future__ import annotations

from pycontainer.errors import UsageError

NANOSECOND = 1
MICROSECOND = 1000
MILLISECOND = 1000 * MICROSECOND
SECOND = 1000 * MILLISECOND
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
_UNITS = {"ns": NANOSECOND, "us": MICROSECOND, "µs": MICROSECOND, "μs": MICROSECOND,
          "ms": MILLISECOND, "s": SECOND, "m": MINUTE, "h": HOUR}
_LIMIT = 1 << 63
_DIGITS = "0123456789"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_duration(text: str) -> int:
    """Go's time.ParseDuration: [-+]?([0-9]*(\\.[0-9]*)?[a-z]+)+, or "0"; nanoseconds."""
    invalid = UsageError("time: invalid duration " + _quote(text))
    rest, neg = text, False
    if rest[:1] in ("-", "+"):
        neg, rest = rest[0] == "-", rest[1:]
    if rest == "0":
        return 0
    if not rest:
        raise invalid
    total = 0
    while rest:
        value, rest = _part(rest, text, invalid)
        total += value
        if total > _LIMIT:
            raise invalid
    if not neg and total > _LIMIT - 1:
        raise invalid
    return -total if neg else total


def _part(rest: str, text: str, invalid: UsageError) -> tuple[int, str]:
    """One number and its unit from the front of `rest`: (nanoseconds, what is left)."""
    if rest[0] != "." and rest[0] not in _DIGITS:
        raise invalid
    i = _span(rest, 0)
    whole, has_whole = int(rest[:i] or "0"), i > 0
    frac, scale, has_frac = 0, 1, False
    if rest[i:i + 1] == ".":
        j = _span(rest, i + 1)
        has_frac = j > i + 1
        for ch in rest[i + 1:j]:  # Go ignores the digits from the first that would overflow
            if frac > (_LIMIT - 1) // 10 or frac * 10 + int(ch) > _LIMIT:
                break
            frac, scale = frac * 10 + int(ch), scale * 10
        i = j
    if not (has_whole or has_frac):
        raise invalid
    j = i
    while j < len(rest) and rest[j] != "." and rest[j] not in _DIGITS:
        j += 1
    if j == i:
        raise UsageError("time: missing unit in duration " + _quote(text))
    unit = _UNITS.get(rest[i:j])
    if unit is None:
        raise UsageError(f"time: unknown unit {_quote(rest[i:j])} in duration {_quote(text)}")
    if whole > _LIMIT // unit:
        raise invalid
    value = whole * unit
    if frac:
        value += int(float(frac) * (float(unit) / scale))  # Go's float step, same rounding
    if value > _LIMIT:
        raise invalid
    return value, rest[j:]


def _span(text: str, start: int) -> int:
    end = start
    while end < len(text) and text[end] in _DIGITS:
        end += 1
    return end


def _fraction(value: int, digits: int) -> tuple[int, str]:
    """(value // 10**digits, ".frac" without trailing zeros, or "")."""
    whole, frac = divmod(value, 10**digits)
    text = str(frac).rjust(digits, "0").rstrip("0")
    return whole, "." + text if text else ""


def format_duration(ns: int) -> str:
    """Go's Duration.String: "72h3m0.5s", "1m0s", "1.5ms", "800µs", "0s"."""
    sign, u = ("-" if ns < 0 else ""), abs(ns)
    if u == 0:
        return "0s"
    if u < MICROSECOND:
        return f"{sign}{u}ns"
    if u < MILLISECOND:
        whole, frac = _fraction(u, 3)
        return f"{sign}{whole}{frac}µs"
    if u < SECOND:
        whole, frac = _fraction(u, 6)
        return f"{sign}{whole}{frac}ms"
    secs, frac = _fraction(u, 9)
    text = f"{secs % 60}{frac}s"
    minutes = secs // 60
    if minutes:
        text = f"{minutes % 60}m{text}"
        if minutes // 60:
            text = f"{minutes // 60}h{text}"
    return sign + text


def human_duration(seconds: float) -> str:
    """go-units HumanDuration, as `ps` prints "Up 5 seconds" and "2 hours ago"."""
    secs = int(seconds)
    if secs < 1:
        return "Less than a second"
    if secs == 1:
        return "1 second"
    if secs < 60:
        return f"{secs} seconds"
    minutes = int(seconds / 60)
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = int(seconds / 3600 + 0.5)  # Go: int(d.Hours() + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"


__all__ = ["HOUR", "MICROSECOND", "MILLISECOND", "MINUTE", "NANOSECOND", "SECOND",
           "format_duration", "human_duration", "parse_duration"]
