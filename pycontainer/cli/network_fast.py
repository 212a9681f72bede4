"""`pyc network create` and `pyc network ls`: the network commands scripts run in loops.

No typer at import: the flags are data, registered with typer by `cli/networks.py` and parsed
without it on the fast path (`cli/fast.py`). Docker flags pyc does not implement are
declared (hidden) only to fail with exit 125 naming them.
"""

from __future__ import annotations

import sys
from typing import Any

from pycontainer.cli.flags import BOOL, LIST, STR, Arg, Flag, GlobalOptions
from pycontainer.errors import UsageError

INTERSPERSED = True
NETWORK_TABLE = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"
NETWORK_HEADERS = {"ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE",
                   "IPv4": "IPV4", "IPv6": "IPV6", "Internal": "INTERNAL", "Labels": "LABELS",
                   "CreatedAt": "CREATED AT"}

CREATE_ARGS = (Arg("name", "NETWORK"),)
CREATE_FLAGS = (
    Flag("driver", ("--driver", "-d"), STR, default="bridge", help="Driver (bridge)."),
    Flag("subnet", ("--subnet",), LIST, help="Subnet in CIDR format."),
    Flag("gateway", ("--gateway",), LIST, help="IPv4 gateway of the subnet."),
    Flag("internal", ("--internal",), BOOL, help="Restrict external access."),
    Flag("label", ("--label",), LIST, help="Set metadata on a network."),
    Flag("opt", ("--opt", "-o"), LIST, hidden=True),
    Flag("ipv6", ("--ipv6",), BOOL, hidden=True),
    Flag("ip_range", ("--ip-range",), LIST, hidden=True),
    Flag("aux_address", ("--aux-address",), LIST, hidden=True),
    Flag("ipam_driver", ("--ipam-driver",), STR, default="default", hidden=True),
    Flag("ipam_opt", ("--ipam-opt",), LIST, hidden=True),
    Flag("attachable", ("--attachable",), BOOL, hidden=True),
    Flag("ingress", ("--ingress",), BOOL, hidden=True),
    Flag("scope", ("--scope",), STR, default="", hidden=True),
    Flag("config_only", ("--config-only",), BOOL, hidden=True),
    Flag("config_from", ("--config-from",), STR, default="", hidden=True),
)
LS_FLAGS = (
    Flag("quiet", ("--quiet", "-q"), BOOL, help="Only display network IDs."),
    Flag("no_trunc", ("--no-trunc",), BOOL, help="Do not truncate the output."),
    Flag("filters", ("--filter", "-f"), LIST, help="driver=, id=, label=, name=, scope=, "
         "type=custom|builtin, dangling="),
    Flag("fmt", ("--format",), STR, help="table, json or a Go template."),
)
#: verb -> (positional arguments, flags, help)
VERBS: dict[str, tuple[tuple[Arg, ...], tuple[Flag, ...], str]] = {
    "create": (CREATE_ARGS, CREATE_FLAGS, "Create a network (prints its id)."),
    "ls": ((), LS_FLAGS, "List networks (bridge, host and none are pre-defined)."),
}
VERBS["list"] = VERBS["ls"]


def tables(verb: str) -> tuple[tuple[Arg, ...], tuple[Flag, ...]]:
    """The fast path's view of one verb: (ARGS, FLAGS)."""
    return VERBS[verb][:2]


def go_time(stamp: str) -> str:
    """Go's time.Time.String(), as `{{.CreatedAt}}` prints a network's creation."""
    from pycontainer.formats.timestamps import go_string, parse_rfc3339_ns

    try:
        return go_string(parse_rfc3339_ns(stamp))
    except UsageError:
        return stamp


def _unsupported(given: dict[str, Any]) -> None:
    for flag, value in given.items():
        if value:
            raise UsageError(f"network create {flag} is not supported by pyc")


def create(params: dict[str, Any], gopts: GlobalOptions) -> None:
    from pycontainer import paths
    from pycontainer.cli.volume_fast import parse_key_values
    from pycontainer.ops import networks as ops_networks

    p = params
    _unsupported({"--opt": p["opt"], "--ipv6": p["ipv6"], "--ip-range": p["ip_range"],
                  "--aux-address": p["aux_address"],
                  "--ipam-driver": p["ipam_driver"] != "default", "--ipam-opt": p["ipam_opt"],
                  "--attachable": p["attachable"], "--ingress": p["ingress"],
                  "--scope": p["scope"] not in ("", "local"),
                  "--config-only": p["config_only"], "--config-from": p["config_from"]})
    subnet, gateway = list(p["subnet"]), list(p["gateway"])
    if len(gateway) > len(subnet):
        raise UsageError("every ip-range or gateway must have a corresponding subnet")
    if len(subnet) > 1:
        raise UsageError("pyc supports one --subnet per network")
    obj = ops_networks.create(paths.resolve(gopts.root, gopts.runroot), p["name"],
                              subnet[0] if subnet else None, gateway[0] if gateway else None,
                              p["internal"], parse_key_values(list(p["label"]), "label"),
                              p["driver"])
    sys.stdout.write(obj["Id"] + "\n")


def _row(obj: dict[str, Any], trunc: bool) -> dict[str, Any]:
    labels = obj.get("Labels") or {}
    return {
        "ID": obj["Id"][:12] if trunc else obj["Id"], "Name": obj["Name"],
        "Driver": obj["Driver"], "Scope": obj["Scope"],
        "IPv4": str(obj["EnableIPv4"]).lower(), "IPv6": str(obj["EnableIPv6"]).lower(),
        "Internal": str(obj["Internal"]).lower(),
        "Labels": ",".join(f"{k}={v}" for k, v in labels.items()),
        "Label": lambda key: labels.get(key, ""),
        "CreatedAt": go_time(obj["Created"]),
    }


def ls(params: dict[str, Any], gopts: GlobalOptions) -> None:
    from pycontainer import paths
    from pycontainer.cli.output import render_table
    from pycontainer.ops import networks as ops_networks

    fmt = params["fmt"]
    objs = ops_networks.list_networks(paths.resolve(gopts.root, gopts.runroot),
                                      list(params["filters"]))
    rows = [_row(o, not params["no_trunc"]) for o in objs]
    if params["quiet"] and (not fmt or fmt.strip() == "table"):
        sys.stdout.write("".join(r["ID"] + "\n" for r in rows))
        return
    sys.stdout.write(render_table(rows, fmt, NETWORK_TABLE, NETWORK_HEADERS))


def command(params: dict[str, Any], verb: str, gopts: GlobalOptions) -> None:
    (create if verb == "create" else ls)(params, gopts)
