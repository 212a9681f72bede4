"""A compose project's containers, found by Compose's labels (so `pyc compose` sees what
docker compose or the Engine API made under the same project, and the reverse)."""

from __future__ import annotations

from dataclasses import dataclass

from pycontainer.ops.ps import PsEntry, PsOptions, list_containers
from pycontainer.paths import Paths

PROJECT = "com.docker.compose.project"
SERVICE = "com.docker.compose.service"
NUMBER = "com.docker.compose.container-number"
ONEOFF = "com.docker.compose.oneoff"
CONFIG_HASH = "com.docker.compose.config-hash"
VERSION = "com.docker.compose.version"
WORKING_DIR = "com.docker.compose.project.working_dir"
CONFIG_FILES = "com.docker.compose.project.config_files"
NETWORK = "com.docker.compose.network"
VOLUME = "com.docker.compose.volume"
DEPENDS_ON = "com.docker.compose.depends_on"
IMAGE = "com.docker.compose.image"
#: the Compose version pyc's labels claim (what tools that read labels expect to see)
COMPOSE_VERSION = "2.24.0"


@dataclass(frozen=True)
class Member:
    """One container of a project, as `ps` lists it."""

    entry: PsEntry

    @property
    def service(self) -> str:
        return self.entry.labels.get(SERVICE, "")

    @property
    def number(self) -> int:
        try:
            return int(self.entry.labels.get(NUMBER, "0"))
        except ValueError:
            return 0

    @property
    def oneoff(self) -> bool:
        return self.entry.labels.get(ONEOFF, "False") == "True"

    @property
    def config_hash(self) -> str:
        return self.entry.labels.get(CONFIG_HASH, "")


def members(paths: Paths, project: str, services: list[str] | None = None, *,
            all: bool = True, oneoff: bool = False) -> list[Member]:
    """The project's containers (stopped ones too unless `all` is false), by service and
    number; one-off `run` containers only when `oneoff`."""
    opts = PsOptions(all=all, filters=[f"label={PROJECT}={project}"])
    found = [Member(e) for e in list_containers(paths, opts)]
    wanted = set(services or ())
    found = [m for m in found if (not wanted or m.service in wanted)
             and (oneoff or not m.oneoff)]
    found.sort(key=lambda m: (m.service, m.number, m.entry.name))
    return found


def projects(paths: Paths) -> dict[str, list[Member]]:
    """Every project that has a container (`compose ls`)."""
    out: dict[str, list[Member]] = {}
    for e in list_containers(paths, PsOptions(all=True, filters=[f"label={PROJECT}"])):
        out.setdefault(e.labels[PROJECT], []).append(Member(e))
    return out


def container_name(project: str, service: str, number: int) -> str:
    """Compose v2's `<project>-<service>-<n>`."""
    return f"{project}-{service}-{number}"


def resource_name(project: str, name: str) -> str:
    """Compose's `<project>_<name>` for networks and volumes."""
    return f"{project}_{name}"
