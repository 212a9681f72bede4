"""`pyc compose up`, `down`, `ps`, `create`, `start`, `stop`, `restart`, `kill`, `rm`,
`pause`, `unpause`, `logs`, `run`, `build` with Compose v2's flags: parse, one ops call,
format. Progress lines go to stderr, as Compose's plain progress does."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer

from pycontainer.errors import ContainerExit, UsageError

if TYPE_CHECKING:
    from pycontainer.ops.compose_lookup import Member
    from pycontainer.ops.compose_service import Model
    from pycontainer.ops.logs import LogLine
    from pycontainer.paths import Paths


def _context(ctx: typer.Context) -> tuple[Paths, Model]:
    from pycontainer import paths
    from pycontainer.ops.compose_service import model_for

    opts = ctx.find_root().obj
    store = paths.resolve(opts.root, opts.runroot)
    return store, model_for(store, ctx.obj)


def _scale(values: list[str]) -> dict[str, int]:
    out = {}
    for item in values:
        name, sep, number = item.partition("=")
        if not sep or not number.isdigit():
            raise UsageError(f"invalid --scale {item!r}: expected SERVICE=NUMBER")
        out[name] = int(number)
    return out


def _recreate(force: bool, never: bool) -> str:
    if force and never:
        raise UsageError("--force-recreate and --no-recreate are incompatible")
    return "force" if force else "never" if never else "diverged"


def _build_mode(build: bool, no_build: bool) -> str:
    if build and no_build:
        raise UsageError("--build and --no-build are incompatible")
    return "always" if build else "never" if no_build else ""


def up(
    ctx: typer.Context,
    services: list[str] = typer.Argument(None, metavar="[SERVICE...]"),
    detach: bool = typer.Option(False, "-d", "--detach", help="Run in the background."),
    build: bool = typer.Option(False, "--build", help="Build images before starting."),
    no_build: bool = typer.Option(False, "--no-build", help="Don't build an image."),
    pull: str = typer.Option("", "--pull", help="Pull image: always, missing or never."),
    wait: bool = typer.Option(False, "--wait", help="Wait for running/healthy (implies -d)."),
    wait_timeout: int = typer.Option(0, "--wait-timeout", help="Seconds to wait (--wait)."),
    force_recreate: bool = typer.Option(False, "--force-recreate", help="Recreate all."),
    no_recreate: bool = typer.Option(False, "--no-recreate", help="Don't recreate."),
    no_deps: bool = typer.Option(False, "--no-deps", help="Don't start linked services."),
    remove_orphans: bool = typer.Option(False, "--remove-orphans",
                                        help="Remove containers of services not defined."),
    scale: list[str] = typer.Option([], "--scale", help="SERVICE=NUM."),
    abort: bool = typer.Option(False, "--abort-on-container-exit",
                               help="Stop all containers if any container stops."),
    exit_code_from: str = typer.Option("", "--exit-code-from",
                                       help="The exit code of this service's container."),
    timeout: int = typer.Option(None, "-t", "--timeout", help="Shutdown timeout in seconds."),
    no_color: bool = typer.Option(False, "--no-color", help="Monochrome output."),
    no_log_prefix: bool = typer.Option(False, "--no-log-prefix", help="No log prefix."),
    timestamps: bool = typer.Option(False, "--timestamps", help="Show timestamps."),
    no_start: bool = typer.Option(False, "--no-start", help="Don't start the services."),
    quiet_pull: bool = typer.Option(False, "--quiet-pull", help="Pull without progress."),
    renew: bool = typer.Option(False, "-V", "--renew-anon-volumes",
                               help="Recreate anonymous volumes instead of reusing them."),
    attach: list[str] = typer.Option([], "--attach", help="Restrict attaching to SERVICE."),
    no_attach: list[str] = typer.Option([], "--no-attach", help="Don't attach to SERVICE."),
    attach_deps: bool = typer.Option(False, "--attach-dependencies",
                                     help="Also attach to the dependencies' output."),
) -> None:
    """Create and start containers."""
    from pycontainer.ops import compose_run, compose_up

    detach = detach or wait or no_start
    if no_start and wait:
        raise UsageError("--no-start and --wait are incompatible")
    if detach and (abort or exit_code_from):
        raise UsageError("--abort-on-container-exit and --detach are incompatible options")
    paths, model = _context(ctx)
    opts = compose_up.UpOptions(
        services=list(services or []), no_deps=no_deps, build=_build_mode(build, no_build),
        pull=pull, recreate=_recreate(force_recreate, no_recreate),
        remove_orphans=remove_orphans, scale=_scale(scale), timeout=timeout, wait=wait,
        wait_timeout=float(wait_timeout) if wait_timeout else None, start=not no_start,
        quiet_pull=quiet_pull, renew_anon_volumes=renew)
    import time

    began = time.time()
    try:
        started = compose_up.up(paths, model, opts, sys.stderr)
    except KeyboardInterrupt:
        if detach:
            raise
        from pycontainer.ops import compose_verbs

        sys.stdout.write("Gracefully stopping... (press Ctrl+C again to force)\n")
        sys.stdout.flush()
        compose_verbs.stop(paths, model, compose_up.selection(model, opts.services, no_deps),
                           timeout, sys.stderr)
        raise ContainerExit(130) from None
    if detach:
        return
    shown = _attached(model, list(services or []), started, attach, no_attach, attach_deps)
    write = _writer(paths, model, shown, no_color, not no_log_prefix, timestamps)
    code = compose_run.attached(
        paths, model, shown, compose_run.AttachOptions(abort, exit_code_from, timeout, started),
        write, _notice, sys.stderr, began)
    sys.stdout.flush()
    if code:
        raise ContainerExit(code)


def _attached(model: Model, named: list[str], started: list[str], attach: list[str],
              no_attach: list[str], deps: bool) -> list[str]:
    """Compose's attached services: --attach's, else the named ones (and their dependencies
    with --attach-dependencies), else all; less --no-attach's."""
    for name in attach + no_attach:
        model.service(name)
    shown = attach or (started if deps or not named else named)
    return [s for s in shown if s not in no_attach]


def _notice(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _writer(paths: Paths, model: Model, services: list[str], no_color: bool, prefix: bool,
            timestamps: bool) -> Callable[[str, LogLine], None]:
    from pycontainer.ops import compose_lookup
    from pycontainer.ops.compose_logs import Prefixer, short_name

    members = compose_lookup.members(paths, model.name, services or None, oneoff=True)
    shown = [short_name(m, model.name) for m in members]
    fmt = Prefixer(shown, colour=not no_color and sys.stdout.isatty(), prefix=prefix,
                   timestamps=timestamps)

    def write(name: str, line: LogLine) -> None:
        sys.stdout.write(fmt.line(name, line))
        sys.stdout.flush()

    return write


def create(
    ctx: typer.Context,
    services: list[str] = typer.Argument(None, metavar="[SERVICE...]"),
    build: bool = typer.Option(False, "--build", help="Build images before starting."),
    no_build: bool = typer.Option(False, "--no-build", help="Don't build an image."),
    pull: str = typer.Option("", "--pull", help="Pull image: always, missing or never."),
    force_recreate: bool = typer.Option(False, "--force-recreate", help="Recreate all."),
    no_recreate: bool = typer.Option(False, "--no-recreate", help="Don't recreate."),
    remove_orphans: bool = typer.Option(False, "--remove-orphans",
                                        help="Remove containers of services not defined."),
    scale: list[str] = typer.Option([], "--scale", help="SERVICE=NUM."),
) -> None:
    """Creates containers for a service."""
    from pycontainer.ops import compose_up

    paths, model = _context(ctx)
    compose_up.up(paths, model, compose_up.UpOptions(
        services=list(services or []), build=_build_mode(build, no_build), pull=pull,
        recreate=_recreate(force_recreate, no_recreate), remove_orphans=remove_orphans,
        scale=_scale(scale), start=False), sys.stderr)


def down(
    ctx: typer.Context,
    volumes: bool = typer.Option(False, "-v", "--volumes", help="Remove named volumes."),
    rmi: str = typer.Option("", "--rmi", help="Remove images: local or all."),
    remove_orphans: bool = typer.Option(False, "--remove-orphans",
                                        help="Remove containers of services not defined."),
    timeout: int = typer.Option(None, "-t", "--timeout", help="Shutdown timeout in seconds."),
) -> None:
    """Stop and remove containers, networks."""
    from pycontainer.ops import compose_verbs

    paths, model = _context(ctx)
    compose_verbs.down(paths, model, compose_verbs.DownOptions(volumes, rmi, remove_orphans,
                                                               timeout), sys.stderr)


def _services_verb(name: str, doc: str, with_timeout: bool) -> Any:
    def act(ctx: typer.Context, services: list[str] | None, timeout: int | None) -> None:
        from pycontainer.ops import compose_verbs

        paths, model = _context(ctx)
        wanted = list(services or [])
        if name == "stop":
            compose_verbs.stop(paths, model, wanted, timeout, sys.stderr)
        elif name == "restart":
            compose_verbs.restart(paths, model, wanted, timeout, sys.stderr)
        elif name == "start":
            compose_verbs.start(paths, model, wanted, sys.stderr)
        else:
            compose_verbs.pause(paths, model, wanted, name == "unpause", sys.stderr)

    def timed(ctx: typer.Context,
              services: list[str] = typer.Argument(None, metavar="[SERVICE...]"),
              timeout: int = typer.Option(None, "-t", "--timeout",
                                          help="Shutdown timeout in seconds.")) -> None:
        act(ctx, services, timeout)

    def plain(ctx: typer.Context,
              services: list[str] = typer.Argument(None, metavar="[SERVICE...]")) -> None:
        act(ctx, services, None)

    verb = timed if with_timeout else plain
    verb.__doc__ = doc
    return verb


def kill(
    ctx: typer.Context,
    services: list[str] = typer.Argument(None, metavar="[SERVICE...]"),
    signal: str = typer.Option("SIGKILL", "-s", "--signal", help="Signal to send."),
    remove_orphans: bool = typer.Option(False, "--remove-orphans",
                                        help="Remove containers of services not defined."),
) -> None:
    """Force stop service containers."""
    from pycontainer.ops import compose_up, compose_verbs

    paths, model = _context(ctx)
    compose_verbs.kill(paths, model, list(services or []), signal, sys.stderr)
    if remove_orphans:
        compose_up.remove_orphans(paths, model, None, sys.stderr)


def rm(
    ctx: typer.Context,
    services: list[str] = typer.Argument(None, metavar="[SERVICE...]"),
    force: bool = typer.Option(False, "-f", "--force", help="Don't ask to confirm removal."),
    stop: bool = typer.Option(False, "-s", "--stop", help="Stop the containers first."),
    volumes: bool = typer.Option(False, "-v", "--volumes",
                                 help="Remove anonymous volumes attached to containers."),
) -> None:
    """Removes stopped service containers."""
    from pycontainer.ops import compose_verbs

    paths, model = _context(ctx)
    members = compose_verbs.removable(paths, model, list(services or []), stop)
    if not members:
        sys.stderr.write("No stopped containers\n")
        return
    if not force:
        sys.stderr.write(f"Going to remove {', '.join(m.entry.name for m in members)}\n"
                         "? Are you sure? [yN] ")
        sys.stderr.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            return
    compose_verbs.rm(paths, model, members, volumes, None, sys.stderr)


def logs(
    ctx: typer.Context,
    services: list[str] = typer.Argument(None, metavar="[SERVICE...]"),
    follow: bool = typer.Option(False, "-f", "--follow", help="Follow log output."),
    tail: str = typer.Option("all", "-n", "--tail", help="Lines from the end (or all)."),
    timestamps: bool = typer.Option(False, "-t", "--timestamps", help="Show timestamps."),
    no_color: bool = typer.Option(False, "--no-color", help="Monochrome output."),
    no_log_prefix: bool = typer.Option(False, "--no-log-prefix", help="No log prefix."),
    since: str = typer.Option("", "--since", help="Since a timestamp or a duration."),
    until: str = typer.Option("", "--until", help="Until a timestamp or a duration."),
) -> None:
    """View output from containers."""
    from pycontainer.ops import compose_lookup
    from pycontainer.ops.compose_logs import follow as follow_logs
    from pycontainer.ops.compose_logs import short_name
    from pycontainer.ops.logs import LogsOptions

    if tail != "all" and not tail.isdigit():
        raise UsageError(f"invalid --tail value {tail!r}")
    paths, model = _context(ctx)
    for s in services or []:
        model.service(s)
    members = compose_lookup.members(paths, model.name, list(services or []) or None,
                                     oneoff=True)
    write = _writer(paths, model, list(services or []), no_color, not no_log_prefix,
                    timestamps)
    opts = LogsOptions(follow=follow, tail=-1 if tail == "all" else int(tail), since=since,
                       until=until)
    threads = follow_logs(paths, [(short_name(m, model.name), m.entry.id) for m in members],
                          opts, write)
    try:
        for t in threads:
            while t.is_alive():
                t.join(0.2)
    except KeyboardInterrupt:
        return


def ps(
    ctx: typer.Context,
    services: list[str] = typer.Argument(None, metavar="[SERVICE...]"),
    all_: bool = typer.Option(False, "-a", "--all", help="Show all stopped containers."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="Only display IDs."),
    show_services: bool = typer.Option(False, "--services", help="Display services."),
    status: list[str] = typer.Option([], "--status", help="Filter by status."),
    fmt: str = typer.Option("table", "--format", help="table or json."),
    no_trunc: bool = typer.Option(False, "--no-trunc", help="Don't truncate output."),
    filters: list[str] = typer.Option([], "--filter", help="Filter: status=STATUS."),
) -> None:
    """List containers."""
    from pycontainer.ops import compose_lookup

    status = list(status)
    for item in filters:
        key, sep, value = item.partition("=")
        if key != "status" or not sep:
            raise UsageError(f"unsupported --filter {item!r}: pyc's compose ps filters by "
                             "status= only")
        status.append(value)

    if fmt not in ("table", "json"):
        raise UsageError(f"unsupported --format {fmt!r}: table or json")
    states = ("paused", "restarting", "removing", "running", "dead", "created", "exited")
    for s in status:
        if s not in states:
            raise UsageError(f"invalid status {s!r}: {', '.join(states)}")
    paths, model = _context(ctx)
    for s in services or []:
        model.service(s)
    members = compose_lookup.members(paths, model.name, list(services or []) or None,
                                     all=all_ or bool(status))
    members = [m for m in members if not status or m.entry.state in status]
    if show_services:
        for name in dict.fromkeys(m.service for m in members):
            sys.stdout.write(name + "\n")
    elif quiet:
        for m in members:
            sys.stdout.write(m.entry.id + "\n")  # Compose: full ids
    elif fmt == "json":
        import json

        for m in members:
            sys.stdout.write(json.dumps(ps_row(m, model.name, not no_trunc)) + "\n")
    else:
        _ps_table(members, model.name, not no_trunc)


def publishers(ports: str) -> list[dict[str, Any]]:
    """Compose's Publishers from the PORTS text (`0.0.0.0:8080->80/tcp, 443/tcp`)."""
    out: list[dict[str, Any]] = []
    for item in filter(None, (p.strip() for p in ports.split(","))):
        host, arrow, target = item.rpartition("->")
        port, _, proto = (target if arrow else item).partition("/")
        url, published = "", "0"
        if arrow:
            url, _, published = host.rpartition(":")
        low, _, high = port.partition("-")
        plow, _, phigh = published.partition("-")
        for i, tgt in enumerate(range(int(low), int(high or low) + 1)):
            pub = int(plow) + i if int(plow) else 0
            out.append({"URL": url.strip("[]"), "TargetPort": tgt, "PublishedPort": pub,
                        "Protocol": proto or "tcp"})
    return out


def ps_row(m: Member, project: str, trunc: bool) -> dict[str, Any]:
    import time

    from pycontainer.cli.ps import ps_row as docker_row
    from pycontainer.formats.timestamps import parse_rfc3339

    e = m.entry
    row = {k: v for k, v in docker_row(e, trunc, time.time()).items() if not callable(v)}
    row.update({
        "Name": e.name, "Project": project, "Service": m.service,
        "Created": int(parse_rfc3339(e.created)), "Health": e.health,
        "ExitCode": e.exit_code, "Publishers": publishers(e.ports),
    })
    row.pop("Platform", None)  # docker ps's, not in Compose's rows
    return dict(sorted(row.items()))


def _ps_table(members: list[Member], project: str, trunc: bool) -> None:
    from pycontainer.cli.output import tabwrite

    lines = ["NAME\tIMAGE\tCOMMAND\tSERVICE\tCREATED\tSTATUS\tPORTS"]
    for m in members:
        row = ps_row(m, project, trunc)
        lines.append("\t".join(str(row[k]) for k in ("Name", "Image", "Command", "Service",
                                                      "RunningFor", "Status", "Ports")))
    sys.stdout.write(tabwrite("\n".join(lines), minwidth=0) + "\n")


def run(
    ctx: typer.Context,
    service: str = typer.Argument(..., metavar="SERVICE"),
    command: list[str] = typer.Argument(None, metavar="[COMMAND] [ARGS...]"),
    detach: bool = typer.Option(False, "-d", "--detach", help="Run in the background."),
    rm: bool = typer.Option(False, "--rm", help="Remove the container when it exits."),
    env: list[str] = typer.Option([], "-e", "--env", help="Set environment variables."),
    volume: list[str] = typer.Option([], "-v", "--volume", help="Bind mount a volume."),
    publish: list[str] = typer.Option([], "-p", "--publish", help="Publish a port."),
    name: str = typer.Option("", "--name", help="Assign a name to the container."),
    user: str = typer.Option(None, "-u", "--user", help="Run as this user."),
    workdir: str = typer.Option(None, "-w", "--workdir", help="Working directory."),
    entrypoint: str = typer.Option(None, "--entrypoint", help="Override the entrypoint."),
    no_deps: bool = typer.Option(False, "--no-deps", help="Don't start linked services."),
    no_tty: bool = typer.Option(False, "-T", "--no-TTY", help="Disable pseudo-TTY."),
    service_ports: bool = typer.Option(False, "--service-ports",
                                       help="Publish the service's ports."),
    use_aliases: bool = typer.Option(False, "--use-aliases", help="Use the network aliases."),
    build: bool = typer.Option(False, "--build", help="Build the image first."),
    pull: str = typer.Option("", "--pull", help="Pull image: always, missing or never."),
) -> None:
    """Run a one-off command on a service."""
    import shlex

    from pycontainer.ops import compose_run

    paths, model = _context(ctx)
    opts = compose_run.RunOptions(
        service=service, command=list(command or []),
        entrypoint=None if entrypoint is None else shlex.split(entrypoint), env=_env(env),
        volumes=list(volume), publish=list(publish), name=name, user=user, workdir=workdir,
        no_deps=no_deps, rm=rm, detach=detach,
        tty=not no_tty and not detach and sys.stdin.isatty() and sys.stdout.isatty(),
        interactive=not detach,
        service_ports=service_ports, use_aliases=use_aliases,
        build="always" if build else "", pull=pull)
    result = compose_run.run(paths, model, opts, sys.stderr)
    if result.exit_code is None:
        sys.stdout.write(result.name + "\n")
        return
    sys.stdout.flush()
    if result.exit_code:
        raise ContainerExit(result.exit_code)


def _env(values: list[str]) -> list[str]:
    """`-e KEY=VALUE`, or `-e KEY`: this environment's value (left out when unset)."""
    import os

    out = []
    for item in values:
        if "=" in item:
            out.append(item)
        elif item in os.environ:
            out.append(f"{item}={os.environ[item]}")
    return out


def build_cmd(
    ctx: typer.Context,
    services: list[str] = typer.Argument(None, metavar="[SERVICE...]"),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not use cache."),
    pull: bool = typer.Option(False, "--pull", help="Always pull newer base images."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="Don't print anything."),
) -> None:
    """Build or rebuild services."""
    from pycontainer.ops import compose_images

    paths, model = _context(ctx)
    wanted = list(services or []) or [n for n, s in model.tree["services"].items()
                                      if "build" in s]
    for name in wanted:
        if "build" not in model.service(name):
            continue  # Compose skips services without a build section
        compose_images.build_service(paths, model, name, None if quiet else sys.stderr,
                                     no_cache, pull)


def register(group: typer.Typer) -> None:
    group.command("up")(up)
    group.command("create")(create)
    group.command("down")(down)
    group.command("ps")(ps)
    group.command("logs")(logs)
    group.command("run", context_settings={"allow_interspersed_args": False,
                                           "ignore_unknown_options": True})(run)
    group.command("build")(build_cmd)
    group.command("kill")(kill)
    group.command("rm")(rm)
    for verb, doc, timed in (("start", "Start services.", False),
                             ("stop", "Stop services.", True),
                             ("restart", "Restart service containers.", True),
                             ("pause", "Pause services.", False),
                             ("unpause", "Unpause services.", False)):
        group.command(verb)(_services_verb(verb, doc, timed))
