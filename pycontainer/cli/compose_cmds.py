"""`pyc compose` commands on an existing project: exec, top, port, images, cp, events, ls,
version, wait, pull, push. Flags and output as Compose v2 (docker/compose v2.24
cmd/compose/*.go); each is one `ops.compose_*` call, formatted here."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import typer

from pycontainer.errors import ComposeError, ContainerExit

if TYPE_CHECKING:
    from collections.abc import Callable

    from pycontainer.ops.compose import Options
    from pycontainer.ops.compose_cmds import ImageSummary, Top
    from pycontainer.ops.compose_ls import Stack
    from pycontainer.paths import Paths

_NO_INTERSPERSE = {"allow_interspersed_args": False}


def _paths(ctx: typer.Context) -> Paths:
    from pycontainer import paths

    opts = ctx.find_root().obj
    return paths.resolve(opts.root, opts.runroot)


def _project(ctx: typer.Context) -> str:
    from pycontainer.ops import compose_cmds

    opts: Options = ctx.obj
    return compose_cmds.project_name(opts)


def _progress(quiet: bool = False) -> Callable[[str, str], None]:
    """Compose's plain progress writer: `fmt.Fprintln(out, "", id, text, "")` on stderr."""
    def write(ident: str, text: str) -> None:
        if not quiet:
            sys.stderr.write(f" {ident} {text} \n")
            sys.stderr.flush()
    return write


def _tail(line: str) -> None:
    """Compose's progress tail messages: after the progress lines, on stderr."""
    sys.stderr.write(line + "\n")


# -- exec --------------------------------------------------------------------------------

def exec_(
    ctx: typer.Context,
    service: str = typer.Argument(..., metavar="SERVICE"),
    command: list[str] = typer.Argument(..., metavar="COMMAND [ARGS...]"),
    detach: bool = typer.Option(False, "-d", "--detach", help="Run the command in the "
                                "background."),
    env: list[str] = typer.Option([], "-e", "--env", help="Set environment variables."),
    index: int = typer.Option(0, "--index", help="Index of the container if the service has "
                              "multiple replicas."),
    privileged: bool = typer.Option(False, "--privileged", help="Extended privileges."),
    user: str = typer.Option(None, "-u", "--user", help="Run the command as this user."),
    no_tty: bool = typer.Option(False, "-T", "--no-TTY", help="Disable pseudo-TTY "
                                "allocation (the default when not on a terminal)."),
    workdir: str = typer.Option(None, "-w", "--workdir", help="Working directory."),
    interactive: bool = typer.Option(True, "-i", "--interactive", hidden=True),
    tty: bool = typer.Option(True, "-t", "--tty", hidden=True),
) -> None:
    """Execute a command in a running container."""
    import os

    from pycontainer.ops import compose_cmds
    from pycontainer.ops.exec import ExecOptions

    del tty  # Compose's hidden -t: a TTY is already the default on a terminal
    on_terminal = sys.stdin.isatty() and sys.stdout.isatty()
    opts = ExecOptions(list(command), interactive=interactive,
                       tty=on_terminal and not no_tty and not detach, detach=detach,
                       env=compose_cmds.resolve_env(list(env), os.environ), workdir=workdir,
                       user=user, privileged=privileged)
    code = compose_cmds.exec_service(_paths(ctx), _project(ctx), service, index, opts)
    if code:
        sys.stdout.flush()
        raise ContainerExit(code)


# -- top, port, images -------------------------------------------------------------------

def top_text(tops: list[Top]) -> str:
    """v2.24's layout: each container's name, then its processes (tabwriter 5, 1, 3)."""
    from pycontainer.cli.output import tabwrite

    out = ""
    for t in tops:
        table = "\t".join(t.titles) + "\n"
        table += "".join("".join(f"{cell}\t" for cell in row) + "\n" for row in t.processes)
        out += f"{t.name}\n" + tabwrite(table + "\n", minwidth=5, padding=3)
    return out


def top(ctx: typer.Context,
        services: list[str] = typer.Argument(None, metavar="[SERVICES...]")) -> None:
    """Display the running processes."""
    from pycontainer.ops import compose_cmds

    sys.stdout.write(top_text(compose_cmds.top(_paths(ctx), _project(ctx), services or [])))


def port(
    ctx: typer.Context,
    service: str = typer.Argument(..., metavar="SERVICE"),
    private_port: str = typer.Argument(..., metavar="PRIVATE_PORT"),
    protocol: str = typer.Option("tcp", "--protocol", help="tcp or udp"),
    index: int = typer.Option(0, "--index", help="Index of the container if the service has "
                              "multiple replicas."),
) -> None:
    """Print the public port for a port binding."""
    from pycontainer.ops import compose_cmds

    if not private_port.isdigit() or int(private_port) > 65535:
        raise ComposeError(f'strconv.ParseUint: parsing "{private_port}": invalid syntax')
    sys.stdout.write(compose_cmds.port(_paths(ctx), _project(ctx), service, int(private_port),
                                       protocol.lower(), index) + "\n")


def _go_json(obj: object) -> str:
    """Go's encoder without HTML escaping: compact, a newline after."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n"


def images_text(rows: list[ImageSummary], fmt: str, quiet: bool) -> str:
    from dataclasses import asdict

    from pycontainer.cli.output import tabwrite
    from pycontainer.formats.units import human_size_with_precision

    if quiet:
        ids = list(dict.fromkeys(r.ID.partition(":")[2] or r.ID for r in rows))
        return "".join(f"{i}\n" for i in ids)
    if fmt == "json":
        return _go_json([asdict(r) for r in rows])
    text = "CONTAINER\tREPOSITORY\tTAG\tIMAGE ID\tSIZE\n" + "".join(
        f"{r.ContainerName}\t{r.Repository or '<none>'}\t{r.Tag or '<none>'}\t"
        f"{(r.ID.partition(':')[2] or r.ID)[:12]}\t{human_size_with_precision(r.Size, 3)}\n"
        for r in rows)
    return tabwrite(text, minwidth=20, padding=3)


def _table_or_json(fmt: str) -> str:
    if fmt.lower() not in ("table", "pretty", "", "json"):
        raise ComposeError(f'format value "{fmt}" could not be parsed: parsing failed')
    return fmt.lower()


def images(
    ctx: typer.Context,
    services: list[str] = typer.Argument(None, metavar="[SERVICE...]"),
    fmt: str = typer.Option("table", "--format", help="table or json."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="Only display IDs."),
) -> None:
    """List images used by the created containers."""
    from pycontainer.ops import compose_cmds

    fmt = _table_or_json(fmt)
    rows = compose_cmds.images(_paths(ctx), _project(ctx), services or [])
    sys.stdout.write(images_text(rows, fmt, quiet))


# -- cp, wait ----------------------------------------------------------------------------

def cp(
    ctx: typer.Context,
    source: str = typer.Argument(..., metavar="SERVICE:SRC_PATH|SRC_PATH|-"),
    destination: str = typer.Argument(..., metavar="DEST_PATH|-|SERVICE:DEST_PATH"),
    index: int = typer.Option(0, "--index", help="Index of the container if the service has "
                              "multiple replicas."),
    all_: bool = typer.Option(False, "--all", hidden=True,
                              help="Deprecated: every container of the service gets the copy."),
    follow_link: bool = typer.Option(False, "-L", "--follow-link",
                                     help="Always follow symbol link in SRC_PATH."),
    archive: bool = typer.Option(False, "-a", "--archive",
                                 help="Archive mode (copy all uid/gid information)."),
) -> None:
    """Copy files/folders between a service container and the local filesystem."""
    from pycontainer.ops import compose_cmds

    if not source or not destination:
        raise ComposeError(f"{'source' if not source else 'destination'} can not be empty")
    req = compose_cmds.CopyRequest(source, destination, index, all_, archive, follow_link)
    compose_cmds.cp(_paths(ctx), _project(ctx), req, sys.stdin.buffer, sys.stdout.buffer)
    sys.stdout.flush()


def wait(
    ctx: typer.Context,
    services: list[str] = typer.Argument(..., metavar="SERVICE [SERVICE...]"),
    down_project: bool = typer.Option(False, "--down-project",
                                      help="Drops project when the first container stops."),
) -> None:
    """Block until the service containers stop; exits with the last one's status."""
    from pycontainer.ops import compose_cmds

    def report(done: compose_cmds.Exited) -> None:
        sys.stdout.write(f'container "{done.container_id}" exited with status code '
                         f"{done.code}\n")
        sys.stdout.flush()

    code = compose_cmds.wait(_paths(ctx), _project(ctx), list(services), down_project, report)
    if code:
        raise ContainerExit(code)


# -- events, ls, version ------------------------------------------------------------------

def events(
    ctx: typer.Context,
    services: list[str] = typer.Argument(None, metavar="[SERVICE...]"),
    as_json: bool = typer.Option(False, "--json", help="Output events as a stream of json "
                                 "objects."),
) -> None:
    """Receive real time events from containers."""
    from pycontainer.ops import compose_events

    paths, project = _paths(ctx), _project(ctx)
    try:
        for event in compose_events.stream(paths, project, services or []):
            text = compose_events.to_json(event) if as_json else \
                compose_events.to_text(event) + "\n"  # Compose's String() ends in one too
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
    except KeyboardInterrupt:
        return


def ls_text(stacks: list[Stack], fmt: str, quiet: bool) -> str:
    from dataclasses import asdict

    from pycontainer.cli.output import tabwrite

    if quiet:
        return "".join(f"{s.Name}\n" for s in stacks)
    if fmt == "json":
        return _go_json([asdict(s) for s in stacks])
    text = "NAME\tSTATUS\tCONFIG FILES\n" + "".join(
        f"{s.Name}\t{s.Status}\t{s.ConfigFiles}\n" for s in stacks)
    return tabwrite(text, minwidth=20, padding=3)


def ls(
    ctx: typer.Context,
    all_: bool = typer.Option(False, "-a", "--all", help="Show all stopped Compose projects."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="Only display IDs."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
    filters: list[str] = typer.Option([], "--filter", help="Filter output based on conditions "
                                      "provided (name=)."),
) -> None:
    """List running compose projects."""
    from pycontainer.ops import compose_ls

    fmt = _table_or_json(fmt)
    sys.stdout.write(ls_text(compose_ls.stacks(_paths(ctx), all_, filters), fmt, quiet))


def version_text(fmt: str | None, short: bool) -> str:
    from pycontainer.ops.compose_lookup import COMPOSE_VERSION

    if short:
        return COMPOSE_VERSION + "\n"
    if fmt == "json":
        return json.dumps({"version": f"v{COMPOSE_VERSION}"}, separators=(",", ":")) + "\n"
    if fmt not in (None, "", "pretty"):
        raise ComposeError(f"unsupported format {fmt!r}: pretty or json")
    return f"Docker Compose version v{COMPOSE_VERSION}\n"


def version(
    fmt: str = typer.Option(None, "-f", "--format", help="pretty or json."),
    short: bool = typer.Option(False, "--short", help="Shows only Compose's version number."),
) -> None:
    """Show the Docker Compose version information (the Compose version pyc implements)."""
    sys.stdout.write(version_text(fmt, short))


# -- pull, push ---------------------------------------------------------------------------

def pull(
    ctx: typer.Context,
    services: list[str] = typer.Argument(None, metavar="[SERVICE...]"),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="Pull without printing progress "
                               "information."),
    include_deps: bool = typer.Option(False, "--include-deps", help="Also pull services "
                                      "declared as dependencies."),
    ignore_failures: bool = typer.Option(False, "--ignore-pull-failures", help="Pull what it "
                                         "can and ignores images with pull failures."),
    ignore_buildable: bool = typer.Option(False, "--ignore-buildable", help="Ignore images "
                                          "that can be built."),
    policy: str = typer.Option("", "--policy", help='Apply pull policy ("missing"|"always").'),
) -> None:
    """Pull service images."""
    from pycontainer.ops import compose, compose_pullpush

    project = compose.load(ctx.obj)
    req = compose_pullpush.PullRequest(list(services or []), include_deps, ignore_failures,
                                     ignore_buildable, policy)
    compose_pullpush.pull(_paths(ctx), project, req, _progress(quiet), _tail)


def push(
    ctx: typer.Context,
    services: list[str] = typer.Argument(None, metavar="[SERVICE...]"),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="Push without printing progress "
                               "information."),
    include_deps: bool = typer.Option(False, "--include-deps", help="Also push images of "
                                      "services declared as dependencies."),
    ignore_failures: bool = typer.Option(False, "--ignore-push-failures", help="Push what it "
                                         "can and ignores images with push failures."),
) -> None:
    """Push service images (those with both build and image)."""
    from pycontainer.ops import compose, compose_pullpush

    project = compose.load(ctx.obj)
    req = compose_pullpush.PushRequest(list(services or []), include_deps, ignore_failures)
    compose_pullpush.push(_paths(ctx), project, req, _progress(quiet), _tail)


def register(group: typer.Typer) -> None:
    group.command("exec", context_settings=_NO_INTERSPERSE)(exec_)
    for name, fn in (("top", top), ("port", port), ("images", images), ("cp", cp),
                     ("wait", wait), ("events", events), ("ls", ls), ("version", version),
                     ("pull", pull), ("push", push)):
        group.command(name)(fn)
