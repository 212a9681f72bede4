"""`pyc network create|ls|inspect|rm|prune|exists|connect|disconnect`: Docker's flags, output
and exit codes. Docker flags pyc does not implement are declared only to fail with exit 125
naming them. create and ls, which the fast path also runs, live in `cli/network_fast.py`.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from pycontainer.cli.network_fast import go_time as go_time
from pycontainer.cli.volumes import (
    confirm,
    for_each,
    print_inspect,
    write_errors,
)
from pycontainer.errors import UsageError

if TYPE_CHECKING:
    from pycontainer.paths import Paths

PRUNE_WARNING = ("WARNING! This will remove all custom networks not used by at least one "
                 "container.\nAre you sure you want to continue?")


def _paths(ctx: typer.Context) -> Paths:
    from pycontainer import paths

    opts = ctx.find_root().obj
    return paths.resolve(opts.root, opts.runroot)


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
    from pycontainer.cli import network_fast
    from pycontainer.cli.flags import typer_command

    grp = groups["network"]
    for verb, hidden in (("create", False), ("ls", False), ("list", True)):
        args, flags, text = network_fast.VERBS[verb]
        grp.command(verb, hidden=hidden)(typer_command(network_fast.command, flags, args,
                                                       verb, text))
    grp.command("inspect")(inspect)
    grp.command("rm")(rm)
    grp.command("remove", hidden=True)(rm)
    grp.command("prune")(prune)
    grp.command("exists")(exists)
    grp.command("connect")(connect)
    grp.command("disconnect")(disconnect)
