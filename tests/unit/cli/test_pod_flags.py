"""`pod create` and `pod start` on the fast path (cli/podverbs.py): its parser reads each
line as typer does, from the same flag tables; what it cannot read goes to typer."""

from __future__ import annotations

from typing import Any

import pytest
import typer

from pycontainer.cli import app as app_module
from pycontainer.cli import commands, fast, podverbs
from pycontainer.cli.flags import flag_values

try:
    from typer._click import exceptions as click_exc
except ImportError:  # pragma: no cover
    import click.exceptions as click_exc  # type: ignore[no-redef]


def typer_params(argv: list[str]) -> dict[str, Any] | None:
    app = typer.Typer(context_settings=app_module.CONTEXT, rich_markup_mode=None)
    app.callback()(app_module._global)
    commands.register(app, "pod")
    root: Any = typer.main.get_command(app)
    try:
        ctx = root.make_context("pyc", list(argv))
        _, group, rest = root.resolve_command(ctx, ctx._protected_args + ctx.args)
        sub = group.make_context("pod", rest, parent=ctx)
        name, cmd, rest = group.resolve_command(sub, sub._protected_args + sub.args)
        return dict(cmd.make_context(name, rest, parent=sub).params)
    except (click_exc.UsageError, typer.Exit):
        return None


def fast_params(argv: list[str]) -> dict[str, Any] | None:
    split = fast.split_globals(argv)
    assert split is not None
    _, module, verb, rest = split
    assert module == "pycontainer.cli.podverbs"
    positional, flags = podverbs.tables(verb)
    return flag_values(rest, flags, positional, podverbs.INTERSPERSED)


def normal(params: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple | list) else v for k, v in params.items()}


@pytest.mark.parametrize("argv", [
    ["pod", "create"],
    ["pod", "create", "web"],
    ["pod", "create", "--name", "web", "-p", "8080:80", "-p", "9090:90", "--label", "a=b"],
    ["pod", "create", "-n", "w", "--share", "none", "--no-infra", "--hostname", "h"],
    ["pod", "create", "--network", "none", "--userns=keep-id", "--infra"],
    ["pod", "start", "a", "b"],
    ["pod", "start", "--all"],
    ["pod", "start"],
])
def test_both_parsers_agree(argv: list[str]) -> None:
    ours, typers = fast_params(argv), typer_params(argv)
    assert typers is not None and ours is not None
    assert normal(ours) == normal(typers)


@pytest.mark.parametrize("argv", [["pod", "create", "--bogus"], ["pod", "create", "--help"],
                                  ["pod", "start", "-x"]])
def test_what_the_fast_path_cannot_read_goes_to_typer(argv: list[str]) -> None:
    assert fast_params(argv) is None


@pytest.mark.parametrize("argv", [["pod", "ps"], ["pod"], ["pod", "rm", "x"]])
def test_other_pod_verbs_are_typers(argv: list[str]) -> None:
    assert fast.split_globals(argv) is None
