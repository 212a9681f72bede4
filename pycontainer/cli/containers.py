"""Container commands: attach, rename, diff, export, commit, cp, container
inspect|exists|prune|cleanup; the typer registration of the typer-free ones: run and create
(cli/run.py), the lifecycle verbs (cli/verbs.py), exec, ps, inspect, and logs, top and port
(cli/container_fast.py).

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
    from pycontainer.cli import container_fast
    from pycontainer.cli.flags import typer_command

    grp = groups["container"]
    for verb in ("logs", "rename", "top", "port", "attach"):
        if verb in container_fast.VERBS:
            args, flags, text = container_fast.VERBS[verb]
            fn = typer_command(container_fast.command, flags, args, verb, text)
        else:
            fn = rename if verb == "rename" else attach
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
