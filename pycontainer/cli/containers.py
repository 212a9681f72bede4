"""Container commands (run, create, start, stop, ps, logs, exec, rm, inspect, ...)."""

from __future__ import annotations

import typer


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    from pycontainer.cli import run

    run.register(app, groups)
