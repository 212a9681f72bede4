"""`pyc exec`: run a command in a running container; options after CONTAINER are the command's.

No typer at import: the flags are data, registered with typer by `register` and parsed
without it on the fast path (`cli/fast.py`).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from pycontainer.cli.flags import BOOL, LIST, STR, Arg, Flag, GlobalOptions, typer_command

if TYPE_CHECKING:
    import typer

INTERSPERSED = False
ARGS = (Arg("container", "CONTAINER"), Arg("command", "COMMAND [ARG...]", many=True))
FLAGS = (
    Flag("interactive", ("--interactive", "-i"), BOOL, help="Keep STDIN open."),
    Flag("tty", ("--tty", "-t"), BOOL, help="Allocate a pseudo-TTY."),
    Flag("detach", ("--detach", "-d"), BOOL, help="Run in the background."),
    Flag("env", ("--env", "-e"), LIST, help="Set environment variables."),
    Flag("workdir", ("--workdir", "-w"), STR, help="Working directory."),
    Flag("user", ("--user", "-u"), STR, help="name|uid[:group|gid]"),
    Flag("privileged", ("--privileged",), BOOL, help="Extended privileges."),
    Flag("detach_keys", ("--detach-keys",), STR, default="ctrl-p,ctrl-q", help="Detach keys."),
)
CONTEXT = {"allow_interspersed_args": False, "help_option_names": ["--help"]}


def command(params: dict[str, Any], verb: str, gopts: GlobalOptions) -> None:
    from pycontainer import paths
    from pycontainer.errors import ContainerExit
    from pycontainer.ops import exec as ops_exec

    p = params
    opts = ops_exec.ExecOptions(list(p["command"]), p["interactive"], p["tty"], p["detach"],
                                list(p["env"]), p["workdir"], p["user"], p["privileged"],
                                p["detach_keys"])
    code = ops_exec.exec_in(paths.resolve(gopts.root, gopts.runroot), p["container"], opts)
    if code is not None:
        sys.stdout.flush()
        raise ContainerExit(code)


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    fn = typer_command(command, FLAGS, ARGS, "exec", "Execute a command in a running container.")
    app.command("exec", context_settings=CONTEXT)(fn)
    groups["container"].command("exec", context_settings=CONTEXT)(fn)
