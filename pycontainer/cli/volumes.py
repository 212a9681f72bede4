"""`pyc volume create|ls|inspect|rm|prune|exists`: Docker's flags, output and exit codes.

Errors are pyc's (exit 125, `Error: No such volume: x`); each command parses its flags, makes
one ops call and formats the result. Ops are imported inside the commands (start-up cost).
create and ls, which the fast path also runs, live in `cli/volume_fast.py`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from pycontainer.cli.volume_fast import parse_key_values as parse_key_values
from pycontainer.errors import PycError, UsageError

if TYPE_CHECKING:
    from pycontainer.paths import Paths

T = TypeVar("T")

PRUNE_WARNING = ("WARNING! This will remove anonymous local volumes not used by at least one "
                 "container.\nAre you sure you want to continue?")
PRUNE_ALL_WARNING = ("WARNING! This will remove all local volumes not used by at least one "
                     "container.\nAre you sure you want to continue?")


def _paths(ctx: typer.Context) -> Paths:
    from pycontainer import paths

    opts = ctx.find_root().obj
    return paths.resolve(opts.root, opts.runroot)


def confirm(message: str) -> bool:
    """Docker's prompt: the question, " [y/N] ", one line of stdin; only y / Y say yes."""
    sys.stdout.write(message + " [y/N] ")
    sys.stdout.flush()
    answer = sys.stdin.readline() if sys.stdin is not None else ""
    return answer.strip().lower() == "y"


def for_each(names: list[str], op: Callable[[str], T]) -> tuple[list[T], list[PycError]]:
    """Docker's many-names commands: run `op` on every name, keeping results and failures."""
    results: list[T] = []
    errors: list[PycError] = []
    for name in names:
        try:
            results.append(op(name))
        except PycError as exc:
            errors.append(exc)
    return results, errors


def write_errors(errors: list[PycError]) -> None:
    """Report every failure; the last one sets the exit status (125)."""
    for exc in errors[:-1]:
        sys.stderr.write(f"Error: {exc.message}\n")
    if errors:
        raise errors[-1]


def print_inspect(objs: list[dict[str, Any]], fmt: str | None) -> None:
    """Docker's inspect output: an indented JSON array; `json`: compact; else a template per
    object (an empty line when nothing was found)."""
    import json

    from pycontainer.formats import gotemplate as template

    if not fmt:
        text = json.dumps(objs, indent=4, ensure_ascii=False)
        # Go's encoding/json escapes these (they can only occur inside strings)
        for ch, esc in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e")):
            text = text.replace(ch, esc)
        sys.stdout.write(text + "\n")
    elif fmt.strip() == "json":
        sys.stdout.write(template.go_json(objs) + "\n")
    else:
        text = "".join(template.render(fmt, o, strict=True) + "\n" for o in objs)
        sys.stdout.write(text or "\n")


# --- commands ------------------------------------------------------------------------------


def inspect(
    ctx: typer.Context,
    names: list[str] = typer.Argument(..., metavar="VOLUME..."),
    fmt: str = typer.Option(None, "--format", "-f", help="json or a Go template."),
) -> None:
    """Display detailed information on one or more volumes."""
    from pycontainer.ops import volumes as ops_volumes

    paths = _paths(ctx)
    found, errors = for_each(names, lambda name: ops_volumes.inspect(paths, name))
    print_inspect(found, fmt)
    write_errors(errors)


def rm(
    ctx: typer.Context,
    names: list[str] = typer.Argument(None, metavar="VOLUME..."),
    force: bool = typer.Option(False, "--force", "-f",
                               help="Do not error if a volume does not exist."),
    all_: bool = typer.Option(False, "--all", "-a", help="Remove all volumes (Podman)."),
    ignore: bool = typer.Option(False, "--ignore", "-i",
                                help="No error for a missing volume (Podman)."),
) -> None:
    """Remove one or more volumes. A volume in use by a container cannot be removed."""
    from pycontainer.ops import volumes as ops_volumes

    paths = _paths(ctx)
    names = list(names or [])
    if all_ and names:
        raise UsageError("when using the --all flag, you may not pass any volume names")
    if all_:  # Podman: every volume no container uses (in use: refused, as by name)
        names = [o["Name"] for o in ops_volumes.list_volumes(paths, [])]
    elif not names:
        raise UsageError("volume rm requires at least 1 argument")

    def remove(name: str) -> None:
        if ops_volumes.remove(paths, name, force or ignore):
            sys.stdout.write(name + "\n")

    write_errors(for_each(names, remove)[1])


def prune(
    ctx: typer.Context,
    all_: bool = typer.Option(False, "--all", "-a",
                              help="Remove all unused volumes, not just anonymous ones."),
    force: bool = typer.Option(False, "--force", "-f", help="Do not prompt for confirmation."),
    filters: list[str] = typer.Option([], "--filter", help="label=, label!=, all="),
) -> None:
    """Remove unused local volumes (anonymous ones unless --all)."""
    from pycontainer.ops import volumes as ops_volumes

    paths = _paths(ctx)
    ops_volumes.check_prune_filters(all_, filters)
    if not force and not confirm(PRUNE_ALL_WARNING if all_ else PRUNE_WARNING):
        return
    report = ops_volumes.prune(paths, all_, filters)
    if report.removed:
        sys.stdout.write("Deleted Volumes:\n" + "".join(n + "\n" for n in report.removed)
                         + "\n")
    from pycontainer.formats.units import human_size

    sys.stdout.write(f"Total reclaimed space: {human_size(report.reclaimed)}\n")


def exists(ctx: typer.Context, name: str = typer.Argument(..., metavar="VOLUME")) -> None:
    """Exit 0 if the volume exists, 1 if not."""
    from pycontainer.ops import volumes as ops_volumes

    if not ops_volumes.exists(_paths(ctx), name):
        raise typer.Exit(1)


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    from pycontainer.cli import volume_fast
    from pycontainer.cli.flags import typer_command

    grp = groups["volume"]
    for verb, hidden in (("create", False), ("ls", False), ("list", True)):
        args, flags, text = volume_fast.VERBS[verb]
        grp.command(verb, hidden=hidden)(typer_command(volume_fast.command, flags, args,
                                                       verb, text))
    grp.command("inspect")(inspect)
    grp.command("rm")(rm)
    grp.command("remove", hidden=True)(rm)
    grp.command("prune")(prune)
    grp.command("exists")(exists)
