"""`pyc version`, `pyc info` and `pyc system check|info`."""

from __future__ import annotations

import sys
from typing import Any

import typer

from pycontainer.cli.output import format_one, print_json


def _paths(ctx: typer.Context) -> Any:
    from pycontainer import paths

    opts = ctx.find_root().obj
    return paths.resolve(opts.root, opts.runroot)


def version(
    ctx: typer.Context,
    fmt: str = typer.Option(None, "--format", "-f", help="json or a Go template."),
) -> None:
    """Show the pyc version."""
    from pycontainer.ops import system

    report = system.version_report()
    if fmt:
        sys.stdout.write(format_one(report, fmt) + "\n")
        return
    c = report["Client"]
    rows = [("Version", c["Version"]), ("API Version", c["ApiVersion"]),
            ("Python Version", c["PythonVersion"]), ("OS/Arch", f"{c['Os']}/{c['Arch']}"),
            ("Rootless", str(c["Rootless"]).lower())]
    sys.stdout.write("Client:       pyc\n")
    for key, value in rows:
        sys.stdout.write(f"{key + ':':<14}{value}\n")


def info(
    ctx: typer.Context,
    fmt: str = typer.Option(None, "--format", "-f", help="json or a Go template."),
) -> None:
    """Show how pyc sees this host: ids, storage, cgroups, networking helpers."""
    from pycontainer.ops import system

    report = system.info_report(_paths(ctx))
    if fmt:
        if fmt.strip() == "json":
            print_json(report)
        else:
            sys.stdout.write(format_one(report, fmt) + "\n")
        return
    _print_tree(report, 0)


def _print_tree(value: Any, depth: int) -> None:
    pad = "  " * depth
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                sys.stdout.write(f"{pad}{key}:\n")
                _print_tree(item, depth + 1)
            else:
                shown = "" if item in ({}, []) else item
                sys.stdout.write(f"{pad}{key}: {shown}\n")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                sys.stdout.write(f"{pad}- " + ", ".join(f"{k}: {v}" for k, v in item.items())
                                 + "\n")
            else:
                sys.stdout.write(f"{pad}- {item}\n")


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


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    app.command("version")(version)
    app.command("info")(info)
    groups["system"].command("info")(info)
    groups["system"].command("check")(check)
