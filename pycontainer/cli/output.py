"""Output helpers shared by every command: JSON, Go-template `--format`, Docker's tables.

API:

    print_json(obj, indent=4) -> None           # pretty JSON on stdout (inspect)
    format_one(obj, fmt) -> str                 # one object: `json` or a Go template
    render_table(rows, fmt, default, headers, *, strict=False) -> str
        Docker's list output (`ps`, `images`, `volume ls`...): `rows` are dicts (one per
        object, Docker's field names as keys; callables act as Go methods, e.g. "Label").
        `fmt` is the user's `--format` or None; `default` is the command's default format
        (e.g. "table {{.ID}}\\t{{.Image}}"); `headers` maps field -> column title
        ({"ID": "CONTAINER ID", "RunningFor": "CREATED"}); other fields get Docker's
        CamelCase rule (CreatedAt -> CREATED AT). Formats:
          None / ""          -> `default`
          "table"            -> `default` as a table
          "table TEMPLATE"   -> header row + one row per object, aligned like Docker
          "json"             -> one compact JSON object per row (sorted keys)
          "TEMPLATE"         -> one line per object, no header
        `\\t` and `\\n` typed literally in the format become a tab / newline (as in Docker).
        The result ends with a newline unless it is empty. `strict=True` makes a field
        missing from a row an error (Docker's rows are structs: unknown fields fail) rather
        than `<no value>`.
    tabwrite(text, minwidth=10, tabwidth=1, padding=3) -> str
        Go's text/tabwriter with Docker's settings (padchar ' ', left-aligned).
    header_name(field, headers) -> str
    human_duration(seconds) -> str     # go-units HumanDuration: "About a minute", "3 weeks"
    created_since(ts, now=None) -> str # "<HumanDuration> ago"; ts = epoch seconds,
                                       # datetime or RFC 3339 text; "" for None
    parse_timestamp(ts) -> float       # epoch seconds from any of those
    human_size(n) -> str               # go-units HumanSizeWithPrecision(n, 3): "1.23kB"
    parse_size(text) -> int            # go-units RAMInBytes: "512m" -> 536870912

Errors (a bad template, a bad size) raise `UsageError` (exit 125).
"""

from __future__ import annotations

import json
import math
import re
import sys
import time
from datetime import UTC, datetime
from typing import Any

from pycontainer.errors import UsageError


def print_json(obj: Any, indent: int | None = 4) -> None:
    sys.stdout.write(json.dumps(obj, indent=indent) + "\n")


def format_one(obj: Any, fmt: str) -> str:
    """Render one object with `--format` (`json`, or a Go template)."""
    from pycontainer.cli import template  # lazily: most commands never format

    if fmt.strip() == "json":
        return template.go_json(obj)
    return template.render(fmt, obj)


# ---------------------------------------------------------------------------------------------
# Tables


def tabwrite(text: str, minwidth: int = 10, tabwidth: int = 1, padding: int = 3) -> str:
    """Align tab-terminated cells like Go's tabwriter.NewWriter(w, minwidth, tabwidth, padding,
    ' ', 0): a column block is a run of consecutive lines having that cell; each cell is padded
    to the block's widest cell + `padding` (at least `minwidth`); text after a line's last tab
    is not a cell and is not padded. `tabwidth` only matters for tab padding (unused)."""
    del tabwidth
    lines = [line.split("\t") for line in text.split("\n")]
    out: list[str] = []
    _tab_format(lines, [], 0, len(lines), out, minwidth, padding)
    return "\n".join(out)


def _tab_format(
    lines: list[list[str]], widths: list[int], line0: int, line1: int, out: list[str],
    minwidth: int, padding: int,
) -> None:
    column = len(widths)
    this = line0
    while this < line1:
        if column >= len(lines[this]) - 1:
            this += 1
            continue
        _tab_write(lines, widths, line0, this, out)
        line0 = this
        width = minwidth
        while this < line1 and column < len(lines[this]) - 1:
            width = max(width, len(lines[this][column]) + padding)
            this += 1
        widths.append(width)
        _tab_format(lines, widths, line0, this, out, minwidth, padding)
        widths.pop()
        line0 = this
    _tab_write(lines, widths, line0, line1, out)


def _tab_write(
    lines: list[list[str]], widths: list[int], line0: int, line1: int, out: list[str]
) -> None:
    for cells in lines[line0:line1]:
        parts = [
            cell.ljust(widths[j]) if j < len(widths) else cell for j, cell in enumerate(cells)
        ]
        out.append("".join(parts))


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def header_name(field: str, headers: dict[str, str]) -> str:
    """The column title of `field`: from `headers`, else CamelCase split into upper words."""
    if field in headers:
        return headers[field]
    return " ".join(_CAMEL.split(field)).upper()


def _unescape_format(fmt: str) -> str:
    # Docker's preFormat: trim spaces, then literal \t and \n typed on the command line.
    return re.sub(r"\\[tn]", lambda m: "\t" if m.group() == "\\t" else "\n", fmt.strip(" "))


def render_table(
    rows: list[dict[str, Any]],
    fmt: str | None,
    default: str,
    headers: dict[str, str],
    *,
    strict: bool = False,
) -> str:
    """Docker's list output for `rows` (see the module docstring)."""
    from pycontainer.cli import template

    fmt = fmt or default
    if fmt.strip() == "json":
        return "".join(template.go_json(row, sort_keys=True) + "\n" for row in rows)
    is_table = fmt.startswith("table")
    body = fmt[len("table"):] if is_table else fmt
    if is_table and not body.strip():
        body = default[len("table"):] if default.startswith("table") else default
    tmpl = template.compile(_unescape_format(body))
    lines = "".join(tmpl.execute(row, strict=strict) + "\n" for row in rows)
    if not is_table:
        return lines
    header = tmpl.execute(template.HeaderContext(lambda f: header_name(f, headers)))
    return tabwrite(header + "\n" + lines)


# ---------------------------------------------------------------------------------------------
# go-units


def human_duration(seconds: float) -> str:
    """go-units HumanDuration."""
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
    hours = math.floor(seconds / 3600 + 0.5)  # Go's math.Round, half away from zero
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


_FRACTION = re.compile(r"(\.\d{1,6})\d*")


def parse_timestamp(ts: float | int | str | datetime) -> float:
    """Epoch seconds from epoch seconds, a datetime (naive = UTC) or RFC 3339 text."""
    if isinstance(ts, datetime):
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=UTC)
        return ts.timestamp()
    if isinstance(ts, str):
        text = _FRACTION.sub(r"\1", ts.strip(), count=1).replace("Z", "+00:00")
        try:
            return parse_timestamp(datetime.fromisoformat(text))
        except ValueError:
            raise UsageError(f"invalid timestamp: {ts!r}") from None
    return float(ts)


def created_since(ts: float | int | str | datetime | None, now: float | None = None) -> str:
    """Docker's CREATED / CreatedSince text: "<HumanDuration> ago" ("" when unknown)."""
    if ts is None or ts == "":
        return ""
    current = time.time() if now is None else now
    return human_duration(current - parse_timestamp(ts)) + " ago"


_DECIMAL_UNITS = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]


def human_size(size: float) -> str:
    """go-units HumanSizeWithPrecision(size, 3): decimal units, 3 significant digits."""
    value, unit = float(size), 0
    while value >= 1000.0 and unit < len(_DECIMAL_UNITS) - 1:
        value /= 1000.0
        unit += 1
    # Python's %g matches Go's %.*g (same exponent rule and trailing-zero removal).
    return f"{value:.3g}{_DECIMAL_UNITS[unit]}"


_SIZE_RE = re.compile(r"^(\d+(\.\d+)*) ?([kmgtp])?i?b?$", re.IGNORECASE)
_BINARY = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def parse_size(text: str) -> int:
    """go-units RAMInBytes: "512m" -> 536870912; b/k/m/g/t/p, binary multiples, any case,
    optional "i" and "b" suffixes; the value is truncated to whole bytes."""
    m = _SIZE_RE.match(text)
    try:
        if m is None:
            raise ValueError
        value = float(m.group(1))
    except ValueError:
        raise UsageError(f"invalid size: '{text}'") from None
    unit = (m.group(3) or "").lower()
    return int(value * _BINARY.get(unit, 1))
