"""`pyc compose` (so `docker compose` under the alias): Compose v2's project flags and, for
now, `config`. The project flags come before the subcommand, as in Compose."""

from __future__ import annotations

import sys
from typing import Any

import typer

from pycontainer.errors import UsageError


def _project_options(
    ctx: typer.Context,
    file: list[str] = typer.Option([], "-f", "--file", help="Compose configuration files."),
    project_name: str = typer.Option(None, "-p", "--project-name", help="Project name."),
    project_directory: str = typer.Option(None, "--project-directory",
                                          help="Alternate working directory."),
    env_file: list[str] = typer.Option([], "--env-file", help="Alternate environment file."),
    profile: list[str] = typer.Option([], "--profile", help="Profile to enable."),
) -> None:
    from pycontainer.ops import compose

    stdin = sys.stdin.read() if "-" in file else None
    ctx.obj = compose.Options(files=list(file), project_name=project_name,
                              project_directory=project_directory, env_files=list(env_file),
                              profiles=list(profile), stdin=stdin)


def config(
    ctx: typer.Context,
    services: bool = typer.Option(False, "--services", help="Print the service names."),
    volumes: bool = typer.Option(False, "--volumes", help="Print the volume names."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="Only validate."),
    fmt: str = typer.Option("yaml", "--format", help="yaml or json."),
) -> None:
    """Parse, resolve and render the compose file in canonical format."""
    from pycontainer.ops import compose

    if fmt not in ("yaml", "json"):
        raise UsageError(f"unsupported format {fmt!r}: yaml or json")
    project = compose.load(ctx.obj)
    if quiet:
        return
    if services or volumes:
        names: Any = project.tree["services"] if services else project.tree.get("volumes")
        for name in sorted(names or {}):
            sys.stdout.write(f"{name}\n")
        return
    sys.stdout.write(compose.render(compose.model(project), fmt))


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    group = groups["compose"]
    group.callback()(_project_options)
    group.command("config")(config)
    from pycontainer.cli import compose_cmds, compose_engine

    compose_cmds.register(group)
    compose_engine.register(group)
