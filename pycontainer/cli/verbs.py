"""`pyc start`, `stop`, `kill`, `restart`, `rm`, `wait`: the verbs scripts run in loops.

No typer at import: the flags are data, registered with typer by `register` and parsed
without it on the fast path (`cli/fast.py`). Each verb takes several containers and goes on
after an error, as Docker does: every failure is reported, then the exit status is 1.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from pycontainer.cli.flags import BOOL, INT, STR, Arg, Flag, GlobalOptions, typer_command
from pycontainer.errors import ContainerExit, ExitStatus, PycError, UsageError

INTERSPERSED = True
_MANY = (Arg("containers", "CONTAINER...", many=True),)
#: verb -> (positional arguments, flags)
VERBS: dict[str, tuple[tuple[Arg, ...], tuple[Flag, ...]]] = {
    "start": (_MANY, (
        Flag("attach", ("--attach", "-a"), BOOL, help="Attach STDOUT/STDERR."),
        Flag("interactive", ("--interactive", "-i"), BOOL, help="Attach STDIN."),
        Flag("detach_keys", ("--detach-keys",), STR, default="ctrl-p,ctrl-q",
             help="Detach keys."))),
    "stop": (_MANY, (
        Flag("time_", ("--time", "-t", "--timeout"), INT, help="Seconds to wait."),
        Flag("signal_", ("--signal", "-s"), STR, help="Signal to send."))),
    "kill": (_MANY, (
        Flag("signal_", ("--signal", "-s"), STR, default="KILL", help="Signal to send."),)),
    "restart": (_MANY, (
        Flag("time_", ("--time", "-t"), INT, help="Seconds to wait before killing."),)),
    "rm": ((Arg("containers", "CONTAINER...", many=True, required=False),), (
        Flag("force", ("--force", "-f"), BOOL, help="Remove running containers."),
        Flag("volumes", ("--volumes", "-v"), BOOL, help="Remove anonymous volumes."),
        Flag("all_", ("--all", "-a"), BOOL, help="Remove all containers (Podman)."))),
    "wait": (_MANY, ()),
}
HELP = {
    "start": "Start one or more stopped containers.",
    "stop": "Stop one or more running containers.",
    "kill": "Kill one or more running containers.",
    "restart": "Restart one or more containers.",
    "rm": "Remove one or more containers.",
    "wait": "Block until containers stop, then print their exit codes.",
}


def tables(verb: str) -> tuple[tuple[Arg, ...], tuple[Flag, ...]]:
    """The fast path's view of one verb: (ARGS, FLAGS)."""
    return VERBS[verb]


def each(refs: list[str], action: Callable[[str], Any], echo: bool = True) -> None:
    """Docker's multi-container verbs: go on after an error, print each ref, exit 1."""
    failed = False
    for ref in refs:
        try:
            action(ref)
        except PycError as exc:
            sys.stderr.write(f"Error response from daemon: {exc.message}\n")
            failed = True
            continue
        if echo:
            sys.stdout.write(ref + "\n")
    if failed:
        raise ExitStatus(1)


def command(params: dict[str, Any], verb: str, gopts: GlobalOptions) -> None:
    from pycontainer import paths as paths_mod
    from pycontainer.ops import lifecycle

    paths = paths_mod.resolve(gopts.root, gopts.runroot)
    refs = list(params["containers"] or [])
    p = params
    if verb == "start":
        _start(paths, refs, p)
    elif verb == "stop":
        each(refs, lambda ref: lifecycle.stop(paths, ref, p["time_"], p["signal_"]))
    elif verb == "kill":
        lifecycle.parse_signal(p["signal_"])  # a bad signal fails before any container
        each(refs, lambda ref: lifecycle.kill(paths, ref, p["signal_"]))
    elif verb == "restart":
        each(refs, lambda ref: lifecycle.restart(paths, ref, p["time_"]))
    elif verb == "rm":
        if p["all_"]:
            refs += lifecycle.store_for(paths).ids()
        elif not refs:
            raise UsageError("rm requires at least 1 argument")
        each(refs, lambda ref: lifecycle.remove(paths, ref, p["force"], p["volumes"]),
             echo=not p["all_"])
    else:  # wait
        each(refs, lambda ref: sys.stdout.write(f"{lifecycle.wait(paths, ref)}\n"),
             echo=False)


def _start(paths: Any, refs: list[str], p: dict[str, Any]) -> None:
    from pycontainer.ops import lifecycle

    if p["attach"] or p["interactive"]:
        if len(refs) != 1:
            raise UsageError("you cannot start and attach multiple containers at once")
        from pycontainer.ops import attaching

        code = attaching.start_attached(paths, refs[0], p["interactive"], p["detach_keys"])
        if code is not None:
            raise ContainerExit(code)
        return
    each(refs, lambda ref: lifecycle.start(paths, ref))


def register(app: Any, groups: dict[str, Any]) -> None:
    for verb, (args, flags) in VERBS.items():
        fn = typer_command(command, flags, args, verb, HELP[verb])
        app.command(verb)(fn)
        groups["container"].command(verb)(fn)
