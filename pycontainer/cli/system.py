"""`pyc system check|df|prune`; `pyc version`, `pyc info` and `pyc system info`, which the fast
path also runs, live in `cli/system_fast.py`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import typer

from pycontainer.cli.output import format_one

if TYPE_CHECKING:
    from pycontainer.ops.sysmaint import DiskUsage
    from pycontainer.paths import Paths


def _paths(ctx: typer.Context) -> Paths:
    from pycontainer import paths

    opts = ctx.find_root().obj
    return paths.resolve(opts.root, opts.runroot)


def check(ctx: typer.Context) -> None:
    """Check every rootless prerequisite; print PASS/WARN/FAIL and how to fix each failure."""
    from pycontainer.ops import system

    checks = system.check_all(_paths(ctx))
    width = max(len(c.name) for c in checks)
    for c in checks:
        sys.stdout.write(f"{c.status}  {c.name:<{width}}  {c.detail}\n")
        if c.fix and c.status != system.PASS:
            sys.stdout.write(f"      {'':<{width}}  fix: {c.fix}\n")
    failed = sum(c.status == system.FAIL for c in checks)
    if failed:
        sys.stdout.write(f"{failed} check(s) failed\n")
        raise typer.Exit(1)


# -- system df -----------------------------------------------------------------------------

DF_TABLE = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"
DF_HEADERS = {"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE",
              "Reclaimable": "RECLAIMABLE"}
DF_IMAGES = ("table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t"
             "{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}")
DF_CONTAINERS = ("table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t"
                 "{{.RunningFor}}\t{{.Status}}\t{{.Names}}")
DF_VOLUMES = "table {{.Name}}\t{{.Links}}\t{{.Size}}"
DF_CACHE = ("table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}"
            "\t{{.UsageCount}}\t{{.Shared}}")
VOLUME_HEADERS = {"Name": "VOLUME NAME", "Links": "LINKS", "Size": "SIZE"}
CACHE_HEADERS = {"ID": "CACHE ID", "CacheType": "CACHE TYPE", "Size": "SIZE",
                 "CreatedSince": "CREATED", "LastUsedSince": "LAST USED", "UsageCount": "USAGE",
                 "Shared": "SHARED", "InUse": "IN USE", "Parent": "PARENT",
                 "Description": "DESCRIPTION"}


def go_size(n: float) -> str:
    """go-units HumanSize (4 significant digits): df's totals, `Total reclaimed space:`."""
    from pycontainer.formats.units import human_size

    return human_size(n)


def _cli_size(n: float) -> str:
    """Docker's CLI size columns: go-units HumanSizeWithPrecision(n, 3)."""
    from pycontainer.formats.units import human_size_with_precision

    return human_size_with_precision(n, 3)


def _reclaimable(total: int, reclaimable: int, percent: bool = True) -> str:
    if percent and total > 0:
        return f"{go_size(reclaimable)} ({reclaimable * 100 // total}%)"
    return go_size(reclaimable)


def _summary_rows(du: DiskUsage) -> list[dict[str, Any]]:
    rows = []
    for kind, s, pct in (("Images", du.image_sum, True), ("Containers", du.container_sum, True),
                         ("Local Volumes", du.volume_sum, True),
                         ("Build Cache", du.cache_sum, False)):
        rows.append({"Type": kind, "TotalCount": str(s.total), "Active": str(s.active),
                     "Size": go_size(s.size),
                     "Reclaimable": _reclaimable(s.size, s.reclaimable, pct)})
    return rows


def _image_rows(du: DiskUsage, trunc: bool) -> list[dict[str, Any]]:
    from pycontainer.formats.timestamps import created_since
    from pycontainer.ops.images import display_name

    rows = []
    for img in du.images:
        repo, tag = "<none>", "<none>"
        if img.names:
            shown = display_name(img.names[0])
            repo, _, tag = shown.rpartition(":")
        hexid = img.id.split(":", 1)[-1]
        rows.append({
            "Repository": repo, "Tag": tag, "ID": hexid[:12] if trunc else img.id,
            "CreatedSince": created_since(img.created) or "N/A", "CreatedAt": img.created,
            "Size": _cli_size(img.size), "SharedSize": go_size(img.shared_size),
            "UniqueSize": go_size(img.size - img.shared_size),
            "Containers": str(img.containers), "Digest": "<none>",
        })
    return rows


def _container_rows(du: DiskUsage, trunc: bool) -> list[dict[str, Any]]:
    import time

    from pycontainer.cli.ps import ps_row

    now = time.time()
    rows = []
    for c in du.containers:
        row = {k: v for k, v in ps_row(c.entry, trunc, now).items() if not callable(v)}
        row["Size"] = _cli_size(c.entry.size_rw or 0)
        rows.append(row)
    return rows


def _volume_rows(du: DiskUsage) -> list[dict[str, Any]]:
    return [{"Name": v.name, "Links": str(v.links), "Size": go_size(v.size), "Driver": "local",
             "Scope": "local"} for v in du.volumes]


def _cache_rows(du: DiskUsage, trunc: bool) -> list[dict[str, Any]]:
    import time

    from pycontainer.formats.timestamps import created_since, go_string

    now = time.time()
    rows = []
    for c in sorted(du.build_cache, key=lambda c: (c.last_used, c.id)):
        rows.append({
            "ID": c.id[:12] if trunc else c.id, "CacheType": c.type,
            "Size": _cli_size(c.size), "CreatedSince": created_since(c.created, now),
            "LastUsedSince": created_since(c.last_used, now), "UsageCount": "1",
            "Shared": str(c.shared).lower(), "InUse": "false", "Parent": "",
            "Description": c.description,
            "CreatedAt": go_string(int(c.created) * 10**9),
            "LastUsedAt": go_string(int(c.last_used) * 10**9),
        })
    return rows


def df(
    ctx: typer.Context,
    verbose: bool = typer.Option(False, "--verbose", "-v",
                                 help="Show detailed information on space usage."),
    fmt: str = typer.Option(None, "--format", help="table, json or a Go template."),
) -> None:
    """Show pyc disk usage."""
    from pycontainer.cli.image_format import HEADERS as IMAGE_HEADERS
    from pycontainer.cli.output import render_table
    from pycontainer.cli.ps import PS_HEADERS
    from pycontainer.ops import sysmaint

    du = sysmaint.disk_usage(_paths(ctx))
    if not verbose:
        sys.stdout.write(render_table(_summary_rows(du), fmt, DF_TABLE, DF_HEADERS))
        return
    if fmt and fmt.strip() != "table":  # Docker: the template gets all four lists
        obj = {"Images": _image_rows(du, False), "Containers": _container_rows(du, False),
               "Volumes": _volume_rows(du), "BuildCache": _cache_rows(du, False)}
        sys.stdout.write(format_one(obj, fmt) + "\n")
        return
    out = sys.stdout
    out.write("Images space usage:\n\n")
    out.write(render_table(_image_rows(du, True), None, DF_IMAGES, IMAGE_HEADERS))
    out.write("\nContainers space usage:\n\n")
    out.write(render_table(_container_rows(du, True), None, DF_CONTAINERS, PS_HEADERS))
    out.write("\nLocal Volumes space usage:\n\n")
    out.write(render_table(_volume_rows(du), None, DF_VOLUMES, VOLUME_HEADERS))
    out.write(f"\nBuild cache usage: {go_size(du.cache_sum.size)}\n\n")
    out.write(render_table(_cache_rows(du, True), None, DF_CACHE, CACHE_HEADERS))


# -- system prune --------------------------------------------------------------------------


def prune_warning(all_: bool, volumes: bool, filters: list[str]) -> str:
    """Docker's confirmation text (cli/command/system/prune.go confirmationTemplate)."""
    from pycontainer.formats.filters import parse as parse_filters
    from pycontainer.formats.sortorder import natural_key

    warnings = ["all stopped containers", "all networks not used by at least one container"]
    if volumes:
        warnings.append("all anonymous volumes not used by at least one container")
    warnings.append("all images without at least one container associated to them" if all_
                    else "all dangling images")
    warnings.append("all build cache" if all_ else "unused build cache")
    text = "WARNING! This will remove:" + "".join(f"\n  - {w}" for w in warnings) + "\n"
    parsed = parse_filters(filters)
    shown = [f"{key}={v}" for key in ("label", "label!", "until") for v in parsed.get(key, [])]
    if shown:
        text += "\n  Items to be pruned will be filtered with:"
        text += "".join(f"\n  - {f}" for f in sorted(shown, key=natural_key)) + "\n"
    return text + "\nAre you sure you want to continue?"


def prune(
    ctx: typer.Context,
    all_: bool = typer.Option(False, "--all", "-a",
                              help="Remove all unused images not just dangling ones."),
    force: bool = typer.Option(False, "--force", "-f", help="Do not prompt for confirmation."),
    volumes: bool = typer.Option(False, "--volumes", help="Prune anonymous volumes."),
    filters: list[str] = typer.Option([], "--filter",
                                      help='Provide filter values (e.g. "label=<key>=<value>").'),
) -> None:
    """Remove unused data."""
    from pycontainer.cli.volumes import confirm
    from pycontainer.ops import sysmaint

    sysmaint.check_prune_filters(volumes, filters)
    if not force and not confirm(prune_warning(all_, volumes, filters)):
        return
    report = sysmaint.prune(_paths(ctx), all_, volumes, filters)
    out = sys.stdout
    for title, items in (("Deleted Containers:", report.containers),
                         ("Deleted Networks:", report.networks),
                         ("Deleted Volumes:", report.volumes),
                         ("Deleted Images:", report.images),
                         ("Deleted build cache objects:", report.build_cache)):
        if items:
            out.write(title + "\n" + "".join(i + "\n" for i in items) + "\n")
    out.write(f"Total reclaimed space: {go_size(report.reclaimed)}\n")


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    from pycontainer.cli import system_fast
    from pycontainer.cli.flags import typer_command

    for verb, where in (("version", app), ("info", app), ("info", groups["system"])):
        args, flags, text = system_fast.VERBS[verb]
        where.command(verb)(typer_command(system_fast.command, flags, args, verb, text))
    groups["system"].command("check")(check)
    groups["system"].command("df")(df)
    groups["system"].command("prune")(prune)
