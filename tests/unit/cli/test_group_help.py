"""`pyc --help` and `pyc GROUP --help` list stubs of the commands (cli/group_help.py): the
text must be the one typer prints from the real commands."""

from __future__ import annotations

from typing import Any

import pytest
import typer

from pycontainer.cli import app as app_module
from pycontainer.cli import commands, group_help


def _root(stubbed: bool, name: str | None) -> Any:
    app = typer.Typer(name="pyc", help=app_module.app.info.help, no_args_is_help=True,
                      context_settings=app_module.CONTEXT, rich_markup_mode=None,
                      add_completion=False)
    app.callback()(app_module._global)
    commands.register(app, name)
    if stubbed:
        group_help.stub_commands(app)
    return typer.main.get_command(app)


def _help(stubbed: bool, group: str | None) -> str:
    root = _root(stubbed, group)
    ctx = root.make_context("pyc", [], resilient_parsing=True)
    if group is None:
        return str(root.get_help(ctx))
    cmd = root.get_command(ctx, group)
    return str(cmd.get_help(cmd.make_context(group, [], parent=ctx, resilient_parsing=True)))


@pytest.mark.parametrize("group", [None, *commands.GROUPS], ids=str)
def test_a_listing_of_stubs_is_typers_own(group: str | None) -> None:
    real = _help(False, group)
    assert "Commands:" in real
    assert _help(True, group) == real


@pytest.mark.parametrize(("args", "listing"), [
    ([], True), (["--help"], True), (["-h"], True), (["network"], True),
    (["network", "--help"], True), (["--root", "/r", "volume", "-h"], True),
    (["--root=/r", "--help"], True), (["--root", "/r"], False),
    (["network", "ls", "--help"], False), (["run", "--help"], False),
    (["--help", "network"], False), (["network", "--bogus"], False), (["ls"], False),
], ids=lambda v: " ".join(v) if isinstance(v, list) else str(v))
def test_only_a_listing_is_stubbed(args: list[str], listing: bool) -> None:
    assert group_help.is_listing(args) is listing
