"""`pyc healthcheck run` (Podman's): one probe of a container's healthcheck, recorded in its
State.Health. The supervisor runs it every interval."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from pycontainer.paths import Paths


def healthcheck_run(
    ctx: typer.Context,
    container: str = typer.Argument(..., help="The container."),
) -> None:
    """Run a container's healthcheck once: prints healthy/unhealthy/starting; exit 1 unless
    healthy."""
    from pycontainer.ops import health

    status = health.run(_paths(ctx), container)
    sys.stdout.write(status + "\n")
    if status != "healthy":
        raise typer.Exit(1)


def _paths(ctx: typer.Context) -> Paths:
    from pycontainer import paths

    opts = ctx.find_root().obj
    return paths.resolve(opts.root, opts.runroot)


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    groups["healthcheck"].command("run")(healthcheck_run)
