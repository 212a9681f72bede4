"""The fast path's parser (cli/flags.py) reads every argument list as typer does, or leaves it
to typer; the typer signatures are built from the same flag tables."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
import typer

from pycontainer.cli import app as app_module
from pycontainer.cli import commands, fast
from pycontainer.cli import verbs as cli_verbs
from pycontainer.cli.flags import flag_values

try:
    from typer._click import exceptions as click_exc
except ImportError:  # pragma: no cover
    import click.exceptions as click_exc  # type: ignore[no-redef]


def typer_params(argv: list[str]) -> tuple[str, dict[str, Any]] | None:
    """(verb, ctx.params) as typer parses `pyc ARGV`, or None for a usage error."""
    root = typer.main.get_command(fresh_app(commands.command_name(argv)))
    try:
        ctx = root.make_context("pyc", list(argv))
        group: Any = root
        name, cmd, rest = group.resolve_command(ctx, ctx._protected_args + ctx.args)
        if name == "container":
            sub = cmd.make_context(name, rest, parent=ctx)
            name, cmd, rest = cmd.resolve_command(sub, sub._protected_args + sub.args)
            ctx = sub
        sub_ctx = cmd.make_context(name, rest, parent=ctx)
    except (click_exc.UsageError, typer.Exit):  # --help raises typer.Exit
        return None
    return name, sub_ctx.params


def _module(verb: str) -> Any:
    """The typer-free module the fast path runs `verb` with."""
    return importlib.import_module(fast.FAST.get(verb) or fast.CONTAINER[verb])


def fast_params(argv: list[str]) -> tuple[str, dict[str, Any] | None]:
    """(verb, parameters) as the fast path reads `pyc ARGV`."""
    split = fast.split_globals(argv)
    assert split is not None
    _, name, verb, rest = split
    module: Any = importlib.import_module(name)
    positional, flags = fast.tables(module, verb)
    return verb, flag_values(rest, flags, positional, module.INTERSPERSED)


def fresh_app(name: str | None) -> typer.Typer:
    app = typer.Typer(context_settings=app_module.CONTEXT, rich_markup_mode=None)
    app.callback()(app_module._global)
    commands.register(app, name)
    return app


def normal(params: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple | list) else v for k, v in params.items()}


AGREE = [
    ["run", "busybox"],
    ["run", "--rm", "busybox", "true"],
    ["run", "-it", "--rm", "busybox", "sh", "-c", "echo hi"],
    ["run", "-dit", "--name", "web", "-p", "8080:80", "-p80", "busybox", "httpd", "-f"],
    ["run", "-dp8080:80", "busybox"],
    ["run", "-dp", "8080:80", "busybox"],
    ["run", "--name=web", "--env=A=1", "-e", "B=2", "-eC=3", "busybox", "env"],
    ["run", "--rm", "busybox", "--rm", "-d"],  # options after IMAGE are the command's
    ["run", "--", "busybox", "ls"],
    ["run", "--no-sig-proxy", "--sig-proxy", "--no-sig-proxy", "busybox"],
    ["run", "--stop-timeout", "5", "--health-retries=-1", "busybox"],
    ["run", "--name", "-x", "busybox"],  # a value may start with a dash
    ["run", "--net", "none", "--network", "host", "-v", "/a:/b", "-v/c:/d", "busybox"],
    ["run", "-h", "box", "-u", "1000:1000", "-w", "/tmp", "-m", "64m", "-c", "512", "busybox"],
    ["--root", "/r", "--runroot=/rr", "run", "-q", "busybox", "-"],
    ["--log-level", "debug", "container", "run", "-a", "stdout", "busybox"],
    ["create", "--name", "c1", "-l", "a=b", "--label", "c", "busybox", "sleep", "1"],
    ["container", "create", "busybox"],
    ["exec", "ctr", "true"],
    ["exec", "-it", "ctr", "sh"],
    ["exec", "-e", "A=1", "--env=B", "-w/tmp", "-u", "0", "-d", "ctr", "ls", "-l", "--all"],
    ["exec", "--privileged", "--detach-keys", "ctrl-x", "ctr", "--", "x"],
    ["container", "exec", "ctr", "id"],
    ["ps"],
    ["ps", "-aq"],
    ["ps", "-a", "--no-trunc", "--format", "{{.Names}}\t{{.Status}}", "-f", "name=x",
     "--filter=status=exited", "-n", "3"],
    ["ps", "-l", "-s", "--format=json"],
    ["container", "ls", "-a"],
    ["container", "list", "-q"],
    ["container", "ps"],
    ["start", "a", "b"],
    ["start", "-ai", "--detach-keys", "ctrl-x", "c"],
    ["stop", "-t", "0", "a", "b"],
    ["stop", "--timeout=5", "--signal", "TERM", "a"],
    ["kill", "-s", "HUP", "a"],
    ["kill", "a", "--signal=9"],  # interspersed: options after the names too
    ["restart", "-t", "1", "a"],
    ["rm", "-f", "a"],
    ["rm", "-fv", "a", "b", "c"],
    ["rm", "--all", "--force"],
    ["container", "rm", "-f", "a"],
    ["wait", "a", "b"],
    ["inspect", "a"],
    ["images"],
    ["images", "-q"],
    ["images", "busybox", "--digests", "--no-trunc"],
    ["images", "--filter", "dangling=true", "-f", "reference=b*", "--format", "{{.ID}}"],
    ["inspect", "-f", "{{.State.Status}}", "a", "b"],
    ["inspect", "--type", "image", "--format={{json .Config}}", "busybox", "-s"],
]


@pytest.mark.parametrize("argv", AGREE, ids=" ".join)
def test_the_fast_parser_gives_typers_parameters(argv: list[str]) -> None:
    verb, mine = fast_params(argv)
    theirs = typer_params(argv)
    assert theirs is not None and mine is not None
    assert theirs[0] == verb or _module(theirs[0]) is _module(verb)
    assert normal(mine) == normal(theirs[1])


@pytest.mark.parametrize(("argv", "key", "value"), [
    (["run", "--rm=true", "busybox"], "rm", True),
    (["run", "--rm=false", "busybox"], "rm", False),
    (["run", "-d", "--detach=0", "busybox"], "detach", False),
    (["run", "--sig-proxy=False", "busybox"], "sig_proxy", False),
    (["exec", "--interactive=T", "ctr", "sh"], "interactive", True),
], ids=lambda v: " ".join(v) if isinstance(v, list) else str(v))
def test_booleans_take_docker_true_and_false(argv: list[str], key: str, value: bool) -> None:
    params = fast_params(argv)[1]
    assert params is not None and params[key] is value


LEFT_TO_TYPER = [
    ["run"],  # missing IMAGE: typer's message
    ["run", "--bogus", "busybox"],
    ["run", "-Z", "busybox"],
    ["run", "--rm=yes", "busybox"],  # neither Go's bool nor click's
    ["run", "--no-sig-proxy=true", "busybox"],
    ["run", "--stop-timeout", "soon", "busybox"],
    ["run", "--name"],  # the value is missing
    ["run", "--help"],
    ["exec", "ctr"],  # exec needs a command
    ["ps", "extra"],  # ps takes no arguments
    ["ps", "-n", "many"],
    ["stop", "-t"],  # the value is missing
    ["stop", "-t", "soon", "a"],
    ["wait", "--bogus", "a"],
]


@pytest.mark.parametrize("argv", LEFT_TO_TYPER, ids=" ".join)
def test_what_the_fast_parser_cannot_read_goes_to_typer(argv: list[str]) -> None:
    assert fast_params(argv)[1] is None
    assert typer_params(argv) is None  # a usage error or help, which typer prints


@pytest.mark.parametrize("argv", [
    ["image", "prune"], ["--help"], [], ["--bogus", "run", "x"], ["--root"],
    ["container", "inspect", "a"], ["container", "pull", "x"], ["network", "inspect", "n"],
    ["ls"], ["network"],
], ids=" ".join)
def test_other_commands_are_not_fast(argv: list[str]) -> None:
    assert fast.split_globals(argv) is None
    assert fast.main(argv) is None


def test_typer_sees_every_flag_of_the_tables() -> None:
    for verb in ("run", "exec", "ps", "inspect", "images", *cli_verbs.VERBS):
        module = _module(verb)
        root: Any = typer.main.get_command(fresh_app(verb))
        cmd = root.get_command(root.make_context("pyc", [verb]), verb)
        spellings = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)}
        flags = fast.tables(module, verb)[1]
        declared = {d for f in flags for d in (*f.decls, *([f.off] if f.off else []))}
        assert declared <= spellings


@pytest.mark.parametrize(("argv", "want"), [
    (["ps", "--all=true"], ["ps", "--all"]),
    (["ps", "-q", "--all=false"], ["ps", "-q"]),
    (["--root", "/r", "container", "ls", "--all=1", "--no-trunc=F"],
     ["--root", "/r", "container", "ls", "--all"]),
    (["rm", "--force=true", "a", "b"], ["rm", "--force", "a", "b"]),
    (["attach", "--sig-proxy=false", "c"], ["attach", "--no-sig-proxy", "c"]),
    (["ps", "--all=maybe"], ["ps", "--all=maybe"]),  # left for click to refuse
    (["ps", "--filter", "--all=true"], ["ps", "--filter", "--all=true"]),  # a value
    (["run", "--bogus", "img", "sh", "--rm=true"],  # the container's command is its own
     ["run", "--bogus", "img", "sh", "--rm=true"]),
    (["exec", "-i=true", "c", "--", "--rm=true"], ["exec", "-i", "c", "--", "--rm=true"]),
], ids=lambda v: " ".join(v))
def test_typer_commands_take_docker_booleans(argv: list[str], want: list[str]) -> None:
    root = typer.main.get_command(fresh_app(commands.command_name(argv)))
    assert app_module.docker_booleans(root, argv) == want
