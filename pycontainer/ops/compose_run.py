"""An attached `compose up` (the services' logs until they exit, Ctrl-C stopping them) and
`compose run` (a one-off container `<project>-<service>-run-<hex>`, dependencies first)."""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from pycontainer.errors import ComposeError
from pycontainer.ops import compose_lookup as names
from pycontainer.ops import compose_resources as resources
from pycontainer.ops.compose_logs import follow, short_name
from pycontainer.ops.compose_service import Model, Overrides
from pycontainer.ops.compose_up import UpOptions, selection, up, wait_dependencies
from pycontainer.ops.logs import LogLine, LogsOptions
from pycontainer.paths import Paths


@dataclass
class AttachOptions:
    abort_on_exit: bool = False
    exit_code_from: str = ""
    timeout: int | None = None
    #: what an abort or Ctrl-C stops (every service `up` started; default: those followed)
    stops: list[str] = field(default_factory=list)


def attached(paths: Paths, model: Model, services: list[str], opts: AttachOptions,
             write: Callable[[str, LogLine], None], notice: Callable[[str], None],
             out: TextIO | None, since: float = 0.0) -> int:
    """Follow the services' containers until all exit (or one, with abort); the exit status
    Compose gives: the --exit-code-from service's, else the first to exit's with abort."""
    from pycontainer.ops import compose_verbs

    if opts.exit_code_from and opts.exit_code_from not in services:
        raise ComposeError(f"no such service: {opts.exit_code_from}")
    abort = opts.abort_on_exit or bool(opts.exit_code_from)
    members = names.members(paths, model.name, services)
    targets = [(short_name(m, model.name), m.entry.id) for m in members]
    notice("Attaching to " + ", ".join(t[0] for t in targets))
    ended: queue.Queue[str] = queue.Queue()
    stop = threading.Event()
    first: str = ""
    try:
        # from `since` (when `up` began): a container left running shows new output only
        follow(paths, targets, LogsOptions(follow=True, since=f"{since:.9f}" if since else ""),
               write, ended, stop)
        for _ in targets:
            name = _next(ended)
            code = _exit_code(paths, model.name, name)
            notice(f"{name} exited with code {code}")
            first = first or name
            if abort:
                notice("Aborting on container exit...")
                break
    except KeyboardInterrupt:
        notice("Gracefully stopping... (press Ctrl+C again to force)")
        compose_verbs.stop(paths, model, opts.stops or services, opts.timeout, out)
        return 130
    finally:
        stop.set()
    if abort:
        compose_verbs.stop(paths, model, opts.stops or services, opts.timeout, out)
    if opts.exit_code_from:
        return _service_code(paths, model.name, opts.exit_code_from)
    return _exit_code(paths, model.name, first) if abort and first else 0


def _next(ended: queue.Queue[str]) -> str:
    while True:
        try:
            return ended.get(timeout=0.2)  # timed: Ctrl-C reaches this thread at once
        except queue.Empty:
            continue


def _exit_code(paths: Paths, project: str, short: str) -> int:
    for m in names.members(paths, project, oneoff=True):
        if short_name(m, project) == short:
            return m.entry.exit_code
    return 0


def _service_code(paths: Paths, project: str, service: str) -> int:
    found = names.members(paths, project, [service])
    return found[0].entry.exit_code if found else 0


@dataclass
class RunOptions:
    service: str
    command: list[str] = field(default_factory=list)
    entrypoint: list[str] | None = None
    env: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    publish: list[str] = field(default_factory=list)
    name: str = ""
    user: str | None = None
    workdir: str | None = None
    no_deps: bool = False
    rm: bool = False
    detach: bool = False
    tty: bool = False
    interactive: bool = True
    service_ports: bool = False
    use_aliases: bool = False
    build: str = ""
    pull: str = ""


@dataclass
class RunResult:
    name: str
    exit_code: int | None  # None: detached


def run(paths: Paths, model: Model, opts: RunOptions, out: TextIO | None) -> RunResult:
    from pycontainer.ops import run as ops_run
    from pycontainer.ops.compose_images import ensure_images
    from pycontainer.ops.compose_service import check
    from pycontainer.ops.compose_up import create_options_for

    check(model, opts.service)
    deps = [s for s in selection(model, [opts.service], opts.no_deps) if s != opts.service]
    if deps:
        up(paths, model, UpOptions(services=deps, build=opts.build, pull=opts.pull), out)
        wait_dependencies(paths, model, opts.service, out)
    ensure_images(paths, model, [opts.service], opts.build, opts.pull, out, out)
    resources.ensure_networks(paths, model, resources.used_networks(model, [opts.service]))
    resources.ensure_volumes(paths, model, resources.used_volumes(model, [opts.service]))
    cname = opts.name or f"{model.name}-{opts.service}-run-{os.urandom(6).hex()}"
    over = Overrides(
        command=opts.command or None, entrypoint=opts.entrypoint, env=opts.env,
        volumes=opts.volumes,
        publish=None if opts.service_ports and not opts.publish else opts.publish,
        user=opts.user, workdir=opts.workdir, tty=opts.tty, interactive=opts.interactive,
        auto_remove=opts.rm, service_ports=opts.service_ports, aliases=opts.use_aliases)
    create = create_options_for(paths, model, opts.service, 1, cname, True, over)
    size = ops_run.terminal_size() if opts.tty else None
    report = ops_run.run(paths, ops_run.RunOptions(create=create, detach=opts.detach,
                                                   tty_size=size))
    return RunResult(cname, report.exit_code)
