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

Sizes, durations and timestamps are `pycontainer.formats` (units, durations, timestamps).
Errors (a bad template) raise `UsageError` (exit 125).
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any


def print_json(obj: object, indent: int | None = 4) -> None:
    sys.stdout.write(json.dumps(obj, indent=indent) + "\n")


def format_one(obj: object, fmt: str) -> str:
    """Render one object with `--format` (`json`, or a Go template)."""
    from pycontainer.formats import gotemplate as template  # lazily: most commands never format

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
    from pycontainer.formats import gotemplate as template

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
