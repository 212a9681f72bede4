"""The `pyc` command: Docker's command tree on typer, for every command line the fast path
(`cli/fast.py`) leaves to it: help, usage errors, the less frequent commands.

Exit codes follow `docker run`: 125 when pyc itself fails (including a bad or unknown flag),
126 when the container's command cannot be invoked, 127 when it is not found, otherwise the
container's own status; `cli/exits.py` maps pyc's errors to them for both paths.
"""

from __future__ import annotations

import sys
from typing import Any

import typer

from pycontainer import errors
from pycontainer.cli import exits
from pycontainer.cli.flags import GlobalOptions

try:  # newer typer vendors click
    from typer._click import exceptions as click_exc
except ImportError:  # pragma: no cover - older typer depends on click
    import click.exceptions as click_exc  # type: ignore[no-redef,unused-ignore]


CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

app = typer.Typer(
    name="pyc",
    help="pyc: a rootless, daemonless container engine with Docker's command line.",
    add_completion=False,
    no_args_is_help=True,
    context_settings=CONTEXT,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _global(
    ctx: typer.Context,
    root: str = typer.Option(None, "--root", help="Storage root (images, containers, volumes)."),
    runroot: str = typer.Option(None, "--runroot", help="Root of volatile runtime state."),
    log_level: str = typer.Option("warning", "--log-level", help="debug, info, warning, error."),
) -> None:
    ctx.obj = GlobalOptions(root=root, runroot=runroot, log_level=log_level)


def _register(args: list[str]) -> None:
    from pycontainer.cli import commands

    commands.register(app, commands.command_name(args))


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return the exit status (the console script exits with it). Without
    `argv` (the console script, the zipapp, `python -m pycontainer`) this process is the
    command: it exits here, skipping the interpreter's teardown where that is safe."""
    if argv is None:
        import gc

        args = sys.argv[1:]
        # A short command allocates much (imports, typer's tree) and frees little: the
        # collector's passes are ~5 ms of `pyc run`. Long-lived loops turn it back on
        # (ops.attach.pump, the supervisor); pycontainer.__main__ had it off for the imports.
        if _short_lived(args):
            gc.disable()
        else:
            gc.freeze()  # what loading made lives to the end: no collection need walk it
            gc.enable()
        exits.exit_now(_main(args))
    return _main(argv)


#: the hot, short commands that run with the cyclic garbage collector off
_SHORT = frozenset(("run", "create", "start", "exec", "ps", "stop", "kill", "rm", "inspect",
                    "port", "rename", "version", "images"))


def _short_lived(args: list[str]) -> bool:
    from pycontainer.cli.commands import command_name

    return command_name(args) in _SHORT


def _main(args: list[str]) -> int:
    key = None
    if args[-1:] == ["--help"]:
        from pycontainer.cli import helpcache

        key = helpcache.request(args)
    if key is None or not _command_path(key.split()):
        return _run(args)
    import io

    real, sys.stdout = sys.stdout, io.StringIO()
    try:
        code = _run(args)
    finally:
        text, sys.stdout = sys.stdout.getvalue(), real
    sys.stdout.write(text)
    if code == 0 and text:  # the help itself: printed from the cache the next time
        helpcache.store(key, text, typer.__file__)
    return code


def _command_path(words: list[str]) -> bool:
    """Whether `pyc WORDS --help` is a command's help: not `pyc run IMAGE --help`, whose
    --help is the container's."""
    from pycontainer.cli import commands

    return not words or (words[0] in commands.INDEX and
                         (len(words) == 1 or words[0] in commands.GROUPS))


def _run(args: list[str]) -> int:
    _register(args)
    from pycontainer.cli import group_help

    if group_help.is_listing(args):  # names and first lines only: no command's signature
        group_help.stub_commands(app)
    command = typer.main.get_command(app)
    try:
        if "build" in args:  # Podman's --pull=VALUE beside Docker's boolean --pull
            from pycontainer.cli.build import rewrite_pull

            args = rewrite_pull(args)
        args = docker_booleans(command, args)
        result = command.main(args=args, prog_name="pyc", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except click_exc.UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # help was printed: not an error
            sys.stdout.write(exc.format_message().rstrip() + "\n")
            return 0
        exits.print_error(exc.format_message())
        return 125
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        return 130
    except (errors.ExitStatus, errors.PycError, KeyboardInterrupt, OSError) as exc:
        code = exits.status_of(exc)
        if code is None:  # an OSError without an errno: a bug to see in full
            raise
        return code


def docker_booleans(root: Any, args: list[str]) -> list[str]:
    """Docker's (Go's) `--all=true` / `--force=false` for click's value-less flags: the
    leaf command's boolean options rewritten to their bare (or `--no-`) spelling. Only its
    own options: not what follows `--` or a command's arguments (`run IMAGE CMD...`)."""
    from pycontainer.cli.flags import go_bool

    cmd, start = root, len(args)
    for i, arg in enumerate(args):  # down the command path: `pyc [opts] container ls ...`
        if arg.startswith("-") or (i and _takes_value(cmd, args[i - 1])):
            continue
        sub = cmd.get_command(None, arg) if hasattr(cmd, "get_command") else None
        if sub is None:
            break
        cmd, start = sub, i + 1
    flags = {o: p for p in cmd.params if getattr(p, "is_flag", False) for o in p.opts}
    interspersed = cmd.context_settings.get("allow_interspersed_args",
                                            cmd.allow_interspersed_args)
    out = args[:start]
    for i in range(start, len(args)):
        arg = args[i]
        if _takes_value(cmd, args[i - 1]):
            out.append(arg)
            continue
        if arg == "--" or (not arg.startswith("-") and not interspersed):
            return out + args[i:]
        name, eq, value = arg.partition("=")
        truth = go_bool(value) if eq and name in flags else None
        if truth is None:
            out.append(arg)
        elif truth:
            out.append(name)
        elif flags[name].secondary_opts:
            out.append(flags[name].secondary_opts[0])
        elif flags[name].default:
            # on by default with no way to turn it off (`--disable-content-trust=false`:
            # pyc has no content trust): refused, never dropped as if it were not given
            raise errors.UsageError(f"{arg} is not supported")
        # `--flag=false` of a flag that is off by default: not given
    return out


def _takes_value(cmd: Any, arg: str) -> bool:
    return any(arg in p.opts and not getattr(p, "is_flag", True) for p in cmd.params
               if getattr(p, "opts", None) and p.param_type_name == "option")


def run() -> None:
    sys.exit(main())
