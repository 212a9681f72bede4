"""`compose down`, `start`, `stop`, `restart`, `kill`, `rm`, `pause`, `unpause`: the
project's containers by Compose's labels, in dependency order (stops in reverse)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from pycontainer.compose import graph
from pycontainer.errors import ComposeError, PycError
from pycontainer.ops import compose_lookup as names
from pycontainer.ops import compose_resources as resources
from pycontainer.ops.compose_lookup import Member
from pycontainer.ops.compose_service import Model, image_of
from pycontainer.ops.compose_up import remove_orphans, say
from pycontainer.paths import Paths


def ordered(model: Model, members: list[Member], reverse: bool = False) -> list[list[Member]]:
    """The containers grouped by service in dependency order (reversed for stops); services
    no longer in the model (orphans) come first when reversed."""
    order = graph.order(model.tree["services"])
    orphans = [m for m in members if m.service not in order]
    if reverse:
        # by depth, deepest first: a service stops once every one depending on it has, and
        # services no dependency orders stop together (Compose's parallel, reversed graph)
        depth = _depths(model.tree["services"], order)
        levels = sorted({depth[s] for s in order}, reverse=True)
        groups = [[m for m in members if depth.get(m.service) == lv] for lv in levels]
        return ([orphans] if orphans else []) + [g for g in groups if g]
    groups = [[m for m in members if m.service == s] for s in order]
    groups = [g for g in groups if g]
    return groups + ([orphans] if orphans else [])


def _depths(services: dict[str, dict[str, object]], order: list[str]) -> dict[str, int]:
    """0 for a service without dependencies, else one more than its deepest dependency."""
    depth: dict[str, int] = {}
    for s in order:  # dependencies come first in `order`
        deps = [d for d in graph.dependencies(services[s]) if d in depth]
        depth[s] = 1 + max(depth[d] for d in deps) if deps else 0
    return depth


def _parallel(members: list[Member], work: Callable[[Member], None]) -> list[PycError]:
    """`work` on each container at once; the errors (an engine's keep their exit status)."""
    errors: list[PycError] = []

    def one(m: Member) -> None:
        try:
            work(m)
        except PycError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(m,), daemon=True) for m in members]
    for t in threads:
        t.start()
    for t in threads:
        while t.is_alive():
            t.join(0.2)
    return errors


def _selected(paths: Paths, model: Model, services: list[str], all: bool = True,
              oneoff: bool = False) -> list[Member]:
    for s in services:
        model.service(s)
    return names.members(paths, model.name, services or None, all=all, oneoff=oneoff)


def _each(groups: list[list[Member]], work: Callable[[Member], None]) -> None:
    errors: list[PycError] = []
    for group in groups:
        errors += _parallel(group, work)
    if errors:
        raise errors[0]


def stop(paths: Paths, model: Model, services: list[str], timeout: int | None,
         out: TextIO | None) -> None:
    from pycontainer.ops import lifecycle

    def one(m: Member) -> None:
        if m.entry.state not in ("running", "paused", "restarting"):
            return
        say(out, f"Container {m.entry.name}  Stopping")
        lifecycle.stop(paths, m.entry.id, timeout)
        say(out, f"Container {m.entry.name}  Stopped")

    _each(ordered(model, _selected(paths, model, services), reverse=True), one)


def start(paths: Paths, model: Model, services: list[str], out: TextIO | None) -> None:
    from pycontainer.ops import lifecycle
    from pycontainer.ops.compose_up import wait_dependencies

    members = _selected(paths, model, services)
    for s in services:
        if not any(m.service == s for m in members):
            raise ComposeError(f"service {s!r} has no container to start")

    def one(m: Member) -> None:
        if m.entry.state == "running":
            return
        say(out, f"Container {m.entry.name}  Starting")
        lifecycle.start(paths, m.entry.id)
        say(out, f"Container {m.entry.name}  Started")

    for group in ordered(model, members):
        if group[0].service in model.tree["services"]:
            wait_dependencies(paths, model, group[0].service, out)
        errors = [e for m in group for e in _catch(one, m)]  # starts one at a time
        if errors:
            raise errors[0]


def _catch(work: Callable[[Member], None], m: Member) -> list[PycError]:
    try:
        work(m)
    except PycError as exc:
        return [exc]
    return []


def restart(paths: Paths, model: Model, services: list[str], timeout: int | None,
            out: TextIO | None) -> None:
    from pycontainer.ops import lifecycle

    def one(m: Member) -> None:
        say(out, f"Container {m.entry.name}  Restarting")
        lifecycle.restart(paths, m.entry.id, timeout)
        say(out, f"Container {m.entry.name}  Started")

    for group in ordered(model, _selected(paths, model, services)):
        errors = [e for m in group for e in _catch(one, m)]
        if errors:
            raise errors[0]


def kill(paths: Paths, model: Model, services: list[str], signal: str,
         out: TextIO | None) -> None:
    from pycontainer.ops import lifecycle

    def one(m: Member) -> None:
        if m.entry.state != "running":
            return
        say(out, f"Container {m.entry.name}  Killing")
        lifecycle.kill(paths, m.entry.id, signal)
        say(out, f"Container {m.entry.name}  Killed")

    _each([_selected(paths, model, services, all=False)], one)


def pause(paths: Paths, model: Model, services: list[str], unpause: bool,
          out: TextIO | None) -> None:
    from pycontainer.ops import update

    call = update.unpause if unpause else update.pause

    def one(m: Member) -> None:
        call(paths, m.entry.id)
        say(out, f"Container {m.entry.name}  {'Unpaused' if unpause else 'Paused'}")

    _each([_selected(paths, model, services, all=False)], one)


def removable(paths: Paths, model: Model, services: list[str], stop_first: bool) -> list[Member]:
    """`compose rm`'s containers: the stopped ones (all of them with -s)."""
    members = _selected(paths, model, services)
    return [m for m in members if stop_first or m.entry.state not in ("running", "paused",
                                                                      "restarting")]


def rm(paths: Paths, model: Model, members: list[Member], volumes: bool, timeout: int | None,
       out: TextIO | None) -> None:
    from pycontainer.ops import lifecycle

    def one(m: Member) -> None:
        if m.entry.state in ("running", "paused", "restarting"):
            say(out, f"Container {m.entry.name}  Stopping")
            lifecycle.stop(paths, m.entry.id, timeout)
            say(out, f"Container {m.entry.name}  Stopped")
        say(out, f"Container {m.entry.name}  Removing")
        lifecycle.remove(paths, m.entry.id, force=True, volumes=volumes)
        say(out, f"Container {m.entry.name}  Removed")

    _each(ordered(model, members, reverse=True), one)


@dataclass
class DownOptions:
    volumes: bool = False
    rmi: str = ""  # "local" or "all"
    remove_orphans: bool = False
    timeout: int | None = None


def down(paths: Paths, model: Model, opts: DownOptions, out: TextIO | None) -> None:
    """Containers (the model's services' and, with --remove-orphans, the others'), then the
    project's networks, with -v its declared volumes, with --rmi its images."""
    if opts.rmi not in ("", "local", "all"):
        raise ComposeError(f"invalid --rmi {opts.rmi!r}: local or all")
    services = set(model.tree["services"])
    members = [m for m in names.members(paths, model.name, oneoff=True)
               if m.service in services]
    rm(paths, model, members, opts.volumes, opts.timeout, out)
    if opts.remove_orphans:
        remove_orphans(paths, model, opts.timeout, out)
    _remove_networks(paths, model, out)
    if opts.volumes:
        _remove_volumes(paths, model, out)
    if opts.rmi:
        _remove_images(paths, model, opts.rmi, out)


def _external(model: Model, kind: str) -> set[str]:
    return {str(spec["name"]) for spec in (model.tree.get(kind) or {}).values()
            if spec.get("external")}


def _remove_networks(paths: Paths, model: Model, out: TextIO | None) -> None:
    from pycontainer.ops import networks

    external = _external(model, "networks")
    for name in resources.project_networks(paths, model.name):
        if name in external:
            continue
        say(out, f"Network {name}  Removing")
        try:
            networks.remove(paths, name)
        except PycError as exc:
            say(out, f"Network {name}  Resource is still in use ({exc})")
            continue
        say(out, f"Network {name}  Removed")


def _remove_volumes(paths: Paths, model: Model, out: TextIO | None) -> None:
    from pycontainer.ops import volumes

    declared = {str(spec["name"]) for spec in (model.tree.get("volumes") or {}).values()
                if not spec.get("external")}
    fileless = not model.config_files  # `down -v -p NAME`: the volumes by their labels
    for name in resources.project_volumes(paths, model.name):
        if name not in declared and not fileless:
            continue
        say(out, f"Volume {name}  Removing")
        volumes.remove(paths, name)
        say(out, f"Volume {name}  Removed")


def _remove_images(paths: Paths, model: Model, rmi: str, out: TextIO | None) -> None:
    """`--rmi local`: the images Compose named (`<project>-<service>`, no `image:`); `all`:
    every service's image."""
    from pycontainer.ops import images

    refs = []
    for name, svc in model.tree["services"].items():
        if rmi == "all" or not svc.get("image"):
            ref = image_of(model, name)
            if ref not in refs:
                refs.append(ref)
    for ref in refs:
        if not images.exists(paths, ref):
            continue
        _, errors = images.remove(paths, [ref])
        say(out, f"Image {ref}  {'Removed' if not errors else errors[0]}")
