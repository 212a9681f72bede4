"""Formatting image data for the terminal: Docker's tables, `--format` templates, json."""

from __future__ import annotations

import datetime as _dt
import json
import sys
from typing import Any

IMAGES_TABLE = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
IMAGES_DIGESTS = ("table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}"
                  "\t{{.Size}}")
HEADERS = {"Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID", "Digest": "DIGEST",
           "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE",
           "Containers": "CONTAINERS", "SharedSize": "SHARED SIZE",
           "UniqueSize": "UNIQUE SIZE", "VirtualSize": "VIRTUAL SIZE", "CreatedBy": "CREATED BY",
           "Comment": "COMMENT"}


def human_size(n: float) -> str:
    """go-units HumanSizeWithPrecision(n, 3): decimal units, 3 significant digits."""
    try:
        from pycontainer.cli import output

        fn = getattr(output, "human_size", None)
        if fn is not None:
            return str(fn(n))
    except ImportError:
        pass
    units = ["B", "kB", "MB", "GB", "TB", "PB"]
    i = 0
    while n >= 1000 and i < len(units) - 1:
        n /= 1000.0
        i += 1
    return f"{n:.4g}{units[i]}" if n >= 100 else f"{float(f'{n:.3g}'):g}{units[i]}"


def _parse_time(text: str) -> _dt.datetime | None:
    if not text:
        return None
    t = text.strip().replace("Z", "+00:00")
    if "." in t:  # Python < 3.11 fromisoformat is picky about fraction digits
        head, _, rest = t.partition(".")
        frac = "".join(c for c in rest if c.isdigit())
        tz = rest[len(frac):]
        t = f"{head}.{frac[:6].ljust(6, '0')}{tz}"
    try:
        dt = _dt.datetime.fromisoformat(t)
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=_dt.UTC)


def created_since(created: str) -> str:
    try:
        from pycontainer.cli import output

        fn = getattr(output, "created_since", None)
        if fn is not None:
            return str(fn(created))
    except ImportError:
        pass
    dt = _parse_time(created)
    if dt is None:
        return "N/A"
    secs = (_dt.datetime.now(_dt.UTC) - dt).total_seconds()
    return _human_duration(secs) + " ago"


def _human_duration(secs: float) -> str:
    """go-units HumanDuration."""
    s = int(secs)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    m = s // 60
    if m == 1:
        return "About a minute"
    if m < 60:
        return f"{m} minutes"
    h = round(s / 3600)
    if h == 1:
        return "About an hour"
    if h < 48:
        return f"{h} hours"
    if h < 24 * 7 * 2:
        return f"{h // 24} days"
    if h < 24 * 30 * 2:
        return f"{h // 24 // 7} weeks"
    if h < 24 * 365 * 2:
        return f"{h // 24 // 30} months"
    return f"{h // 24 // 365} years"


def _tabwrite(rows: list[list[str]]) -> str:
    """Go's tabwriter(minwidth 10, padding 3): the layout Docker's tables have."""
    if not rows:
        return ""
    ncol = max(len(r) for r in rows)
    widths = [0] * ncol
    for r in rows:
        for i, cell in enumerate(r[:-1]):
            widths[i] = max(widths[i], len(cell) + 3, 10)
    out = []
    for r in rows:
        line = "".join(c.ljust(widths[i]) if i < len(r) - 1 else c for i, c in enumerate(r))
        out.append(line.rstrip() if False else line)
    return "\n".join(out) + "\n"


def render_rows(items: list[dict[str, Any]], fmt: str | None, default: str,
                headers: dict[str, str] | None = None) -> str:
    """`table ...` (with headers), `json` (one object per line) or a plain Go template."""
    from pycontainer.cli import template

    fmt = fmt or default
    if fmt.strip() == "json":
        return "".join(template.go_json(_plain(i)) + "\n" for i in items)
    if fmt.startswith("table"):
        body = fmt[len("table"):].strip() or default[len("table"):].strip()
        names = {**HEADERS, **(headers or {})}
        header = template.render(body, template.HeaderContext(lambda k: names.get(k, k.upper())))
        lines = [header] + [template.render(body, i) for i in items]
        return _tabwrite([ln.split("\t") for ln in lines])
    return "".join(template.render(fmt, i) + "\n" for i in items)


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if not callable(v)}


def print_images(rows: list[Any], quiet: bool, digests: bool, no_trunc: bool,
                 fmt: str | None) -> None:
    if quiet:
        seen: list[str] = []
        for r in rows:
            shown = r.id if no_trunc else r.id[7:19]
            if shown not in seen:
                seen.append(shown)
        sys.stdout.write("".join(s + "\n" for s in seen))
        return
    items = [{
        "ID": r.id if no_trunc else r.id[7:19], "Repository": r.repository, "Tag": r.tag,
        "Digest": r.digest, "CreatedSince": created_since(r.created),
        "CreatedAt": _created_at(r.created), "Size": human_size(r.size),
        "Containers": str(r.containers) if r.containers else "N/A", "SharedSize": "N/A",
        "UniqueSize": "N/A", "VirtualSize": human_size(r.size),
    } for r in rows]
    default = IMAGES_DIGESTS if digests else IMAGES_TABLE
    sys.stdout.write(render_rows(items, fmt, default))


def _created_at(created: str) -> str:
    dt = _parse_time(created)
    if dt is None:
        return ""
    return dt.astimezone().strftime("%Y-%m-%d %H:%M:%S %z %Z")


def print_inspect(objs: list[dict[str, Any]], fmt: str | None) -> None:
    if not fmt or fmt.strip() == "json":
        sys.stdout.write(json.dumps(objs, indent=4) + "\n")
        return
    from pycontainer.cli import template

    for o in objs:
        sys.stdout.write(template.render(fmt, o, strict=True) + "\n")


HISTORY_TABLE = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"


def print_history(rows: list[dict[str, Any]], human: bool, no_trunc: bool, quiet: bool,
                  fmt: str | None) -> None:
    if quiet:
        sys.stdout.write("".join((r["id"] if no_trunc or r["id"] == "<missing>"
                                  else r["id"][7:19]) + "\n" for r in rows))
        return
    items = []
    for r in rows:
        by = r["created_by"]
        if not no_trunc and len(by) > 45:
            by = by[:44] + "…"
        items.append({
            "ID": r["id"] if no_trunc or r["id"] == "<missing>" else r["id"][7:19],
            "CreatedSince": created_since(r["created"]) if human else r["created"],
            "CreatedAt": r["created"], "CreatedBy": by,
            "Size": human_size(r["size"]) if human else str(r["size"]),
            "Comment": r["comment"]})
    sys.stdout.write(render_rows(items, fmt, HISTORY_TABLE, {"ID": "IMAGE"}))
