"""`pyc events` (`pyc system events`): Docker's event stream, read from the user's event log.

Follows until interrupted (or until `--until` has passed); Podman's `--stream=false` prints
what matches and exits. Lines as the docker CLI prints them, or `--format` (Go template,
`json`).
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from pycontainer.paths import Paths


def _paths(ctx: typer.Context) -> Paths:
    from pycontainer import paths

    opts = ctx.find_root().obj
    return paths.resolve(opts.root, opts.runroot)


def _since(value: str | None) -> float | None:
    from pycontainer.formats.timestamps import get_timestamp

    return None if not value else get_timestamp(value)


def _until(value: str | None) -> float | None:
    """Docker's forms; a duration counts from now to the nanosecond (Docker truncates it to
    whole seconds, which drops the events of the current second from `--until 0s`)."""
    if not value:
        return None
    from pycontainer.errors import UsageError
    from pycontainer.formats.durations import parse_duration

    if value != "0":
        try:
            return time.time() - parse_duration(value) / 1e9
        except UsageError:
            pass
    return _since(value)


def events(
    ctx: typer.Context,
    filters: list[str] = typer.Option(None, "--filter", "-f",
                                      help="Filter output based on conditions provided."),
    fmt: str = typer.Option(None, "--format", help="Format the output using the given Go "
                            "template, or 'json'."),
    since: str = typer.Option(None, "--since", help="Show all events created since "
                              "timestamp."),
    until: str = typer.Option(None, "--until", help="Stream events until this timestamp."),
    stream: bool = typer.Option(True, "--stream/--no-stream", help="Follow new events "
                                "(--stream=false: print the matching events and exit)."),
) -> None:
    """Get real time events from pyc."""
    from pycontainer.formats.filters import parse
    from pycontainer.ops import events as ops_events

    wanted = parse(filters or [])
    ops_events.validate(wanted)
    window = (_since(since), _until(until))
    render = _renderer(fmt)
    try:
        for event in ops_events.read(_paths(ctx), *window, wanted, follow=stream):
            sys.stdout.write(render(event) + "\n")
            sys.stdout.flush()
    except KeyboardInterrupt:
        return


def _renderer(fmt: str | None) -> Any:
    if not fmt:
        from pycontainer.ops.events import pretty

        return pretty
    from pycontainer.cli.output import format_one
    from pycontainer.formats import gotemplate

    if fmt.strip() != "json":
        gotemplate.compile(fmt)  # a bad template fails before anything is read
    return lambda event: format_one(event, fmt)


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    app.command("events")(events)
    groups["system"].command("events")(events)
