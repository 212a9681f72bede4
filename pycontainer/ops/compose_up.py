"""`compose up`/`create`: images built or pulled, the project's networks and volumes made, each
service's containers converged (created, recreated when their config hash or image changed,
scaled) and started in dependency order, independent services in parallel threads, each
waiting for its dependencies' `depends_on` conditions."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from pycontainer.compose import graph
from pycontainer.errors import ComposeError, ImageNotFound, PycError
from pycontainer.ops import compose_lookup as names
from pycontainer.ops import compose_resources as resources
from pycontainer.ops.compose_lookup import Member
from pycontainer.ops.compose_service import Model, image_of
from pycontainer.paths import Paths

if TYPE_CHECKING:
    from pycontainer.ops.compose_service import Overrides
    from pycontainer.ops.create import CreateOptions

#: set on Ctrl-C during `up`: the service threads stop waiting and begin nothing more
_CANCEL = threading.Event()


@dataclass
class UpOptions:
    services: list[str] = field(default_factory=list)
    no_deps: bool = False
    build: str = ""  # "always" (--build), "never" (--no-build), "": when missing
    pull: str = ""  # --pull always|missing|never; "": each service's pull_policy
    recreate: str = "diverged"  # "force" (--force-recreate), "never" (--no-recreate)
    remove_orphans: bool = False
    scale: dict[str, int] = field(default_factory=dict)
    timeout: int | None = None
    start: bool = True  # False: `compose create`
    wait: bool = False
    wait_timeout: float | None = None
    quiet_pull: bool = False
    renew_anon_volumes: bool = False  # -V: a recreated container gets new anonymous volumes


def say(out: TextIO | None, text: str) -> None:
    """A progress line, as Compose's plain progress prints them (on stderr)."""
    if out is not None:
        out.write(f" {text}\n")
        out.flush()


def selection(model: Model, services: list[str], no_deps: bool) -> list[str]:
    """The services named (all without names) and, unless `no_deps`, what they depend on, in
    dependency order."""
    all_services = model.tree["services"]
    for name in services:
        model.service(name)  # ComposeError: no such service
    wanted = set(services or all_services)
    if not no_deps:
        stack = list(wanted)
        while stack:
            deps = graph.dependencies(all_services[stack.pop()])
            for dep in deps:
                if dep in all_services and dep not in wanted:
                    wanted.add(dep)
                    stack.append(dep)
    return [s for s in graph.order(all_services) if s in wanted]


def scale_of(model: Model, name: str, scale: dict[str, int]) -> int:
    if name in scale:
        return scale[name]
    svc = model.service(name)
    replicas = (svc.get("deploy") or {}).get("replicas")
    if "scale" in svc:
        if replicas is not None and int(replicas) != int(svc["scale"]):
            raise ComposeError(f"services.{name}: can't set distinct values on 'scale' and "
                               "'deploy.replicas'")
        return int(svc["scale"])
    return 1 if replicas is None else int(replicas)


def up(paths: Paths, model: Model, opts: UpOptions, out: TextIO | None) -> list[str]:
    """Returns the services brought up."""
    from pycontainer.ops.compose_images import ensure_images

    for svc, n in opts.scale.items():
        model.service(svc)
        if n < 0:
            raise ComposeError(f"invalid --scale {svc}={n}")
    services = selection(model, opts.services, opts.no_deps)
    from pycontainer.ops.compose_service import check

    for name in services:
        check(model, name)  # a refused key fails before anything is pulled or made
        if model.service(name).get("container_name") and scale_of(model, name, opts.scale) > 1:
            raise ComposeError(f"service {name!r}: container_name and a scale above 1 "
                               "cannot go together")
    ensure_images(paths, model, services, opts.build, opts.pull, out,
                  None if opts.quiet_pull else out)
    for net in resources.ensure_networks(paths, model, resources.used_networks(model, services)):
        say(out, f"Network {net}  Created")
    resources.ensure_volumes(paths, model, resources.used_volumes(model, services))
    if opts.remove_orphans:
        remove_orphans(paths, model, opts.timeout, out)
    else:
        _warn_orphans(paths, model, out)
    recreated: set[str] = set()  # services whose containers were made again
    _run_graph(model, services,
               lambda name: _bring_up(paths, model, name, opts, out, recreated))
    if opts.wait and opts.start:
        wait_ready(paths, model, services, opts.wait_timeout, out)
    return services


def _run_graph(model: Model, services: list[str], work: Callable[[str], None]) -> None:
    """`work(service)` for each service in a thread of its own, once its dependencies' work
    is done; the first failure is raised (after every started thread ends)."""
    done = {name: threading.Event() for name in services}
    failed: dict[str, BaseException] = {}

    def one(name: str) -> None:
        try:
            for dep in graph.dependencies(model.service(name)):
                if dep in done:
                    done[dep].wait()
                    if dep in failed:
                        raise _DependencyFailed(f"dependency {dep!r} of service {name!r} "
                                               "failed")
            _check_cancel()
            work(name)
        except BaseException as exc:  # carried to the caller's thread
            failed[name] = exc
        finally:
            done[name].set()

    _CANCEL.clear()
    threads = [threading.Thread(target=one, args=(n,), daemon=True) for n in services]
    try:
        for t in threads:
            t.start()
        for t in threads:
            while t.is_alive():
                t.join(0.2)  # a timed join: Ctrl-C reaches the main thread
    except KeyboardInterrupt:
        # Ctrl-C: no service begins after this; the ones under way end their step, so
        # that the caller can stop what was started (a second Ctrl-C leaves at once)
        _CANCEL.set()
        for t in threads:
            while t.is_alive():
                t.join(0.2)
        raise
    roots = [failed[n] for n in services if n in failed
             and not isinstance(failed[n], _DependencyFailed)]
    if roots or failed:
        raise (roots or list(failed.values()))[0]


def _check_cancel() -> None:
    if _CANCEL.is_set():
        raise _DependencyFailed("cancelled")


class _DependencyFailed(ComposeError):
    """A service not brought up because one it depends on failed (the root cause is raised)."""


def _bring_up(paths: Paths, model: Model, name: str, opts: UpOptions, out: TextIO | None,
              recreated: set[str]) -> None:
    if opts.start:
        wait_dependencies(paths, model, name, out)
    before = {m.entry.id for m in names.members(paths, model.name, [name])}
    containers = converge(paths, model, name, opts, out)
    members = names.members(paths, model.name, [name])
    if {m.entry.id for m in members if m.entry.name in containers} - before:
        recreated.add(name)
    if not opts.start:
        return
    running = {m.entry.name for m in members if m.entry.state in ("running", "paused")}
    deps = model.service(name).get("depends_on") or {}
    # `depends_on: {x: {restart: true}}`: Compose restarts the service when x was updated
    restart = any(how.get("restart") and dep in recreated for dep, how in deps.items())
    for cname in containers:
        _check_cancel()
        if cname not in running:
            _start(paths, cname, out)
        elif restart:
            _restart(paths, cname, opts.timeout, out)


def _restart(paths: Paths, cname: str, timeout: int | None, out: TextIO | None) -> None:
    from pycontainer.ops import lifecycle

    say(out, f"Container {cname}  Restarting")
    lifecycle.restart(paths, cname, timeout)
    say(out, f"Container {cname}  Started")


def _start(paths: Paths, cname: str, out: TextIO | None) -> None:
    from pycontainer.ops import lifecycle

    say(out, f"Container {cname}  Starting")
    lifecycle.start(paths, cname)
    say(out, f"Container {cname}  Started")


def converge(paths: Paths, model: Model, name: str, opts: UpOptions,
             out: TextIO | None) -> list[str]:
    """The service's containers as the model says: returns their names, by number."""
    wanted = scale_of(model, name, opts.scale)
    existing = names.members(paths, model.name, [name])
    for extra in sorted(existing, key=lambda m: m.number, reverse=True)[:max(
            0, len(existing) - wanted)]:
        # scaling down, highest numbers first: gone for good, with its anonymous volumes
        _remove(paths, extra.entry.name, opts.timeout, out, volumes=True)
    existing = sorted(existing, key=lambda m: m.number)[:wanted]
    kept: list[str] = []
    image_id = _image_id(paths, model, name)
    from pycontainer.ops.compose_service import config_hash

    digest = config_hash(model.service(name))
    for m in existing:
        if _diverged(m, digest, image_id, opts.recreate):
            say(out, f"Container {m.entry.name}  Recreate")
            anonymous = {} if opts.renew_anon_volumes else _anonymous(paths, m.entry.id)
            _remove(paths, m.entry.name, opts.timeout, None)
            kept.append(create_container(paths, model, name, m.number, anonymous))
            say(out, f"Container {m.entry.name}  Recreated")
        else:
            say(out, f"Container {m.entry.name}  Running" if m.entry.state == "running"
                else f"Container {m.entry.name}  Created")
            kept.append(m.entry.name)
    taken = {m.number for m in existing}
    number = 1
    while len(kept) < wanted:
        while number in taken:
            number += 1
        taken.add(number)
        cname = create_container(paths, model, name, number)
        say(out, f"Container {cname}  Created")
        kept.append(cname)
    return kept


def _diverged(m: Member, digest: str, image_id: str, recreate: str) -> bool:
    if recreate == "force":
        return True
    if recreate == "never":
        return False
    return m.config_hash != digest or m.entry.labels.get(names.IMAGE) != image_id


def _image_id(paths: Paths, model: Model, name: str) -> str:
    from pycontainer.ops import images

    try:
        return images.resolve(paths, image_of(model, name)).id
    except ImageNotFound:
        raise ComposeError(f"service {name!r}: image {image_of(model, name)} not found "
                           "(pull or build it first)") from None


def container_name(model: Model, name: str, number: int) -> str:
    custom = model.service(name).get("container_name")
    return str(custom) if custom else names.container_name(model.name, name, number)


def create_options_for(paths: Paths, model: Model, name: str, number: int, cname: str,
                       oneoff: bool = False, over: Overrides | None = None) -> CreateOptions:
    """The service's create options with its limits checked (as `pyc create` does)."""
    from pycontainer.ops import limits
    from pycontainer.ops.compose_service import create_options

    opts, flags = create_options(model, name, number, cname, _image_id(paths, model, name),
                                 oneoff, over)
    spec = opts.spec
    plan = limits.plan(paths, flags, spec.cgroup_parent)
    spec.resources, spec.oom_score_adj, spec.limits = (plan.resources, plan.oom_score_adj,
                                                       plan.limits)
    return opts


def create_container(paths: Paths, model: Model, name: str, number: int,
                     anonymous: dict[str, str] | None = None) -> str:
    """Create one container of the service; returns its name."""
    from pycontainer.ops.compose_service import Overrides
    from pycontainer.ops.create import create

    cname = container_name(model, name, number)
    over = Overrides(anonymous=anonymous) if anonymous else None
    create(paths, create_options_for(paths, model, name, number, cname, over=over))
    return cname


def _anonymous(paths: Paths, cid: str) -> dict[str, str]:
    """The container's anonymous volumes by their paths in it."""
    from pycontainer.containers.store import ContainerStore

    try:
        mounts = ContainerStore(paths).load(cid).config.spec.mounts
    except (PycError, OSError):
        return {}
    return {str(m["destination"]): str(m["volume"]) for m in mounts
            if m.get("anonymous") and m.get("volume")}


def _remove(paths: Paths, cname: str, timeout: int | None, out: TextIO | None,
            volumes: bool = False) -> None:
    from pycontainer.ops import lifecycle

    with contextlib.suppress(PycError):
        say(out, f"Container {cname}  Stopping")
        lifecycle.stop(paths, cname, timeout)
        say(out, f"Container {cname}  Stopped")
    say(out, f"Container {cname}  Removing")
    lifecycle.remove(paths, cname, force=True, volumes=volumes)
    say(out, f"Container {cname}  Removed")


def remove_orphans(paths: Paths, model: Model, timeout: int | None,
                   out: TextIO | None) -> None:
    """Containers of the project whose service is no longer in the model."""
    for m in names.members(paths, model.name, oneoff=True):
        if m.service not in model.tree["services"]:
            _remove(paths, m.entry.name, timeout, out)


def _warn_orphans(paths: Paths, model: Model, out: TextIO | None) -> None:
    orphans = [m.entry.name for m in names.members(paths, model.name)
               if m.service not in model.tree["services"]]
    if orphans:
        say(out, f"WARN Found orphan containers ({', '.join(orphans)}) for this project. If "
                 "you removed or renamed this service in your compose file, you can run this "
                 "command with the --remove-orphans flag to clean it up.")


# -- depends_on conditions and --wait ------------------------------------------------------

def wait_dependencies(paths: Paths, model: Model, name: str, out: TextIO | None) -> None:
    for dep, how in sorted((model.service(name).get("depends_on") or {}).items()):
        if dep not in model.tree["services"]:
            continue  # `required: false` and absent
        condition = how.get("condition", "service_started")
        if condition == "service_healthy":
            wait_healthy(paths, model.name, dep, None, out, require_check=True)
        elif condition == "service_completed_successfully":
            _wait_completed(paths, model.name, dep, out)
        elif condition != "service_started":
            raise ComposeError(f"service {name!r}: unknown depends_on condition {condition!r}")


def _states(paths: Paths, project: str, service: str) -> list[Member]:
    return names.members(paths, project, [service])


def wait_healthy(paths: Paths, project: str, service: str, deadline: float | None,
                 out: TextIO | None, require_check: bool = False) -> None:
    """Every container of the service is healthy (or running, without a healthcheck unless
    `require_check`); a container that becomes unhealthy or exits fails, naming it."""
    while True:
        members = _states(paths, project, service)
        pending = False
        for m in members:
            e = m.entry
            if e.state != "running":
                raise ComposeError(f"container {e.name} exited ({e.exit_code})")
            if e.health == "unhealthy":
                raise ComposeError(f"dependency failed to start: container {e.name} is "
                                   "unhealthy")
            if e.health == "starting":
                pending = True
            if not e.health and require_check:
                raise ComposeError(f"dependency failed to start: container {e.name} has no "
                                   "healthcheck configured")
        if not pending:
            for m in members:
                say(out, f"Container {m.entry.name}  Healthy")
            return
        if deadline is not None and time.monotonic() > deadline:
            raise ComposeError(f"timeout waiting for service {service!r} to be healthy")
        _check_cancel()
        time.sleep(0.1)  # the health or exit it waits for is a file a helper writes


def _wait_completed(paths: Paths, project: str, service: str, out: TextIO | None) -> None:
    while True:
        members = _states(paths, project, service)
        if all(m.entry.state in ("exited", "dead") for m in members):
            for m in members:
                if m.entry.exit_code != 0:
                    raise ComposeError(f"service {service!r} didn't complete successfully: "
                                       f"exit {m.entry.exit_code}")
                say(out, f"Container {m.entry.name}  Exited")
            return
        _check_cancel()
        time.sleep(0.1)  # the health or exit it waits for is a file a helper writes


def wait_ready(paths: Paths, model: Model, services: list[str], timeout: float | None,
               out: TextIO | None) -> None:
    """`up --wait`: every service's containers running and, with a healthcheck, healthy."""
    deadline = None if timeout is None else time.monotonic() + timeout
    for name in services:
        wait_healthy(paths, model.name, name, deadline, out)
