"""`pyc version` and `pyc info` (`pyc system info`): start-up cost scripts pay in loops.

No typer at import: the flags are data, registered with typer by `cli/system.py` and parsed
without it on the fast path (`cli/fast.py`).
"""

from __future__ import annotations

import sys
from typing import Any

from pycontainer.cli.flags import STR, Arg, Flag, GlobalOptions

INTERSPERSED = True
_FORMAT = (Flag("fmt", ("--format", "-f"), STR, help="json or a Go template."),)
#: verb -> (positional arguments, flags, help)
VERBS: dict[str, tuple[tuple[Arg, ...], tuple[Flag, ...], str]] = {
    "version": ((), _FORMAT, "Show the pyc version."),
    "info": ((), _FORMAT, "Show how pyc sees this host: ids, storage, cgroups, networking "
             "helpers."),
}


def tables(verb: str) -> tuple[tuple[Arg, ...], tuple[Flag, ...]]:
    """The fast path's view of one verb: (ARGS, FLAGS)."""
    return VERBS[verb][:2]


def version(params: dict[str, Any], gopts: GlobalOptions) -> None:
    from pycontainer.ops.version import version_report

    fmt = params["fmt"]
    report = version_report()
    if fmt:
        from pycontainer.cli.output import format_one

        sys.stdout.write(format_one(report, fmt) + "\n")
        return
    c, e = report["Client"], report["Server"]
    client = [("Version", c["Version"]), ("API version", c["ApiVersion"]),
              ("Python version", c["PythonVersion"]), ("OS/Arch", f"{c['Os']}/{c['Arch']}"),
              ("Rootless", str(c["Rootless"]).lower())]
    engine = [("Version", e["Version"]), ("API version", e["ApiVersion"]),
              ("Kernel", e["KernelVersion"]), ("OS/Arch", f"{e['Os']}/{e['Arch']}")]
    # Docker's layout: both halves, though here they are one program (no daemon)
    out = ["Client: pyc", *(f" {k + ':':<19}{v}" for k, v in client), "",
           f"Server: {e['Platform']['Name']}", " Engine:",
           *(f"  {k + ':':<18}{v}" for k, v in engine)]
    sys.stdout.write("\n".join(out) + "\n")


def info(params: dict[str, Any], gopts: GlobalOptions) -> None:
    from pycontainer import paths
    from pycontainer.cli.output import format_one, print_json
    from pycontainer.ops import system

    fmt = params["fmt"]
    store = paths.resolve(gopts.root, gopts.runroot)
    report = system.info_report(store)
    if fmt:  # Docker's fields too, for `{{.ServerVersion}}` and friends
        report = {**system.docker_info(store, report), **report}
        if fmt.strip() == "json":
            print_json(report)
        else:
            sys.stdout.write(format_one(report, fmt) + "\n")
        return
    _print_tree(report, 0)


def _print_tree(value: object, depth: int) -> None:
    pad = "  " * depth
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                sys.stdout.write(f"{pad}{key}:\n")
                _print_tree(item, depth + 1)
            else:
                shown = "" if item in ({}, []) else item
                sys.stdout.write(f"{pad}{key}: {shown}\n")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                sys.stdout.write(f"{pad}- " + ", ".join(f"{k}: {v}" for k, v in item.items())
                                 + "\n")
            else:
                sys.stdout.write(f"{pad}- {item}\n")


def command(params: dict[str, Any], verb: str, gopts: GlobalOptions) -> None:
    (version if verb == "version" else info)(params, gopts)
