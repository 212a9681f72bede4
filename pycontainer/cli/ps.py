"""`pyc ps` / `pyc container ls`: Docker's table of containers, its filters and templates.

No typer at import: the flags are data, registered with typer by `register` and parsed
without it on the fast path (`cli/fast.py`): `ps` is in most scripts' loops.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from pycontainer.cli.flags import BOOL, INT, LIST, STR, Flag, GlobalOptions, typer_command

if TYPE_CHECKING:
    import typer

    from pycontainer.ops.ps import PsEntry

INTERSPERSED = True
ARGS = ()
FLAGS = (
    Flag("all_", ("--all", "-a"), BOOL, help="Show all containers."),
    Flag("quiet", ("--quiet", "-q"), BOOL, help="Only display container IDs."),
    Flag("last", ("--last", "-n"), INT, default=-1, help="Show n last created containers."),
    Flag("latest", ("--latest", "-l"), BOOL, help="Show the latest created."),
    Flag("size", ("--size", "-s"), BOOL, help="Display total file sizes."),
    Flag("no_trunc", ("--no-trunc",), BOOL, help="Don't truncate output."),
    Flag("filter_", ("--filter", "-f"), LIST,
         help="Filter: status=, name=, label=, ancestor=, id=, exited="),
    Flag("fmt", ("--format",), STR, help="table, json or a Go template."),
    Flag("noheading", ("--noheading",), BOOL, help="No header line (Podman)."),
    Flag("pod", ("--pod", "-p"), BOOL, help="Show the pod of each container (Podman)."),
    Flag("sort", ("--sort",), STR, help="Sort by command, created, id, image, names, "
         "runningfor, size or status (Podman)."),
)

PS_DEFAULT = ("table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t"
              "{{.Ports}}\t{{.Names}}")
PS_HEADERS = {"ID": "CONTAINER ID", "RunningFor": "CREATED", "Names": "NAMES",
              "CreatedAt": "CREATED AT", "LocalVolumes": "LOCAL VOLUMES", "Pod": "POD ID",
              "PodName": "PODNAME"}


def ps_row(e: PsEntry, trunc: bool, now: float) -> dict[str, Any]:
    from pycontainer.formats.timestamps import created_since, go_string
    from pycontainer.formats.timestamps import parse_rfc3339 as parse_timestamp
    from pycontainer.formats.units import human_size_with_precision

    command = e.command
    if trunc and len(command) > 20:
        command = command[:19] + "…"
    created = parse_timestamp(e.created)
    labels = e.labels
    shown = "" if e.size_rw is None else human_size_with_precision(e.size_rw, 3)
    size = f"{shown} (virtual {shown})" if shown else ""
    return {
        "ID": e.id[:12] if trunc else e.id,
        "Image": e.image,
        "Command": '"' + command.replace('"', '\\"') + '"',
        "CreatedAt": go_string(int(created) * 10**9),
        "RunningFor": created_since(created, now),
        "Ports": e.ports,
        "State": e.state,
        "Status": e.status_text(now),
        "Size": size,
        "Names": e.name,
        "Labels": ",".join(f"{k}={v}" for k, v in labels.items()),
        "Label": lambda key: labels.get(key, ""),
        "Mounts": e.mounts,
        "Networks": e.networks,
        "LocalVolumes": str(e.local_volumes),
        "Platform": "linux",
        "Pod": e.pod[:12] if trunc else e.pod,
        "PodName": e.pod_name,
    }


def command(params: dict[str, Any], verb: str, gopts: GlobalOptions) -> None:
    import time

    from pycontainer import paths
    from pycontainer.cli import listing
    from pycontainer.cli.output import render_table
    from pycontainer.ops import ps as ops_ps

    p = params
    listing.sort_ps([], p["sort"])  # a bad key fails before any work
    opts = ops_ps.PsOptions(all=p["all_"], last=1 if p["latest"] else p["last"],
                            filters=list(p["filter_"]), size=p["size"])
    entries = ops_ps.list_containers(paths.resolve(gopts.root, gopts.runroot), opts)
    entries = listing.sort_ps(entries, p["sort"])
    if p["quiet"]:
        sys.stdout.write("".join((e.id if p["no_trunc"] else e.id[:12]) + "\n"
                                 for e in entries))
        return
    now = time.time()
    rows = [ps_row(e, not p["no_trunc"], now) for e in entries]
    default = PS_DEFAULT + ("\t{{.Size}}" if p["size"] else "") + \
        ("\t{{.Pod}}\t{{.PodName}}" if p["pod"] else "")
    text = render_table(rows, p["fmt"], default, PS_HEADERS)
    sys.stdout.write(listing.without_header(text, p["fmt"]) if p["noheading"] else text)


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    fn = typer_command(command, FLAGS, ARGS, "ps", "List containers.")
    app.command("ps")(fn)
    for alias in ("ls", "list", "ps"):
        groups["container"].command(alias)(fn)
