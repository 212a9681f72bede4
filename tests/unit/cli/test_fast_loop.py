"""The commands scripts run in loops (logs, top, port, pull, tag, rmi, history, image inspect,
version, info, network ls|create, volume ls|create) on the fast path: it reads each argument
list as typer does (the same parameters), or leaves it to typer; typer registers them from
the same flag tables."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
import typer

from pycontainer.cli import app as app_module
from pycontainer.cli import commands, fast
from pycontainer.cli.flags import flag_values

try:
    from typer._click import exceptions as click_exc
except ImportError:  # pragma: no cover
    import click.exceptions as click_exc  # type: ignore[no-redef]


def fresh_root(argv: list[str]) -> Any:
    app = typer.Typer(context_settings=app_module.CONTEXT, rich_markup_mode=None)
    app.callback()(app_module._global)
    commands.register(app, commands.command_name(argv))
    return typer.main.get_command(app)


def typer_params(argv: list[str]) -> tuple[str, Any, dict[str, Any]] | None:
    """(verb, click command, ctx.params) as typer parses `pyc ARGV`; None: a usage error."""
    cmd: Any = fresh_root(argv)
    try:
        ctx = cmd.make_context("pyc", list(argv))
        rest = ctx._protected_args + ctx.args
        while True:  # down the groups: `pyc network ls ...`
            name, cmd, rest = ctx.command.resolve_command(ctx, rest)
            ctx = cmd.make_context(name, rest, parent=ctx)
            if not hasattr(cmd, "resolve_command"):
                return name, cmd, ctx.params
            rest = ctx._protected_args + ctx.args
    except (click_exc.UsageError, typer.Exit):  # --help raises typer.Exit
        return None


def fast_params(argv: list[str]) -> tuple[str, dict[str, Any] | None]:
    split = fast.split_globals(argv)
    assert split is not None, argv
    _, name, verb, rest = split
    module: Any = importlib.import_module(name)
    positional, flags = fast.tables(module, verb)
    return verb, flag_values(rest, flags, positional, module.INTERSPERSED)


def normal(params: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple | list) else v for k, v in params.items()}


AGREE = [
    ["logs", "c"],
    ["logs", "-f", "--tail", "5", "-t", "c"],
    ["logs", "c", "-n", "all", "--since=10m", "--until", "2026-01-01T00:00:00Z", "--details"],
    ["container", "logs", "-ft", "c"],
    ["top", "c"],
    ["top", "c", "aux"],
    ["container", "top", "c", "pid,comm"],
    ["port", "c"],
    ["port", "c", "80/tcp"],
    ["container", "port", "c", "80"],
    ["pull", "busybox"],
    ["pull", "-q", "--tls-verify=false", "--platform", "linux/amd64", "busybox"],
    ["pull", "-aq", "--authfile", "/a.json", "busybox"],
    ["pull", "--disable-content-trust", "busybox"],
    ["pull", "--no-disable-content-trust", "busybox"],
    ["image", "pull", "--quiet", "busybox"],
    ["tag", "busybox", "b:1"],
    ["tag", "busybox", "b:1", "b:2"],
    ["image", "tag", "busybox", "b:1"],
    ["rmi", "a"],
    ["rmi", "-f", "a", "b"],
    ["rmi", "--all", "--force", "--no-prune"],
    ["rmi", "-fi", "a"],
    ["image", "rm", "-f", "a"],
    ["history", "busybox"],
    ["history", "-H", "--no-trunc", "-q", "busybox"],
    ["history", "--format", "{{.ID}}", "busybox"],
    ["image", "history", "busybox"],
    ["image", "inspect", "busybox"],
    ["image", "inspect", "-f", "{{.Id}}", "a", "b"],
    ["image", "inspect", "--format={{json .Config}}", "busybox"],
    ["image", "ls", "-q"],
    ["image", "list", "--digests"],
    ["version"],
    ["version", "-f", "{{.Client.Version}}"],
    ["version", "--format=json"],
    ["info"],
    ["info", "--format", "{{.Host.Rootless}}"],
    ["system", "info", "-f", "json"],
    ["network", "ls"],
    ["network", "ls", "-q", "--no-trunc"],
    ["network", "ls", "--filter", "name=a", "-f", "driver=bridge", "--format", "{{.Name}}"],
    ["network", "list", "-q"],
    ["network", "create", "n"],
    ["network", "create", "-d", "bridge", "--subnet", "10.9.0.0/24", "--gateway=10.9.0.1",
     "--internal", "--label", "a=b", "n"],
    ["network", "create", "n", "--opt", "x=y", "--ipv6", "--ip-range", "r", "--attachable"],
    ["network", "create", "--ipam-driver", "x", "--scope", "local", "--config-only", "n"],
    ["--root", "/r", "network", "create", "--config-from", "o", "--ingress", "n"],
    ["volume", "ls"],
    ["volume", "ls", "-q", "-f", "dangling=true", "--format", "json"],
    ["volume", "list", "--quiet"],
    ["volume", "create"],
    ["volume", "create", "v"],
    ["volume", "create", "-d", "local", "--label", "a", "-o", "type=tmpfs", "--opt=o=size=1m",
     "v"],
    ["volume", "create", "--name", "v"],
    ["--runroot=/rr", "volume", "create", "--driver=local"],
]


@pytest.mark.parametrize("argv", AGREE, ids=" ".join)
def test_the_fast_parser_gives_typers_parameters(argv: list[str]) -> None:
    verb, mine = fast_params(argv)
    theirs = typer_params(argv)
    assert theirs is not None and mine is not None
    assert theirs[0] == verb
    assert normal(mine) == normal(theirs[2])


@pytest.mark.parametrize(("argv", "key", "value"), [
    (["logs", "--follow=true", "c"], "follow", True),
    (["network", "ls", "--quiet=false"], "quiet", False),
    (["rmi", "--force=1", "a"], "force", True),
    (["pull", "--disable-content-trust=false", "busybox"], "content_trust", False),
], ids=lambda v: " ".join(v) if isinstance(v, list) else str(v))
def test_booleans_take_docker_true_and_false(argv: list[str], key: str, value: bool) -> None:
    params = fast_params(argv)[1]
    assert params is not None and params[key] is value


LEFT_TO_TYPER = [
    ["logs"],  # CONTAINER is missing
    ["logs", "c", "d"],  # one container only
    ["logs", "--bogus", "c"],
    ["logs", "--tail"],
    ["top"],
    ["top", "c", "-ef"],  # ps options with a dash: click's "No such option", as before
    ["port"],
    ["port", "c", "80", "81"],
    ["pull"],
    ["pull", "--help"],
    ["pull", "--all-tags=maybe", "busybox"],
    ["tag", "busybox"],  # a target is missing
    ["history"],
    ["history", "-x", "busybox"],
    ["image", "inspect"],
    ["version", "extra"],
    ["version", "--format"],
    ["info", "-h"],
    ["network", "ls", "extra"],
    ["network", "ls", "--bogus"],
    ["network", "create"],  # NETWORK is missing
    ["network", "create", "a", "b"],
    ["volume", "ls", "--help"],
    ["volume", "create", "a", "b"],
]


@pytest.mark.parametrize("argv", LEFT_TO_TYPER, ids=" ".join)
def test_what_the_fast_parser_cannot_read_goes_to_typer(argv: list[str]) -> None:
    assert fast_params(argv)[1] is None
    assert typer_params(argv) is None  # a usage error or help, which typer prints


def test_history_human_false_is_read_by_both_parsers() -> None:
    # Docker's `--human=false` turns the default-true flag off (typer: `--no-human`)
    params = fast_params(["history", "--human=false", "busybox"])[1]
    assert params is not None and params["human"] is False
    typed = typer_params(["history", "--no-human", "busybox"])
    assert typed is not None and typed[2]["human"] is False


def test_a_default_true_flag_that_cannot_be_turned_off_is_refused() -> None:
    from pycontainer import errors
    from pycontainer.cli.app import docker_booleans

    app = typer.Typer()

    @app.command("cmd")
    def cmd(on: bool = typer.Option(True, "--on"), off: bool = typer.Option(False, "--off"),
            ) -> None:
        pass

    @app.command("other")
    def other() -> None:
        pass

    root: Any = typer.main.get_command(app)
    with pytest.raises(errors.UsageError, match="--on=false"):
        docker_booleans(root, ["cmd", "--on=false"])
    assert docker_booleans(root, ["cmd", "--on=true", "--off=false"]) == ["cmd", "--on"]
    # the history flag that used to be dropped this way now has its `--no-` spelling
    assert docker_booleans(fresh_root(["history"]), ["history", "--human=false", "x"]) == [
        "history", "--no-human", "x"]


def _fast_words() -> list[list[str]]:
    words = [[w] for w, m in fast.FAST.items() if "_fast" in m]
    return words + [[g, w] for g, table in fast.GROUPS.items() for w in table]


@pytest.mark.parametrize("words", _fast_words(), ids=" ".join)
def test_typer_registers_each_fast_command_with_the_same_flags(words: list[str]) -> None:
    split = fast.split_globals(words)
    assert split is not None
    _, name, verb, _ = split
    positional, flags = fast.tables(importlib.import_module(name), verb)
    cmd: Any = fresh_root(words)
    ctx = cmd.make_context("pyc", list(words), resilient_parsing=True)
    for word in words:
        cmd = cmd.get_command(ctx, word)
        assert cmd is not None, words
    spellings = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)
                 if p.param_type_name == "option"}
    declared = {d for f in flags for d in (*f.decls, *([f.off] if f.off else []))}
    assert declared == spellings
    assert [p.name for p in cmd.params if p.param_type_name == "argument"] == \
        [a.name for a in positional]
