"""Container commands: ps, logs, start, stop, kill, restart, rm, wait, exec, attach, inspect,
rename, top, port, container exists|prune|cleanup. run/create live in cli/run.py.

Each parses flags, makes one ops call per container, and formats Docker's output. Errors on
one of several containers are printed and make the exit status 1 (Docker's behaviour).
"""

# No `from __future__ import annotations` here: typer would eval every annotation string
# of these many-option commands on each start (~7 ms of CPU per pyc invocation).

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import typer

from pycontainer.errors import ContainerExit, UsageError

if TYPE_CHECKING:
    from pycontainer.paths import Paths


def _paths(ctx: typer.Context) -> "Paths":
    from pycontainer import paths

    opts = ctx.find_root().obj
    return paths.resolve(opts.root, opts.runroot)


# -- listing -----------------------------------------------------------------------------

# -- logs --------------------------------------------------------------------------------

def logs(
    ctx: typer.Context,
    container: str = typer.Argument(..., metavar="CONTAINER"),
    follow: bool = typer.Option(False, "--follow", "-f", help="Follow log output."),
    tail: str = typer.Option("all", "--tail", "-n", help="Lines from the end (or all)."),
    since: str = typer.Option("", "--since", help="Since a timestamp or a duration (10m)."),
    until: str = typer.Option("", "--until", help="Until a timestamp or a duration."),
    timestamps: bool = typer.Option(False, "--timestamps", "-t", help="Show timestamps."),
    details: bool = typer.Option(False, "--details", help="Show extra attributes (labels, env)."),
) -> None:
    """Fetch the logs of a container."""
    import os

    from pycontainer.ops import logs as ops_logs

    if tail != "all" and not tail.lstrip("-").isdigit():
        raise UsageError(f"invalid --tail value {tail!r}")
    n = -1 if tail == "all" else int(tail)
    opts = ops_logs.LogsOptions(follow, n, since, until, timestamps, details)
    try:
        for line in ops_logs.read(_paths(ctx), container, opts):
            text = ops_logs.details(line) + line.text if details else line.text
            text = f"{line.time} {text}" if timestamps else text
            os.write(2 if line.stream == "stderr" else 1, text.encode())
    except KeyboardInterrupt:
        return


# -- lifecycle verbs -------------------------------------------------------------------------

def cleanup(
    ctx: typer.Context,
    container: str = typer.Argument(..., metavar="CONTAINER"),
    rm_: bool = typer.Option(False, "--rm", help="Remove the container."),
) -> None:
    """Record a container's exit and remove it for --rm (the supervisor's exit command)."""
    from pycontainer.ops import lifecycle

    lifecycle.cleanup(_paths(ctx), container, rm_)


def exists(ctx: typer.Context, container: str = typer.Argument(..., metavar="CONTAINER")
           ) -> None:
    """Exit 0 if the container exists, 1 if not."""
    from pycontainer.ops import lifecycle

    if not lifecycle.store_for(_paths(ctx)).exists(container):
        raise typer.Exit(1)


def prune(
    ctx: typer.Context,
    force: bool = typer.Option(False, "--force", "-f", help="Do not prompt."),
    filter_: list[str] = typer.Option([], "--filter", help="Filter (label=...)."),
) -> None:
    """Remove all stopped containers."""
    from pycontainer.ops import prune as ops_prune

    if not force:
        sys.stdout.write("WARNING! This will remove all stopped containers.\n"
                         "Are you sure you want to continue? [y/N] ")
        sys.stdout.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            return
    removed = ops_prune.prune(_paths(ctx), filter_)
    sys.stdout.write("Deleted Containers:\n" if removed else "")
    sys.stdout.write("".join(cid + "\n" for cid in removed))
    sys.stdout.write("\nTotal reclaimed space: 0B\n")


def rename(
    ctx: typer.Context,
    container: str = typer.Argument(..., metavar="CONTAINER"),
    new_name: str = typer.Argument(..., metavar="NEW_NAME"),
) -> None:
    """Rename a container."""
    from pycontainer.ops import rename as ops_rename

    ops_rename.rename(_paths(ctx), container, new_name)


# -- exec / attach -------------------------------------------------------------------------

def attach(
    ctx: typer.Context,
    container: str = typer.Argument(..., metavar="CONTAINER"),
    no_stdin: bool = typer.Option(False, "--no-stdin", help="Do not attach STDIN."),
    sig_proxy: bool = typer.Option(True, "--sig-proxy/--no-sig-proxy", help="Proxy signals."),
    detach_keys: str = typer.Option("ctrl-p,ctrl-q", "--detach-keys", help="Detach keys."),
) -> None:
    """Attach to a running container's input and output."""
    from pycontainer.ops import attaching

    code = attaching.attach_running(_paths(ctx), container, not no_stdin, detach_keys,
                                    sig_proxy)
    if code is not None:
        raise ContainerExit(code)


# -- inspect, top, port ------------------------------------------------------------------------

def container_inspect(
    ctx: typer.Context,
    names: list[str] = typer.Argument(..., metavar="CONTAINER..."),
    fmt: str = typer.Option(None, "--format", "-f", help="json or a Go template."),
    size: bool = typer.Option(False, "--size", "-s", help="Display total file sizes."),
) -> None:
    """Display detailed information on one or more containers."""
    from pycontainer.cli.inspect import show

    show(_paths(ctx), names, fmt, "container", size)


def top(
    ctx: typer.Context,
    container: str = typer.Argument(..., metavar="CONTAINER"),
    ps_args: list[str] = typer.Argument(None, metavar="[ps OPTIONS]"),
) -> None:
    """Display the running processes of a container."""
    from pycontainer.ops import top as ops_top

    sys.stdout.write(ops_top.top(_paths(ctx), container, ps_args or []))


def port(
    ctx: typer.Context,
    container: str = typer.Argument(..., metavar="CONTAINER"),
    private_port: str = typer.Argument(None, metavar="[PRIVATE_PORT[/PROTO]]"),
) -> None:
    """List port mappings or a specific mapping for the container."""
    from pycontainer.ops import netviews

    lines = netviews.port_lines(_paths(ctx), container, private_port)
    sys.stdout.write("".join(line + "\n" for line in lines))


# -- the container's files ---------------------------------------------------------------------

def diff(ctx: typer.Context, container: str = typer.Argument(..., metavar="CONTAINER"),
         fmt: str = typer.Option(None, "--format", help="json (Podman).")) -> None:
    """Inspect changes to files or directories on a container's filesystem."""
    from pycontainer.ops import container_fs

    if fmt not in (None, "json"):
        raise UsageError(f"--format {fmt!r} is not supported: use json")
    found = container_fs.changes(_paths(ctx), container)
    if fmt == "json":  # Podman's object of three lists
        import json

        names = {"C": "changed", "A": "added", "D": "deleted"}
        obj = {name: [p for k, p in found if k == kind] for kind, name in names.items()}
        sys.stdout.write(json.dumps({k: v for k, v in obj.items() if v}, indent=5) + "\n")
        return
    for kind, path in found:
        sys.stdout.write(f"{kind} {path}\n")


def export(
    ctx: typer.Context,
    container: str = typer.Argument(..., metavar="CONTAINER"),
    output: str = typer.Option(None, "--output", "-o", help="Write to a file, not STDOUT."),
) -> None:
    """Export a container's filesystem as a tar archive."""
    import os

    from pycontainer.ops import container_fs

    if output is None and sys.stdout.isatty():
        raise UsageError("cowardly refusing to save to a terminal. Use the -o flag or "
                         "redirect")
    sys.stdout.flush()
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644) if output else 1
    try:
        container_fs.export(_paths(ctx), container, fd)
    finally:
        if output:
            os.close(fd)


def commit(
    ctx: typer.Context,
    container: str = typer.Argument(..., metavar="CONTAINER"),
    name: str = typer.Argument(None, metavar="[REPOSITORY[:TAG]]"),
    message: str = typer.Option("", "--message", "-m", help="Commit message."),
    author: str = typer.Option("", "--author", "-a", help="Author."),
    change: list[str] = typer.Option([], "--change", "-c", help="Dockerfile instruction."),
    pause: bool = typer.Option(True, "--pause/--no-pause", "-p", help="(accepted)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the id (Podman)."),
) -> None:
    """Create a new image from a container's changes."""
    from pycontainer.ops import container_fs

    opts = container_fs.CommitOptions(name or "", message, author, list(change))
    image_id = container_fs.commit(_paths(ctx), container, opts)
    # Docker prints the id alone anyway; Podman's -q prints it without "sha256:"
    sys.stdout.write((image_id.removeprefix("sha256:") if quiet else image_id) + "\n")


def cp(
    ctx: typer.Context,
    src: str = typer.Argument(..., metavar="SRC"),
    dest: str = typer.Argument(..., metavar="DEST"),
    archive: bool = typer.Option(False, "--archive", "-a",
                                 help="Archive mode (copy all uid/gid information)."),
    follow_link: bool = typer.Option(False, "--follow-link", "-L",
                                     help="Always follow symbol link in SRC_PATH."),
) -> None:
    """Copy files between a container and the host (CONTAINER:PATH; - is a tar stream)."""
    from pycontainer.ops import container_fs

    container_fs.cp(_paths(ctx), src, dest, sys.stdin.buffer, sys.stdout.buffer,
                    container_fs.CopyOptions(archive=archive, follow_link=follow_link))
    sys.stdout.flush()


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    from pycontainer.cli import exec as cli_exec
    from pycontainer.cli import inspect as cli_inspect
    from pycontainer.cli import ps as cli_ps
    from pycontainer.cli import run, verbs

    run.register(app, groups)
    verbs.register(app, groups)
    cli_exec.register(app, groups)
    grp = groups["container"]
    for verb, fn in (("logs", logs), ("rename", rename), ("top", top), ("port", port),
                     ("attach", attach)):
        app.command(verb)(fn)
        grp.command(verb)(fn)
    cli_ps.register(app, groups)
    cli_inspect.register(app, groups)
    grp.command("inspect")(container_inspect)
    grp.command("exists")(exists)
    grp.command("prune")(prune)
    grp.command("cleanup", hidden=True)(cleanup)
    files: tuple[tuple[str, Callable[..., None]], ...] = (
        ("diff", diff), ("export", export), ("commit", commit), ("cp", cp))
    for verb, fs_fn in files:
        app.command(verb)(fs_fn)
        grp.command(verb)(fs_fn)
