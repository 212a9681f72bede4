"""`pyc builder prune`: Docker's command to remove the build cache."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from pycontainer.errors import UsageError

if TYPE_CHECKING:
    from pycontainer.paths import Paths


def _paths(ctx: typer.Context) -> Paths:
    from pycontainer import paths

    opts = ctx.find_root().obj
    return paths.resolve(opts.root, opts.runroot)


def prune(
    ctx: typer.Context,
    all_: bool = typer.Option(False, "--all", "-a",
                              help="Remove all build cache, not just dangling entries."),
    force: bool = typer.Option(False, "--force", "-f", help="Do not prompt for confirmation."),
    filters: list[str] = typer.Option([], "--filter", help="Not supported yet."),
    keep_storage: str = typer.Option(None, "--keep-storage", hidden=True),
) -> None:
    """Remove build cache."""
    from pycontainer.cli import image_format
    from pycontainer.ops import builder as ops_builder

    if filters or keep_storage:
        raise UsageError("builder prune --filter / --keep-storage are not supported")
    if not force:  # as Docker: ask, and take no answer (EOF) as no
        what = "all build cache" if all_ else "all dangling build cache"
        sys.stdout.write(f"WARNING! This will remove {what}.\nAre you sure you want to "
                         "continue? [y/N] ")
        sys.stdout.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            return
    report = ops_builder.prune(_paths(ctx), all_)
    if report.deleted:
        sys.stdout.write("Deleted build cache objects:\n")
        for key in report.deleted:
            sys.stdout.write(f"{key[:25]}\n")
        sys.stdout.write("\n")
    sys.stdout.write(f"Total:\t{image_format.human_size(report.reclaimed)}\n")


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    groups["builder"].command("prune")(prune)
