"""`pyc pod create|ps|inspect|start|stop|restart|kill|pause|unpause|rm|top|logs|exists|prune`:
Podman's flags and output. Flags Podman has and pyc does not are not declared: typer fails
naming them (exit 125)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import typer

from pycontainer.cli.volumes import confirm, for_each, print_inspect, write_errors
from pycontainer.errors import UsageError

if TYPE_CHECKING:
    from pycontainer.ops.podviews import PodView
    from pycontainer.paths import Paths

POD_TABLE = ("table {{.ID}}\t{{.Name}}\t{{.Status}}\t{{.Created}}\t{{.InfraID}}\t"
             "{{.NumberOfContainers}}")
POD_HEADERS = {"ID": "POD ID", "Name": "NAME", "Status": "STATUS", "Created": "CREATED",
               "InfraID": "INFRA ID", "NumberOfContainers": "# OF CONTAINERS",
               "ContainerIds": "IDS", "ContainerNames": "NAMES", "ContainerStatuses": "STATUS",
               "Networks": "NETWORKS", "Labels": "LABELS"}
PRUNE_WARNING = ("WARNING! This will remove all stopped/exited pods..\n"
                 "Are you sure you want to continue?")


def _paths(ctx: typer.Context) -> Paths:
    from pycontainer import paths

    opts = ctx.find_root().obj
    return paths.resolve(opts.root, opts.runroot)


def _row(v: PodView, trunc: bool) -> dict[str, object]:
    from pycontainer.formats.durations import human_duration
    from pycontainer.formats.timestamps import parse_rfc3339

    def cut(s: str) -> str:
        return s[:12] if trunc else s

    members = [m for m in v.containers if m.id != v.infra_id]
    return {
        "ID": cut(v.id), "Name": v.name, "Status": v.status,
        "Created": human_duration(time.time() - parse_rfc3339(v.created)) + " ago",
        "InfraID": cut(v.infra_id), "NumberOfContainers": len(v.containers),
        "Labels": dict(v.labels), "Networks": ",".join(v.networks),
        "ContainerIds": ",".join(cut(m.id) for m in v.containers),
        "ContainerNames": ",".join(m.name for m in v.containers),
        "ContainerStatuses": ",".join(m.state for m in v.containers),
        "Members": len(members),
    }


def ps(
    ctx: typer.Context,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print the pod IDs only."),
    no_trunc: bool = typer.Option(False, "--no-trunc", help="Do not truncate the IDs."),
    fmt: str = typer.Option(None, "--format", help="table, json or a Go template."),
    filters: list[str] = typer.Option([], "--filter", "-f",
                                      help="id=, name=, label=, status=, ctr-names=, ..."),
) -> None:
    """List pods."""
    from pycontainer.cli.output import render_table
    from pycontainer.ops import podviews

    views = podviews.listing(_paths(ctx), filters)
    if quiet:
        sys.stdout.write("".join((v.id if no_trunc else v.id[:12]) + "\n" for v in views))
        return
    if fmt and fmt.strip() == "json":
        import json

        sys.stdout.write(json.dumps([_json(v) for v in views], indent=4) + "\n")
        return
    sys.stdout.write(render_table([_row(v, not no_trunc) for v in views], fmt, POD_TABLE,
                                  POD_HEADERS))


def _json(v: PodView) -> dict[str, object]:
    """Podman's `pod ps --format json` entry."""
    return {"Cgroup": "", "Containers": [{"Id": m.id, "Names": m.name, "Status": m.state}
                                         for m in v.containers],
            "Created": v.created, "Id": v.id, "InfraId": v.infra_id, "Name": v.name,
            "Namespace": "", "Networks": v.networks, "Status": v.status, "Labels": v.labels}


def inspect(
    ctx: typer.Context,
    names: list[str] = typer.Argument(..., metavar="POD..."),
    fmt: str = typer.Option(None, "--format", "-f", help="json or a Go template."),
) -> None:
    """Display detailed information on one or more pods."""
    from pycontainer.ops import podviews

    paths = _paths(ctx)
    found, errors = for_each(names, lambda n: podviews.inspect(paths, n))
    print_inspect(found, fmt)
    write_errors(errors)


def _each(ctx: typer.Context, names: list[str] | None, all_: bool,
          op: Callable[[Paths, str], str]) -> None:
    """Podman's many-pods verbs: each pod named (or every pod with --all), ids printed."""
    from pycontainer.ops import pods

    paths = _paths(ctx)
    if all_:
        if names:
            raise UsageError("--all and pod names cannot be used together")
        names = pods.store_for(paths).ids()
    elif not names:
        raise UsageError("you must provide at least one pod name or id")
    done, errors = for_each(names, lambda n: op(paths, n))
    sys.stdout.write("".join(d + "\n" for d in done if d))  # "": a missing pod with -i
    write_errors(errors)


_ALL = typer.Option(False, "--all", "-a", help="Act on all pods.")
_PODS = typer.Argument(None, metavar="POD...")


def stop(ctx: typer.Context, names: list[str] = _PODS, all_: bool = _ALL,
         timeout: int = typer.Option(None, "--time", "-t", help="Seconds to wait.")) -> None:
    """Stop one or more pods (their containers, the last started first, then the infra)."""
    from pycontainer.ops import pods

    _each(ctx, names, all_, lambda p, n: pods.stop(p, n, timeout))


def restart(ctx: typer.Context, names: list[str] = _PODS, all_: bool = _ALL,
            timeout: int = typer.Option(None, "--time", "-t", help="Seconds to wait.")
            ) -> None:
    """Restart one or more pods."""
    from pycontainer.ops import pods

    _each(ctx, names, all_, lambda p, n: pods.restart(p, n, timeout))


def kill(ctx: typer.Context, names: list[str] = _PODS, all_: bool = _ALL,
         sig: str = typer.Option("KILL", "--signal", "-s", help="Signal to send.")) -> None:
    """Send a signal to the containers of one or more pods."""
    from pycontainer.ops import pods

    pods.check_signal(sig)  # a bad signal fails before any pod is touched
    _each(ctx, names, all_, lambda p, n: pods.kill(p, n, sig))


def pause(ctx: typer.Context, names: list[str] = _PODS, all_: bool = _ALL) -> None:
    """Pause the containers of one or more pods."""
    from pycontainer.ops import pods

    _each(ctx, names, all_, pods.pause)


def unpause(ctx: typer.Context, names: list[str] = _PODS, all_: bool = _ALL) -> None:
    """Unpause the containers of one or more pods."""
    from pycontainer.ops import pods

    _each(ctx, names, all_, lambda p, n: pods.pause(p, n, unpause=True))


def rm(ctx: typer.Context, names: list[str] = _PODS, all_: bool = _ALL,
       force: bool = typer.Option(False, "--force", "-f", help="Stop running containers."),
       ignore: bool = typer.Option(False, "--ignore", "-i", help="Ignore missing pods."),
       timeout: int = typer.Option(None, "--time", "-t", help="Seconds to wait.")) -> None:
    """Remove one or more pods and their containers."""
    from pycontainer.errors import PodNotFound
    from pycontainer.ops import pods

    def remove(p: Paths, n: str) -> str:
        try:
            return pods.remove(p, n, force, timeout)
        except PodNotFound:
            if ignore:
                return ""
            raise

    _each(ctx, names, all_, remove)


def top(ctx: typer.Context, name: str = typer.Argument(..., metavar="POD"),
        ps_args: list[str] = typer.Argument(None, metavar="[ps OPTIONS]")) -> None:
    """Display the running processes of the containers in a pod."""
    from pycontainer.ops import podviews

    sys.stdout.write(podviews.top(_paths(ctx), name, ps_args or []))


def logs(
    ctx: typer.Context,
    name: str = typer.Argument(..., metavar="POD"),
    container: str = typer.Option("", "--container", "-c", help="Only this container's."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Follow log output."),
    tail: str = typer.Option("all", "--tail", help="Lines from the end (or all)."),
    since: str = typer.Option("", "--since", help="Since a timestamp or a duration."),
    until: str = typer.Option("", "--until", help="Until a timestamp or a duration."),
    timestamps: bool = typer.Option(False, "--timestamps", "-t", help="Show timestamps."),
    names: bool = typer.Option(False, "--names", "-n", help="Prefix lines with names."),
) -> None:
    """Fetch the logs of the containers of a pod, each line prefixed by its container."""
    import os

    from pycontainer.ops import logs as ops_logs
    from pycontainer.ops import podviews

    if tail != "all" and not tail.lstrip("-").isdigit():
        raise UsageError(f"invalid --tail value {tail!r}")
    opts = ops_logs.LogsOptions(follow, -1 if tail == "all" else int(tail), since, until,
                                timestamps)
    paths = _paths(ctx)
    cs = podviews.log_members(paths, name, container)
    try:
        for c, line in podviews.logs(paths, cs, opts):
            text = f"{line.time} {line.text}" if timestamps else line.text
            prefix = c.name if names else c.id[:12]
            os.write(2 if line.stream == "stderr" else 1, f"{prefix} {text}".encode())
    except KeyboardInterrupt:
        return


def exists(ctx: typer.Context, name: str = typer.Argument(..., metavar="POD")) -> None:
    """Exit 0 if the pod exists, 1 if not."""
    from pycontainer.ops import pods

    if not pods.exists(_paths(ctx), name):
        raise typer.Exit(1)


def prune(ctx: typer.Context,
          force: bool = typer.Option(False, "--force", "-f", help="Do not prompt.")) -> None:
    """Remove all stopped pods and their containers."""
    from pycontainer.ops import pods

    if not force and not confirm(PRUNE_WARNING):
        return
    sys.stdout.write("".join(p + "\n" for p in pods.prune(_paths(ctx))))


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    from pycontainer.cli import podverbs
    from pycontainer.cli.flags import typer_command

    grp = groups["pod"]
    for verb, (args, flags) in podverbs.VERBS.items():  # the fast path's (cli/fast.py)
        grp.command(verb)(typer_command(podverbs.command, flags, args, verb,
                                        podverbs.HELP[verb]))
    for alias in ("ps", "ls", "list"):
        grp.command(alias, hidden=alias != "ps")(ps)
    for fn in (inspect, stop, restart, kill, pause, unpause, rm, top, logs, exists,
               prune):
        grp.command(fn.__name__)(fn)
    grp.command("remove", hidden=True)(rm)
