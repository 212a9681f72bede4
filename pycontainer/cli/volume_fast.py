"""`pyc volume create` and `pyc volume ls`: the volume commands scripts run in loops.

No typer at import: the flags are data, registered with typer by `cli/volumes.py` and parsed
without it on the fast path (`cli/fast.py`).
"""

from __future__ import annotations

import sys
from typing import Any

from pycontainer.cli.flags import BOOL, LIST, STR, Arg, Flag, GlobalOptions
from pycontainer.errors import UsageError

INTERSPERSED = True
VOLUME_TABLE = "table {{.Driver}}\t{{.Name}}"
VOLUME_HEADERS = {"Name": "VOLUME NAME", "Driver": "DRIVER", "Scope": "SCOPE",
                  "Mountpoint": "MOUNTPOINT", "Labels": "LABELS", "Links": "LINKS",
                  "Size": "SIZE", "Group": "GROUP", "Availability": "AVAILABILITY",
                  "Status": "STATUS", "ID": "ID"}

CREATE_FLAGS = (
    Flag("driver", ("--driver", "-d"), STR, default="local", help="Volume driver (local)."),
    Flag("label", ("--label",), LIST, help="Set metadata for a volume."),
    Flag("opt", ("--opt", "-o"), LIST, help="Driver options: type, device, o."),
    Flag("name_opt", ("--name",), STR, hidden=True),
)
LS_FLAGS = (
    Flag("quiet", ("--quiet", "-q"), BOOL, help="Only display volume names."),
    Flag("filters", ("--filter", "-f"), LIST, help="dangling=, driver=, label=, name="),
    Flag("fmt", ("--format",), STR, help="table, json or a Go template."),
)
#: verb -> (positional arguments, flags, help)
VERBS: dict[str, tuple[tuple[Arg, ...], tuple[Flag, ...], str]] = {
    "create": ((Arg("name", "VOLUME", required=False),), CREATE_FLAGS, "Create a volume."),
    "ls": ((), LS_FLAGS, "List volumes."),
}
VERBS["list"] = VERBS["ls"]


def tables(verb: str) -> tuple[tuple[Arg, ...], tuple[Flag, ...]]:
    """The fast path's view of one verb: (ARGS, FLAGS)."""
    return VERBS[verb][:2]


def parse_key_values(values: list[str], what: str) -> dict[str, str]:
    """Repeated `--label k=v` / `--opt k=v` (a bare `k` is `k=""`, as Docker's labels)."""
    out: dict[str, str] = {}
    for item in values:
        key, _, value = item.partition("=")
        if not key.strip():
            raise UsageError(f"invalid {what} '{item}': empty name")
        out[key] = value
    return out


def create(params: dict[str, Any], gopts: GlobalOptions) -> None:
    from pycontainer import paths
    from pycontainer.ops import volumes as ops_volumes

    name, name_opt = params["name"], params["name_opt"]
    if name and name_opt:
        raise UsageError("conflicting options: cannot specify a volume-name through both "
                         "--name and as a positional arg")
    vol = ops_volumes.create(paths.resolve(gopts.root, gopts.runroot),
                             name or name_opt or None,
                             parse_key_values(list(params["label"]), "label"),
                             parse_key_values(list(params["opt"]), "option"), params["driver"])
    sys.stdout.write(vol.name + "\n")


def _row(obj: dict[str, Any]) -> dict[str, Any]:
    labels = obj.get("Labels") or {}
    return {
        "Name": obj["Name"], "Driver": obj["Driver"], "Scope": obj["Scope"],
        "Mountpoint": obj["Mountpoint"],
        "Labels": ",".join(f"{k}={v}" for k, v in labels.items()),
        "Label": lambda key: labels.get(key, ""),
        "Links": "N/A", "Size": "N/A", "Group": "N/A", "Availability": "N/A", "Status": "N/A",
    }


def ls(params: dict[str, Any], gopts: GlobalOptions) -> None:
    from pycontainer import paths
    from pycontainer.cli.output import render_table
    from pycontainer.ops import volumes as ops_volumes

    fmt = params["fmt"]
    objs = ops_volumes.list_volumes(paths.resolve(gopts.root, gopts.runroot),
                                    list(params["filters"]))
    if params["quiet"] and (not fmt or fmt.strip() == "table"):
        sys.stdout.write("".join(o["Name"] + "\n" for o in objs))
        return
    sys.stdout.write(render_table([_row(o) for o in objs], fmt, VOLUME_TABLE, VOLUME_HEADERS))


def command(params: dict[str, Any], verb: str, gopts: GlobalOptions) -> None:
    (create if verb == "create" else ls)(params, gopts)
