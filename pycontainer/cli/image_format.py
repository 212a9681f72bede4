"""Formatting image data for the terminal: Docker's tables, `--format` templates, json."""

from __future__ import annotations

import json
import sys
from typing import Any

from pycontainer.errors import UsageError

IMAGES_TABLE = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
IMAGES_DIGESTS = ("table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}"
                  "\t{{.Size}}")
HEADERS = {"Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID", "Digest": "DIGEST",
           "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE",
           "Containers": "CONTAINERS", "SharedSize": "SHARED SIZE",
           "UniqueSize": "UNIQUE SIZE", "VirtualSize": "VIRTUAL SIZE", "CreatedBy": "CREATED BY",
           "Comment": "COMMENT"}


def human_size(n: float) -> str:
    """Docker's image sizes: go-units HumanSizeWithPrecision(n, 3) ("1.23kB")."""
    from pycontainer.formats.units import human_size_with_precision

    return human_size_with_precision(n, 3)


def created_since(created: str) -> str:
    from pycontainer.formats.timestamps import created_since as since

    return since(created)


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
    from pycontainer.formats import gotemplate as template

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
                 fmt: str | None, noheading: bool = False) -> None:
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
    text = render_rows(items, fmt, default)
    if noheading:
        from pycontainer.cli.listing import without_header

        text = without_header(text, fmt)
    sys.stdout.write(text)


def _created_at(created: str) -> str:
    from pycontainer.formats.timestamps import go_string, parse_rfc3339_ns

    try:  # Docker: time.Unix(created, 0).String(), whole seconds
        return go_string(parse_rfc3339_ns(created) // 10**9 * 10**9)
    except UsageError:
        return ""


def print_inspect(objs: list[dict[str, Any]], fmt: str | None) -> None:
    if not fmt or fmt.strip() == "json":
        sys.stdout.write(json.dumps(objs, indent=4) + "\n")
        return
    from pycontainer.formats import gotemplate as template

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
            "Comment": r["comment"],
            # Podman's fields, next to Docker's: the full id, the time and the size as data
            "id": r["id"].removeprefix("sha256:"), "created": r["created"],
            "Created": r["created"], "size": r["size"]})
    sys.stdout.write(render_rows(items, fmt, HISTORY_TABLE, {"ID": "IMAGE"}))
