"""`pyc logs`, `pyc top` and `pyc port`: container commands scripts run in loops.

No typer at import: the flags are data, registered with typer by `cli/containers.py` and
parsed without it on the fast path (`cli/fast.py`).
"""

from __future__ import annotations

import sys
from typing import Any

from pycontainer.cli.flags import BOOL, STR, Arg, Flag, GlobalOptions
from pycontainer.errors import UsageError

INTERSPERSED = True
LOGS_FLAGS = (
    Flag("follow", ("--follow", "-f"), BOOL, help="Follow log output."),
    Flag("tail", ("--tail", "-n"), STR, default="all", help="Lines from the end (or all)."),
    Flag("since", ("--since",), STR, default="", help="Since a timestamp or a duration (10m)."),
    Flag("until", ("--until",), STR, default="", help="Until a timestamp or a duration."),
    Flag("timestamps", ("--timestamps", "-t"), BOOL, help="Show timestamps."),
    Flag("details", ("--details",), BOOL, help="Show extra attributes (labels, env)."),
)
_CONTAINER = Arg("container", "CONTAINER")
#: verb -> (positional arguments, flags, help)
VERBS: dict[str, tuple[tuple[Arg, ...], tuple[Flag, ...], str]] = {
    "logs": ((_CONTAINER,), LOGS_FLAGS, "Fetch the logs of a container."),
    "top": ((_CONTAINER, Arg("ps_args", "[ps OPTIONS]", many=True, required=False)), (),
            "Display the running processes of a container."),
    "port": ((_CONTAINER, Arg("private_port", "[PRIVATE_PORT[/PROTO]]", required=False)), (),
             "List port mappings or a specific mapping for the container."),
}


def tables(verb: str) -> tuple[tuple[Arg, ...], tuple[Flag, ...]]:
    """The fast path's view of one verb: (ARGS, FLAGS)."""
    return VERBS[verb][:2]


def logs(params: dict[str, Any], gopts: GlobalOptions) -> None:
    import os

    from pycontainer import paths
    from pycontainer.ops import logs as ops_logs

    p = params
    tail = p["tail"]
    if tail != "all" and not tail.lstrip("-").isdigit():
        raise UsageError(f"invalid --tail value {tail!r}")
    if p["follow"]:  # may run for hours: the collector the fast path left off is needed
        import gc

        gc.freeze()
        gc.enable()
    opts = ops_logs.LogsOptions(p["follow"], -1 if tail == "all" else int(tail), p["since"],
                                p["until"], p["timestamps"], p["details"])
    try:
        for line in ops_logs.read(paths.resolve(gopts.root, gopts.runroot), p["container"],
                                  opts):
            text = ops_logs.details(line) + line.text if p["details"] else line.text
            text = f"{line.time} {text}" if p["timestamps"] else text
            os.write(2 if line.stream == "stderr" else 1, text.encode())
    except KeyboardInterrupt:
        return


def top(params: dict[str, Any], gopts: GlobalOptions) -> None:
    from pycontainer import paths
    from pycontainer.ops import top as ops_top

    sys.stdout.write(ops_top.top(paths.resolve(gopts.root, gopts.runroot), params["container"],
                                 list(params["ps_args"] or [])))


def port(params: dict[str, Any], gopts: GlobalOptions) -> None:
    from pycontainer import paths
    from pycontainer.ops import netviews

    lines = netviews.port_lines(paths.resolve(gopts.root, gopts.runroot), params["container"],
                                params["private_port"])
    sys.stdout.write("".join(line + "\n" for line in lines))


def command(params: dict[str, Any], verb: str, gopts: GlobalOptions) -> None:
    {"logs": logs, "top": top, "port": port}[verb](params, gopts)
