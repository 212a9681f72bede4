"""RFC 3339 timestamps as Go prints and parses them, and Docker's --since / --until values.

API:

    rfc3339(ns=None, *, digits=9, fixed=False, local=False) -> str
        Epoch nanoseconds (now by default) as RFC 3339: `digits` fraction digits, trailing
        zeros trimmed like Go's RFC3339Nano (`fixed` keeps them: fixed-width, sortable text);
        UTC with "Z", or with `local` the local offset ("Z" when it is UTC).
    parse_rfc3339_ns(text) -> int     # epoch nanoseconds; offsets, any fraction length
    parse_rfc3339(text) -> float      # epoch seconds
    epoch(text, default) -> float     # stored timestamps: `default` when unreadable
    get_timestamp(value, now=None) -> float
        Docker's timetypes.GetTimestamp (`logs --since`, `until=` filters): a Go duration
        before now ("10m", "1h30m", whole seconds), an RFC 3339 date-time, a partial one
        ("2006-01-02", "2006-01-02T15", "2006-01-02T15:04", local time without an offset),
        or Unix seconds with an optional fraction ("1700000000.5").
    created_since(ts, now=None) -> str   # Docker's "<HumanDuration> ago"; "" for None
    go_string(ns) -> str              # Go's Time.String, in local time (CreatedAt columns):
                                      # "2006-01-02 15:04:05.5 -0700 MST" (fraction trimmed)

Unreadable text raises `UsageError`. Only `time` at import (`re` when parsing): the supervisor
formats its timestamps with `rfc3339` and keeps to C modules.
"""

from __future__ import annotations

import time

from pycontainer.errors import UsageError

_NS = 1_000_000_000
_RFC3339 = (r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
            r"([Zz]|[+-]\d{2}:\d{2})?")
# Docker's accepted layouts: a date, then optionally T15, T15:04, T15:04:05[.frac], then
# optionally a zone (Z or +07:00); Go's "15" reads one or two digits, the rest two
_PARTIAL = (r"(\d{4})-(\d{2})-(\d{2})(?:T(\d{1,2})(?::(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?)?"
            r"([Zz]|[+-]\d{2}:\d{2})?")
_UNIX = r"([+-]?\d+)(?:\.([+-]?\d+))?"


def rfc3339(ns: int | None = None, *, digits: int = 9, fixed: bool = False,
            local: bool = False) -> str:
    """Epoch nanoseconds as RFC 3339 (see the module docstring)."""
    ns = time.time_ns() if ns is None else ns
    secs, frac = divmod(ns, _NS)
    tm = time.localtime(secs) if local else time.gmtime(secs)
    offset = tm.tm_gmtoff if local else 0
    text = f"{tm.tm_year:04d}" + time.strftime("-%m-%dT%H:%M:%S", tm)  # glibc's %Y: "1"
    if digits > 0:
        part = f"{frac:09d}"[:digits]
        part = part if fixed else part.rstrip("0")
        text += "." + part if part else ""
    if not offset:
        return text + "Z"
    sign, offset = ("+" if offset > 0 else "-"), abs(offset)
    return f"{text}{sign}{offset // 3600:02d}:{offset % 3600 // 60:02d}"


def _match(pattern: str, text: str) -> tuple[str | None, ...] | None:
    """The groups of `pattern` matching all of `text` (None: no match)."""
    import re  # lazily: re's cache keeps the compiled pattern

    m = re.fullmatch(pattern, text)
    return None if m is None else m.groups()


def _epoch_ns(fields: tuple[str | None, ...], zone: str | None, local_offset: int) -> int:
    """Epoch nanoseconds of (Y, M, D, h, m, s, fraction) in `zone` (None: `local_offset`)."""
    import calendar  # lazily: the supervisor only formats
    import datetime as _dt  # validates the calendar (Feb 30, hour 24) as Go does

    y, mo, d, h, mi, s = (int(f or 0) for f in fields[:6])
    try:
        _dt.datetime(y, mo, d, h, mi, s)
    except ValueError as exc:
        raise UsageError(f"parsing time: {exc}") from None
    if zone is None:
        offset = local_offset
    elif zone in ("Z", "z"):
        offset = 0
    else:
        offset = (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60) * (-1 if zone[0] == "-" else 1)
    secs = calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) - offset
    return secs * _NS + int((fields[6] or "")[:9].ljust(9, "0"))


def parse_rfc3339_ns(text: str) -> int:
    """RFC 3339 (a space for the T, "z", no offset meaning UTC also read) -> epoch ns."""
    m = _match(_RFC3339, text.strip())
    if m is None:
        raise UsageError(f"invalid timestamp: {text!r}")
    return _epoch_ns(m[:7], m[7] or "Z", 0)


def parse_rfc3339(text: str) -> float:
    return parse_rfc3339_ns(text) / _NS


def epoch(text: str, default: float) -> float:
    """Epoch seconds of a stored RFC 3339 timestamp, `default` when it is missing or bad."""
    try:
        return parse_rfc3339(text)
    except UsageError:
        return default


def get_timestamp(value: str, now: float | None = None) -> float:
    """Docker's timetypes.GetTimestamp as epoch seconds (see the module docstring)."""
    from pycontainer.formats.durations import parse_duration

    current = time.time() if now is None else now
    if value != "0":
        try:
            ago = parse_duration(value)
        except UsageError:
            pass
        else:  # Docker: reference.Add(-d).Unix(), whole seconds
            return float((current - ago / _NS) // 1)
    # Docker: a zone ("Z", "+", or a third "-") means the value's own, else local time
    in_location = not any(c in value for c in "zZ+") and value.count("-") != 3
    m = _match(_PARTIAL, value)
    if m is not None and (m[7] is None) == in_location:
        offset = time.localtime(current).tm_gmtoff
        return _epoch_ns(m[:7], m[7], offset) / _NS
    unix = _match(_UNIX, value)
    if "-" in value or unix is None:
        raise UsageError(f'failed to parse value as time or duration: "{value}"')
    secs, frac = str(unix[0]), unix[1]
    if frac is None:
        return float(int(secs))
    # Docker: the fraction "should already be in nanoseconds", scaled by its length
    return int(secs) + int(frac) * 10.0 ** (9 - len(frac)) / _NS


def created_since(ts: float | str | None, now: float | None = None) -> str:
    """Docker's CREATED / CreatedSince: "<HumanDuration> ago"; ts is epoch seconds or RFC
    3339 text ("" when None or empty)."""
    from pycontainer.formats.durations import human_duration

    if ts is None or ts == "":
        return ""
    seconds = parse_rfc3339(ts) if isinstance(ts, str) else float(ts)
    return human_duration((time.time() if now is None else now) - seconds) + " ago"


def go_string(ns: int) -> str:
    """Go's Time.String: local time, the fraction without trailing zeros, offset and zone
    name (Docker's CreatedAt of `time.Unix(secs, 0)` has no fraction)."""
    secs, frac = divmod(ns, _NS)
    tm = time.localtime(secs)
    part = f"{frac:09d}".rstrip("0")
    fraction = "." + part if part else ""
    return f"{tm.tm_year:04d}" + time.strftime("-%m-%d %H:%M:%S", tm) + fraction + \
        time.strftime(" %z %Z", tm)


__all__ = ["created_since", "epoch", "get_timestamp", "go_string", "parse_rfc3339",
           "parse_rfc3339_ns", "rfc3339"]
