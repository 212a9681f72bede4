"""`pyc inspect NAME|ID...`: containers or images as Docker's JSON, or through a template.

No typer at import: the flags are data, registered with typer by `register` and parsed
without it on the fast path (`cli/fast.py`): scripts poll `inspect -f` in loops.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from pycontainer.cli.flags import BOOL, STR, Arg, Flag, GlobalOptions, typer_command
from pycontainer.errors import ExitStatus, PycError

if TYPE_CHECKING:
    import typer

    from pycontainer.paths import Paths

INTERSPERSED = True
ARGS = (Arg("names", "NAME|ID...", many=True),)
FLAGS = (
    Flag("fmt", ("--format", "-f"), STR, help="json or a Go template."),
    Flag("type_", ("--type",), STR, default="", help="container or image."),
    Flag("size", ("--size", "-s"), BOOL, help="Display total file sizes."),
)


def show(paths: Paths, names: list[str], fmt: str | None, kind: str, size: bool) -> None:
    """Print each object (all that were found), then fail with 1 if any was not."""
    import json

    from pycontainer.cli.output import format_one
    from pycontainer.ops import inspect as ops_inspect

    found: list[dict[str, Any]] = []
    failed = False
    for name in names:
        try:
            found.append(ops_inspect.inspect_any(paths, name, kind, size))
        except PycError as exc:
            sys.stderr.write(f"Error: {exc.message}\n")
            failed = True
    if fmt:
        for obj in found:
            sys.stdout.write(format_one(obj, fmt) + "\n")
    else:
        sys.stdout.write(json.dumps(found, indent=4) + "\n")
    if failed:
        raise ExitStatus(1)


def command(params: dict[str, Any], verb: str, gopts: GlobalOptions) -> None:
    from pycontainer import paths

    show(paths.resolve(gopts.root, gopts.runroot), list(params["names"]), params["fmt"],
         params["type_"], params["size"])


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    app.command("inspect")(typer_command(
        command, FLAGS, ARGS, "inspect", "Return low-level information on containers (or images)."))
