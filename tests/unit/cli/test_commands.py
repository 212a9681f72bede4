"""The lazy command index matches what the CLI modules really register."""

from __future__ import annotations

import importlib

import pytest
import typer

from pycontainer.cli import commands


def provided_names(module: str) -> set[str]:
    app = typer.Typer()
    groups = {name: typer.Typer() for name in commands.GROUPS}
    importlib.import_module(f"pycontainer.cli.{module}").register(app, groups)
    names = {c.name or c.callback.__name__ for c in app.registered_commands if c.callback}
    names |= {n for n, g in groups.items() if g.registered_commands or g.registered_groups}
    return names


def test_index_lists_every_module_providing_each_name() -> None:
    real: dict[str, set[str]] = {}
    for module in commands.MODULES:
        for name in provided_names(module):
            real.setdefault(name, set()).add(module)
    assert {k: set(v) for k, v in commands.INDEX.items()} == real


@pytest.mark.parametrize(
    ("argv", "name"),
    [
        (["run", "--rm", "busybox"], "run"),
        (["--root", "/x", "--runroot", "/y", "ps", "-a"], "ps"),
        (["--root=/x", "images"], "images"),
        (["--log-level", "debug", "container", "ls"], "container"),
        (["--help"], None),
        ([], None),
    ],
)
def test_command_name_skips_global_options(argv: list[str], name: str | None) -> None:
    assert commands.command_name(argv) == name
