"""`pyc network create|ls|inspect|rm|prune|exists|connect|disconnect`: Docker's flags, output
and exit codes. Docker flags pyc does not implement are declared only to fail with exit 125
naming them.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import typer

from pycontainer.cli.volumes import (
    confirm,
    for_each,
    parse_key_values,
    print_inspect,
    write_errors,
)
from pycontainer.errors import UsageError

if TYPE_CHECKING:
    from pycontainer.paths import Paths

NETWORK_TABLE = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"
NETWORK_HEADERS = {"ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "Scope": "SCOPE",
                   "IPv4": "IPV4", "IPv6": "IPV6", "Internal": "INTERNAL", "Labels": "LABELS",
                   "CreatedAt": "CREATED AT"}
PRUNE_WARNING = ("WARNING! This will remove all custom networks not used by at least one "
                 "container.\nAre you sure you want to continue?")


def _paths(ctx: typer.Context) -> Paths:
    from pycontainer import paths

    opts = ctx.find_root().obj
    return paths.resolve(opts.root, opts.runroot)


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


def create(
    ctx: typer.Context,
    name: str = typer.Argument(..., metavar="NETWORK"),
    driver: str = typer.Option("bridge", "--driver", "-d", help="Driver (bridge)."),
    subnet: list[str] = typer.Option([], "--subnet", help="Subnet in CIDR format."),
    gateway: list[str] = typer.Option([], "--gateway", help="IPv4 gateway of the subnet."),
    internal: bool = typer.Option(False, "--internal", help="Restrict external access."),
    label: list[str] = typer.Option([], "--label", help="Set metadata on a network."),
    opt: list[str] = typer.Option([], "--opt", "-o", hidden=True),
    ipv6: bool = typer.Option(False, "--ipv6", hidden=True),
    ip_range: list[str] = typer.Option([], "--ip-range", hidden=True),
    aux_address: list[str] = typer.Option([], "--aux-address", hidden=True),
    ipam_driver: str = typer.Option("default", "--ipam-driver", hidden=True),
    ipam_opt: list[str] = typer.Option([], "--ipam-opt", hidden=True),
    attachable: bool = typer.Option(False, "--attachable", hidden=True),
    ingress: bool = typer.Option(False, "--ingress", hidden=True),
    scope: str = typer.Option("", "--scope", hidden=True),
    config_only: bool = typer.Option(False, "--config-only", hidden=True),
    config_from: str = typer.Option("", "--config-from", hidden=True),
) -> None:
    """Create a network (prints its id)."""
    from pycontainer.ops import networks as ops_networks

    _unsupported({"--opt": opt, "--ipv6": ipv6, "--ip-range": ip_range,
                  "--aux-address": aux_address, "--ipam-driver": ipam_driver != "default",
                  "--ipam-opt": ipam_opt, "--attachable": attachable, "--ingress": ingress,
                  "--scope": scope not in ("", "local"), "--config-only": config_only,
                  "--config-from": config_from})
    if len(gateway) > len(subnet):
        raise UsageError("every ip-range or gateway must have a corresponding subnet")
    if len(subnet) > 1:
        raise UsageError("pyc supports one --subnet per network")
    obj = ops_networks.create(_paths(ctx), name, subnet[0] if subnet else None,
                              gateway[0] if gateway else None, internal,
                              parse_key_values(label, "label"), driver)
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


def ls(
    ctx: typer.Context,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only display network IDs."),
    no_trunc: bool = typer.Option(False, "--no-trunc", help="Do not truncate the output."),
    filters: list[str] = typer.Option([], "--filter", "-f", help="driver=, id=, label=, "
                                      "name=, scope=, type=custom|builtin, dangling="),
    fmt: str = typer.Option(None, "--format", help="table, json or a Go template."),
) -> None:
    """List networks (bridge, host and none are pre-defined)."""
    from pycontainer.cli.output import render_table
    from pycontainer.ops import networks as ops_networks

    objs = ops_networks.list_networks(_paths(ctx), filters)
    rows = [_row(o, not no_trunc) for o in objs]
    if quiet and (not fmt or fmt.strip() == "table"):
        sys.stdout.write("".join(r["ID"] + "\n" for r in rows))
        return
    sys.stdout.write(render_table(rows, fmt, NETWORK_TABLE, NETWORK_HEADERS))


def inspect(
    ctx: typer.Context,
    names: list[str] = typer.Argument(..., metavar="NETWORK..."),
    fmt: str = typer.Option(None, "--format", "-f", help="json or a Go template."),
    verbose: bool = typer.Option(False, "--verbose", "-v", hidden=True),
) -> None:
    """Display detailed information on one or more networks."""
    from pycontainer.ops import networks as ops_networks

    if verbose:
        raise UsageError("network inspect --verbose is not supported by pyc (swarm only)")
    paths = _paths(ctx)
    found, errors = for_each(names, lambda name: ops_networks.inspect(paths, name))
    print_inspect(found, fmt)
    write_errors(errors)


def rm(
    ctx: typer.Context,
    names: list[str] = typer.Argument(..., metavar="NETWORK..."),
    force: bool = typer.Option(False, "--force", "-f",
                               help="Do not error if the network does not exist."),
    ignore: bool = typer.Option(False, "--ignore", "-i",
                                help="No error for a missing network (Podman)."),
) -> None:
    """Remove one or more networks (refused while containers use them)."""
    from pycontainer.ops import networks as ops_networks

    paths = _paths(ctx)

    def remove(name: str) -> None:
        if ops_networks.remove(paths, name, force or ignore):
            sys.stdout.write(name + "\n")
        elif force and not ignore:  # Docker (20.10+): reported on stderr, exit status 0
            sys.stderr.write(f"Error: No such network: {name}\n")

    write_errors(for_each(names, remove)[1])


def prune(
    ctx: typer.Context,
    force: bool = typer.Option(False, "--force", "-f", help="Do not prompt for confirmation."),
    filters: list[str] = typer.Option([], "--filter", help="until=, label=, label!="),
) -> None:
    """Remove all unused user-defined networks."""
    from pycontainer.ops import networks as ops_networks

    ops_networks.check_prune_filters(filters)
    if not force and not confirm(PRUNE_WARNING):
        return
    removed = ops_networks.prune(_paths(ctx), filters)
    if removed:
        sys.stdout.write("Deleted Networks:\n" + "".join(n + "\n" for n in removed) + "\n")


def exists(ctx: typer.Context, name: str = typer.Argument(..., metavar="NETWORK")) -> None:
    """Exit 0 if the network exists, 1 if not."""
    from pycontainer.ops import networks as ops_networks

    if not ops_networks.exists(_paths(ctx), name):
        raise typer.Exit(1)


def connect(
    ctx: typer.Context,
    network: str = typer.Argument(..., metavar="NETWORK"),
    container: str = typer.Argument(..., metavar="CONTAINER"),
    alias: list[str] = typer.Option([], "--alias", help="Network-scoped alias."),
    ip: str = typer.Option(None, "--ip", help="IPv4 address."),
) -> None:
    """Connect a container to a network."""
    from pycontainer.ops import netconnect

    netconnect.connect(_paths(ctx), network, container, alias, ip)


def disconnect(
    ctx: typer.Context,
    network: str = typer.Argument(..., metavar="NETWORK"),
    container: str = typer.Argument(..., metavar="CONTAINER"),
    force: bool = typer.Option(False, "--force", "-f", help="Force the disconnect."),
) -> None:
    """Disconnect a container from a network."""
    from pycontainer.ops import netconnect

    netconnect.disconnect(_paths(ctx), network, container, force)


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    grp = groups["network"]
    grp.command("create")(create)
    grp.command("ls")(ls)
    grp.command("list", hidden=True)(ls)
    grp.command("inspect")(inspect)
    grp.command("rm")(rm)
    grp.command("remove", hidden=True)(rm)
    grp.command("prune")(prune)
    grp.command("exists")(exists)
    grp.command("connect")(connect)
    grp.command("disconnect")(disconnect)
