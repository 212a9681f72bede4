"""`pyc start`, `stop`, `kill`, `restart`, `rm`, `wait`: the verbs scripts run in loops.

No typer at import: the flags are data, registered with typer by `register` and parsed
without it on the fast path (`cli/fast.py`). Each verb takes several containers and goes on
after an error, as Docker does: every failure is reported, then the exit status is 1.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pycontainer.cli.flags import BOOL, INT, LIST, STR, Arg, Flag, GlobalOptions, typer_command
from pycontainer.errors import ContainerExit, ExitStatus, PycError, UsageError

if TYPE_CHECKING:
    from types import ModuleType

    import typer

    from pycontainer.paths import Paths

INTERSPERSED = True
_MANY = (Arg("containers", "CONTAINER...", many=True),)
#: verb -> (positional arguments, flags)
_ANY = (Arg("containers", "CONTAINER...", many=True, required=False),)
_ALL = Flag("all_", ("--all", "-a"), BOOL, help="Act on all containers (Podman).")
_FILTER = Flag("filter_", ("--filter", "-f"), LIST, help="Act on the containers ps lists "
               "with these filters (Podman).")
_FILTER_LONG = Flag("filter_", ("--filter",), LIST, help=_FILTER.help)
_IGNORE = Flag("ignore", ("--ignore", "-i"), BOOL,
               help="No error for a missing container (Podman).")
#: verb -> (positional arguments, flags)
VERBS: dict[str, tuple[tuple[Arg, ...], tuple[Flag, ...]]] = {
    "start": (_ANY, (
        Flag("attach", ("--attach", "-a"), BOOL, help="Attach STDOUT/STDERR."),
        Flag("interactive", ("--interactive", "-i"), BOOL, help="Attach STDIN."),
        Flag("detach_keys", ("--detach-keys",), STR, default="ctrl-p,ctrl-q",
             help="Detach keys."),
        Flag("all_", ("--all",), BOOL, help=_ALL.help), _FILTER)),
    "stop": (_ANY, (
        Flag("time_", ("--time", "-t", "--timeout"), INT, help="Seconds to wait."),
        Flag("signal_", ("--signal", "-s"), STR, help="Signal to send."),
        _ALL, _FILTER, _IGNORE)),
    "kill": (_ANY, (
        Flag("signal_", ("--signal", "-s"), STR, default="KILL", help="Signal to send."),
        _ALL, _FILTER_LONG)),
    "restart": (_ANY, (
        Flag("time_", ("--time", "-t"), INT, help="Seconds to wait before killing."),
        _ALL, _FILTER)),
    "rm": (_ANY, (
        Flag("force", ("--force", "-f"), BOOL, help="Remove running containers."),
        Flag("volumes", ("--volumes", "-v"), BOOL, help="Remove anonymous volumes."),
        Flag("all_", ("--all", "-a"), BOOL, help="Remove all containers (Podman)."),
        _FILTER_LONG, _IGNORE,
        Flag("time_", ("--time", "-t"), INT, help="Seconds to wait before killing (Podman)."),
        Flag("depend", ("--depend",), BOOL,
             help="Also remove the containers that depend on it (Podman)."))),
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


def each(refs: list[str], action: Callable[[str], object], echo: bool = True,
         ignore: bool = False, missing_ok: bool = False) -> None:
    """Docker's multi-container verbs: go on after an error, print each ref, exit 1.
    `ignore` (Podman's `-i`): a missing container is no error at all; `missing_ok`
    (Docker's `rm -f`): reported, yet no failure."""
    from pycontainer.errors import ContainerNotFound

    failed = False
    for ref in refs:
        try:
            action(ref)
        except ContainerNotFound as exc:
            if not ignore:
                sys.stderr.write(f"Error response from daemon: {exc.message}\n")
                failed = failed or not missing_ok
            continue
        except PycError as exc:
            sys.stderr.write(f"Error response from daemon: {exc.message}\n")
            failed = True
            continue
        if echo:
            sys.stdout.write(ref + "\n")
    if failed:
        raise ExitStatus(1)


def targets(paths: Paths, verb: str, refs: list[str], p: dict[str, Any]) -> list[str]:
    """The containers named, or Podman's `--all` / `--filter` selection (full ids)."""
    from pycontainer.ops import selection

    chosen = bool(p.get("all_") or p.get("filter_"))
    if chosen and refs:
        raise UsageError("no arguments are needed with --all" if p.get("all_")
                         else "--filter takes no arguments")
    if chosen:
        return selection.select(paths, verb, [] if p.get("all_") else p["filter_"])
    if not refs:
        raise UsageError(f"{verb} requires at least 1 argument")
    return refs


def command(params: dict[str, Any], verb: str, gopts: GlobalOptions) -> None:
    from pycontainer import paths as paths_mod
    from pycontainer.ops import lifecycle

    paths = paths_mod.resolve(gopts.root, gopts.runroot)
    p = params
    refs = list(p["containers"] or [])
    if verb != "wait":
        refs = targets(paths, verb, refs, p)
    if verb == "start":
        _start(paths, refs, p)
    elif verb == "stop":
        each(refs, lambda ref: lifecycle.stop(paths, ref, p["time_"], p["signal_"]),
             ignore=p["ignore"])
    elif verb == "kill":
        lifecycle.parse_signal(p["signal_"])  # a bad signal fails before any container
        each(refs, lambda ref: lifecycle.kill(paths, ref, p["signal_"]))
    elif verb == "restart":
        each(refs, lambda ref: lifecycle.restart(paths, ref, p["time_"]))
    elif verb == "rm":
        _rm(paths, refs, p)
    else:  # wait
        each(refs, lambda ref: sys.stdout.write(f"{lifecycle.wait(paths, ref)}\n"),
             echo=False)


def _rm(paths: Paths, refs: list[str], p: dict[str, Any]) -> None:
    from pycontainer.ops import lifecycle, selection

    if p["time_"] is not None and not p["force"]:  # Podman's rule
        raise UsageError("--force option must be specified to use the --time option")
    timeout = p["time_"]

    def remove(ref: str) -> None:
        if p["force"] and timeout:  # Podman: a graceful stop first, killed after --time
            _stop_quietly(paths, ref, timeout)
        lifecycle.remove(paths, ref, p["force"], p["volumes"])

    if p["depend"]:
        refs = _with_dependents(paths, refs, selection)
    # Docker (20.10+): with -f a missing container is reported, yet no failure
    each(refs, remove, ignore=p["ignore"], missing_ok=p["force"])


def _with_dependents(paths: Paths, refs: list[str], selection: ModuleType) -> list[str]:
    from pycontainer.ops import lifecycle

    store = lifecycle.store_for(paths)
    out: list[str] = []
    for ref in refs:
        try:
            cid = store.resolve(ref)
        except PycError:
            out.append(ref)  # reported by the removal
            continue
        out += [d for d in selection.dependents(paths, cid) if d not in out]
        out.append(cid)  # Podman prints the ids of all it removes
    return out


def _stop_quietly(paths: Paths, ref: str, timeout: int) -> None:
    import contextlib

    from pycontainer.ops import lifecycle

    with contextlib.suppress(PycError):  # the removal reports what is wrong with it
        lifecycle.stop(paths, ref, timeout)


def _start(paths: Paths, refs: list[str], p: dict[str, Any]) -> None:
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


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    for verb, (args, flags) in VERBS.items():
        fn = typer_command(command, flags, args, verb, HELP[verb])
        app.command(verb)(fn)
        groups["container"].command(verb)(fn)
