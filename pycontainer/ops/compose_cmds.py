"""`pyc compose` commands on a project's existing containers (exec, top, port, images, cp,
wait), each Compose v2's (docker/compose v2.24 pkg/compose) through the ops call the
matching `pyc` command uses. Containers are found by Compose's labels (ops.compose_lookup)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from pycontainer.compose.loader import Options
from pycontainer.errors import ComposeError, NotFound
from pycontainer.ops import compose_lookup as lookup
from pycontainer.paths import Paths

if TYPE_CHECKING:
    from pycontainer.ops.exec import ExecOptions


class ServiceNotRunning(ComposeError):
    """No (running) container for a service: Compose's message, exit 1."""


def project_name(opts: Options) -> str:
    """Compose's toProjectName: -p, COMPOSE_PROJECT_NAME, else the loaded project's name
    (so these commands work from the project's directory without reading more)."""
    explicit = opts.project_name or os.environ.get("COMPOSE_PROJECT_NAME")
    if explicit:
        return explicit.lower()
    from pycontainer.compose import loader

    return loader.load(opts).name


def specified(paths: Paths, project: str, service: str, index: int = 0, *,
              stopped: bool = False, oneoff: bool = True) -> lookup.Member:
    """Compose's getSpecifiedContainer: the service's container number `index` (the lowest
    numbered when 0), running ones only unless `stopped`."""
    found = lookup.members(paths, project, [service], all=stopped, oneoff=oneoff)
    if index > 0:
        found = [m for m in found if m.number == index]
    if not found:
        if index > 0:
            raise ServiceNotRunning(f'service "{service}" is not running container #{index}')
        raise ServiceNotRunning(f'service "{service}" is not running')
    return sorted(found, key=lambda m: m.number)[0]


def resolve_env(items: list[str], environ: Mapping[str, str]) -> list[str]:
    """`-e KEY=VALUE` as given, `-e KEY` from the environment (dropped when unset, as
    compose-go's Resolve leaves it without a value)."""
    out: list[str] = []
    for item in items:
        if "=" in item:
            out.append(item)
        elif item in environ:
            out.append(f"{item}={environ[item]}")
    return out


def exec_service(paths: Paths, project: str, service: str, index: int,
                 opts: ExecOptions) -> int | None:
    """`compose exec`: `pyc exec` in the service's container; the command's status."""
    from pycontainer.ops import exec as ops_exec

    member = specified(paths, project, service, index)
    return ops_exec.exec_in(paths, member.entry.id, opts)


@dataclass(frozen=True)
class Top:
    name: str
    titles: list[str]
    processes: list[list[str]]


def top(paths: Paths, project: str, services: list[str]) -> list[Top]:
    """`compose top`: `pyc top` of each running container, by name."""
    from pycontainer.ops import top as ops_top

    out: list[Top] = []
    for member in lookup.members(paths, project, services or None, all=False, oneoff=True):
        text = ops_top.top(paths, member.entry.id, [])
        out.append(_parse_ps(member.entry.name, text))
    return sorted(out, key=lambda t: t.name)


def _parse_ps(name: str, text: str) -> Top:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return Top(name, [], [])
    titles = lines[0].split()
    rows = [ln.split(None, len(titles) - 1) for ln in lines[1:]]
    return Top(name, titles, rows)


def port(paths: Paths, project: str, service: str, private: int, protocol: str = "tcp",
         index: int = 0) -> str:
    """`compose port`: the public `ip:port` of the first mapping of `private/protocol`."""
    from pycontainer.ops import netviews

    member = specified(paths, project, service, index)
    try:
        return netviews.port_lines(paths, member.entry.id, f"{private}/{protocol}")[0]
    except NotFound:
        published = [_public(line) for line in netviews.port_lines(paths, member.entry.id)]
        raise ComposeError(f"no port {private}/{protocol} for container {member.entry.name}: "
                           + ", ".join(published)) from None


def _public(line: str) -> str:
    """`80/tcp -> 0.0.0.0:8080` -> `8080/tcp` (Compose lists public port and type)."""
    key, _, host = line.partition(" -> ")
    return f"{host.rpartition(':')[2]}/{key.partition('/')[2]}"


@dataclass(frozen=True)
class ImageSummary:
    """Compose's api.ImageSummary (its JSON field names)."""

    ID: str
    ContainerName: str
    Repository: str
    Tag: str
    Size: int


def images(paths: Paths, project: str, services: list[str]) -> list[ImageSummary]:
    """`compose images`: the image of each of the project's containers, by container name."""
    from pycontainer.containers.store import ContainerStore
    from pycontainer.errors import ImageNotFound
    from pycontainer.ops import images as ops_images

    cstore, istore = ContainerStore(paths), ops_images.store(paths)
    out: list[ImageSummary] = []
    for member in lookup.members(paths, project, services or None, all=True, oneoff=True):
        image_id = cstore.load(member.entry.id).config.image_id
        try:
            rec = istore.resolve(image_id)
        except ImageNotFound:
            raise ComposeError(f"failed to retrieve image for container "
                               f"{member.entry.name}") from None
        repo, tag = _repo_tag(ops_images.display_name(rec.names[0]) if rec.names else "")
        out.append(ImageSummary(rec.id, member.entry.name, repo, tag, rec.size))
    return sorted(out, key=lambda s: s.ContainerName)


def _repo_tag(name: str) -> tuple[str, str]:
    if not name:
        return "", ""
    if "@" in name:
        return name.split("@", 1)[0], ""
    base, sep, tag = name.rpartition(":")
    return (base, tag) if sep and "/" not in tag else (name, "")


def split_cp_arg(arg: str) -> tuple[str, str]:
    """Compose's splitCpArg: (service, path), service "" for a local path (absolute, no
    colon, or `./x:y`)."""
    if arg.startswith("/"):
        return "", arg
    service, sep, path = arg.partition(":")
    if not sep or service.startswith("."):
        return "", arg
    return service, path


@dataclass(frozen=True)
class CopyRequest:
    source: str
    destination: str
    index: int = 0
    all: bool = False
    archive: bool = False
    follow_link: bool = False


def cp(paths: Paths, project: str, req: CopyRequest, stdin: IO[bytes],
       stdout: IO[bytes]) -> list[str]:
    """`compose cp`: `pyc cp` with the service's container(s): from the first one (or
    `--index`), to every one of the service; returns the containers' names."""
    from pycontainer.ops import container_fs

    src_service, src_path = split_cp_arg(req.source)
    dst_service, dst_path = split_cp_arg(req.destination)
    if src_service and req.all:
        raise ComposeError("cannot use the --all flag when copying from a service")
    if src_service and dst_service:
        raise ComposeError("copying between services is not supported")
    if not src_service and not dst_service:
        raise ComposeError("unknown copy direction")
    service = src_service or dst_service
    targets = _copy_targets(paths, project, service, req.index, bool(src_service))
    opts = container_fs.CopyOptions(archive=req.archive, follow_link=req.follow_link)
    for member in targets:
        cid = member.entry.id
        src = f"{cid}:{src_path}" if src_service else src_path
        dst = f"{cid}:{dst_path}" if dst_service else dst_path
        container_fs.cp(paths, src, dst, stdin, stdout, opts)
    return [m.entry.name for m in targets]


def _copy_targets(paths: Paths, project: str, service: str, index: int,
                  from_service: bool) -> list[lookup.Member]:
    if index > 0:
        return [specified(paths, project, service, index, stopped=True, oneoff=False)]
    found = lookup.members(paths, project, [service], all=True)
    if not found:
        raise ServiceNotRunning(f'no container found for service "{service}"')
    return found[:1] if from_service else found


@dataclass(frozen=True)
class Exited:
    container_id: str
    code: int


def wait(paths: Paths, project: str, services: list[str], down_project: bool = False,
         report: Callable[[Exited], None] | None = None) -> int:
    """`compose wait`: `pyc wait` on each running container of the services (in parallel,
    each reported as it exits); the status of the last to exit. `down_project`: then the
    project's containers and networks are removed (Compose's Down, orphans included)."""
    from concurrent.futures import ThreadPoolExecutor

    from pycontainer.ops import lifecycle

    members = lookup.members(paths, project, services, all=False, oneoff=True)
    if not members:
        raise ComposeError(f'no containers for project "{project}"')
    last = 0

    def one(member: lookup.Member) -> None:
        nonlocal last
        done = Exited(member.entry.id, lifecycle.wait(paths, member.entry.id))
        last = done.code
        if report is not None:
            report(done)

    with ThreadPoolExecutor(max_workers=len(members)) as pool:
        for future in [pool.submit(one, m) for m in members]:
            future.result()
    if down_project:
        remove_project(paths, project)
    return last


def remove_project(paths: Paths, project: str) -> None:
    """What `compose down --remove-orphans` removes of a project known by name only: its
    containers (stopped first, in reverse order) and the networks carrying its label."""
    from pycontainer.ops import lifecycle, networks

    for member in reversed(lookup.members(paths, project, all=True, oneoff=True)):
        if member.entry.state in ("running", "paused", "restarting"):
            lifecycle.stop(paths, member.entry.id)
        lifecycle.remove(paths, member.entry.id, force=True)
    for net in networks.list_networks(paths, [f"label={lookup.PROJECT}={project}"]):
        networks.remove(paths, str(net["Id"]), force=True)
