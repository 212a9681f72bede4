"""`pyc unshare [COMMAND...]`: run a command inside the user's mapped user namespace."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from pycontainer.cli.flags import GlobalOptions


def unshare(
    ctx: typer.Context,
    command: list[str] = typer.Argument(None, metavar="[COMMAND [ARG...]]"),
) -> None:
    """Run a command in the rootless user namespace (container uid 0 = you)."""
    from pycontainer import paths as paths_mod
    from pycontainer.errors import ContainerExit
    from pycontainer.ops import unshare as ops_unshare

    opts: GlobalOptions = ctx.find_root().obj
    status = ops_unshare.unshare(paths_mod.resolve(opts.root, opts.runroot), list(command or []))
    if status:
        raise ContainerExit(status)


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    settings = {"ignore_unknown_options": True, "allow_interspersed_args": False}
    app.command("unshare", context_settings=settings)(unshare)
