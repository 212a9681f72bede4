"""Resource commands: `stats`, `pause`, `unpause`, `update`, and the run/create limit flags.

Docker's output: `stats` prints its table (CONTAINER ID, NAME, CPU %, MEM USAGE / LIMIT,
MEM %, NET I/O, BLOCK I/O, PIDS) once with `--no-stream`, else redraws it every second.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import typer

from pycontainer.formats.units import bytes_size, human_size_with_precision

if TYPE_CHECKING:
    from pycontainer.ops.stats import StatsEntry
    from pycontainer.paths import Paths

STATS_DEFAULT = ("table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t"
                 "{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}")
STATS_HEADERS = {"ID": "CONTAINER ID", "Name": "NAME", "Container": "CONTAINER",
                 "CPUPerc": "CPU %", "MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %",
                 "NetIO": "NET I/O", "BlockIO": "BLOCK I/O", "PIDs": "PIDS"}



def _paths(ctx: typer.Context) -> Paths:
    from pycontainer import paths

    opts = ctx.find_root().obj
    return paths.resolve(opts.root, opts.runroot)


def stats_row(e: StatsEntry, trunc: bool = True) -> dict[str, Any]:
    def human_size(n: float) -> str:  # Docker's stats: HumanSizeWithPrecision(n, 3)
        return human_size_with_precision(n, 3)

    cid = e.id[:12] if trunc else e.id
    if not e.running:  # Docker's figures for a stopped container
        return {"ID": cid, "Name": e.name, "Container": e.ref, "CPUPerc": "0.00%",
                "MemUsage": "0B / 0B", "MemPerc": "0.00%", "NetIO": "0B / 0B",
                "BlockIO": "0B / 0B", "PIDs": "0"}
    return {
        "ID": cid, "Name": e.name, "Container": e.ref,
        "CPUPerc": f"{e.cpu_percent:.2f}%",
        "MemUsage": f"{bytes_size(e.mem_usage)} / {bytes_size(e.mem_limit)}",
        "MemPerc": f"{e.mem_percent:.2f}%",
        "NetIO": f"{human_size(e.net_rx)} / {human_size(e.net_tx)}",
        "BlockIO": f"{human_size(e.block_read)} / {human_size(e.block_write)}",
        "PIDs": str(e.pids),
    }


def stats(
    ctx: typer.Context,
    containers: list[str] = typer.Argument(None, metavar="[CONTAINER...]"),
    all_: bool = typer.Option(False, "--all", "-a", help="Show all containers (default "
                              "shows just running)."),
    no_stream: bool = typer.Option(False, "--no-stream", help="Print one report and exit."),
    no_trunc: bool = typer.Option(False, "--no-trunc", help="Do not truncate output."),
    fmt: str = typer.Option(None, "--format", help="table, json or a Go template."),
) -> None:
    """Display a live stream of container(s) resource usage statistics."""
    import time

    from pycontainer.cli.output import render_table
    from pycontainer.ops import stats as ops_stats

    sampler = ops_stats.Sampler(_paths(ctx), ops_stats.StatsOptions(list(containers or []),
                                                                    all_))
    clear = not no_stream and sys.stdout.isatty()
    try:
        while True:
            rows = [stats_row(e, not no_trunc) for e in sampler.next()]
            text = render_table(rows, fmt, STATS_DEFAULT, STATS_HEADERS)
            sys.stdout.write(("\033[2J\033[H" if clear else "") + text)
            sys.stdout.flush()
            if no_stream:
                return
            time.sleep(ops_stats.SAMPLE_SECONDS)
    except KeyboardInterrupt:
        return


def pause(ctx: typer.Context,
          containers: list[str] = typer.Argument(None, metavar="CONTAINER..."),
          all_: bool = typer.Option(False, "--all", "-a",
                                    help="Pause all running containers (Podman)."),
          filter_: list[str] = typer.Option([], "--filter", "-f",
                                            help="Pause the containers ps lists (Podman).")
          ) -> None:
    """Pause all processes within one or more containers."""
    _freeze_verb(ctx, "pause", containers, all_, filter_)


def unpause(ctx: typer.Context,
            containers: list[str] = typer.Argument(None, metavar="CONTAINER..."),
            all_: bool = typer.Option(False, "--all", "-a",
                                      help="Unpause all paused containers (Podman)."),
            filter_: list[str] = typer.Option([], "--filter", "-f",
                                              help="Unpause the containers ps lists (Podman).")
            ) -> None:
    """Unpause all processes within one or more containers."""
    _freeze_verb(ctx, "unpause", containers, all_, filter_)


def _freeze_verb(ctx: typer.Context, verb: str, containers: list[str] | None, all_: bool,
                 filter_: list[str]) -> None:
    from pycontainer.cli.verbs import each as _each
    from pycontainer.cli.verbs import targets
    from pycontainer.ops import update as ops_update

    paths = _paths(ctx)
    refs = targets(paths, verb, list(containers or []), {"all_": all_, "filter_": filter_})
    action = ops_update.pause if verb == "pause" else ops_update.unpause
    _each(refs, lambda ref: action(paths, ref))


def update(
    ctx: typer.Context,
    containers: list[str] = typer.Argument(..., metavar="CONTAINER..."),
    memory: str = typer.Option(None, "--memory", "-m", help="Memory limit (e.g. 512m)."),
    memory_swap: str = typer.Option(None, "--memory-swap", help="Memory plus swap; -1: "
                                    "unlimited swap."),
    memory_reservation: str = typer.Option(None, "--memory-reservation", help="Soft limit."),
    cpus: str = typer.Option(None, "--cpus", help="Number of CPUs (e.g. 1.5)."),
    cpu_period: str = typer.Option(None, "--cpu-period", help="CFS period in microseconds."),
    cpu_quota: str = typer.Option(None, "--cpu-quota", help="CFS quota in microseconds."),
    cpu_shares: str = typer.Option(None, "--cpu-shares", "-c", help="Relative CPU weight."),
    cpuset_cpus: str = typer.Option(None, "--cpuset-cpus", help="CPUs allowed (0-3, 0,1)."),
    cpuset_mems: str = typer.Option(None, "--cpuset-mems", help="Memory nodes allowed."),
    pids_limit: str = typer.Option(None, "--pids-limit", help="Process limit (-1: none)."),
) -> None:
    """Update configuration of one or more containers."""
    from pycontainer.cli.run import LIMIT_KEYS, limit_flags
    from pycontainer.cli.verbs import each as _each
    from pycontainer.errors import UsageError
    from pycontainer.ops import update as ops_update

    flags = limit_flags(ctx.params)
    if not any(getattr(flags, k) is not None for k in LIMIT_KEYS):
        raise UsageError("you must provide one or more flags when using this command")
    paths = _paths(ctx)
    _each(containers, lambda ref: ops_update.update(paths, ref, flags))


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    grp = groups["container"]
    for verb, fn in (("stats", stats), ("pause", pause), ("unpause", unpause),
                     ("update", update)):
        app.command(verb)(fn)
        grp.command(verb)(fn)
