"""`pyc system service` (the Docker Engine API on demand) and `pyc system dial-stdio`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from pycontainer.paths import Paths


def _paths(ctx: typer.Context) -> Paths:
    from pycontainer import paths

    opts = ctx.find_root().obj
    return paths.resolve(opts.root, opts.runroot)


def service(
    ctx: typer.Context,
    uri: str = typer.Argument(None, metavar="[URI]",
                              help="unix:///path or tcp://127.0.0.1:PORT (default: "
                                   "unix://$XDG_RUNTIME_DIR/pycontainer/pyc.sock)."),
    time: float = typer.Option(5.0, "--time", "-t", "--timeout", min=0,
                               help="Seconds without a request before the service exits "
                                    "(0: never)."),
    install: bool = typer.Option(False, "--install",
                                 help="Write a systemd user socket and service for it."),
) -> None:
    """Serve the Docker Engine API until it has been idle for --time seconds."""
    from pycontainer.api import service as api_service

    paths = _paths(ctx)
    opts = ctx.find_root().obj
    if install:
        for path in api_service.install_units(paths, opts.root, opts.runroot, time):
            typer.echo(path)
        return
    api_service.run(paths, uri, time)


def dial_stdio(ctx: typer.Context) -> None:
    """Join stdin and stdout to the API socket, starting a service first if none answers
    (what the docker CLI runs on the remote side of DOCKER_HOST=ssh://)."""
    from pycontainer.api import service as api_service

    api_service.dial_stdio(_paths(ctx))


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    groups["system"].command("service")(service)
    groups["system"].command("dial-stdio")(dial_stdio)
