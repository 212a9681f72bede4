"""`compose pull` and `compose push`: the services' images through `pyc pull` / `pyc push`'s
ops calls, with Compose v2's choices (docker/compose v2.24 pkg/compose/pull.go, push.go):
which services are skipped, what a failure does, and its progress lines (the plain
progress writer's ` SERVICE TEXT ` lines on stderr)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pycontainer.compose.loader import Project
from pycontainer.errors import ComposeError, PycError
from pycontainer.paths import Paths

#: one progress line: (service or image, text)
Progress = Callable[[str, str], None]


@dataclass
class PullRequest:
    services: list[str] = field(default_factory=list)
    include_deps: bool = False
    ignore_failures: bool = False
    ignore_buildable: bool = False
    policy: str = ""  # --policy missing|always: instead of the services' pull_policy


def selected(project: Project, names: list[str], include_deps: bool) -> dict[str, Any]:
    """The services named (all when none), with those they depend on if `include_deps`."""
    from pycontainer.compose import graph

    services: dict[str, Any] = project.tree["services"]
    for name in names:
        if name not in services:
            raise ComposeError(f"no such service: {name}")
    wanted = list(names or services)
    if include_deps:
        i = 0
        while i < len(wanted):
            wanted += [d for d in graph.dependencies(services[wanted[i]])
                       if d in services and d not in wanted]
            i += 1
    return {n: services[n] for n in sorted(wanted)}


def _present(paths: Paths, image: str) -> bool:
    """Compose's imageAlreadyPresent: stored, and tagged other than latest."""
    from pycontainer.ops import images

    tag = image.rpartition(":")[2] if ":" in image.rpartition("/")[2] else "latest"
    return "@" not in image and tag != "latest" and images.exists(paths, image)


def _skip_reason(paths: Paths, service: dict[str, Any], policy: str, ignore_buildable: bool,
                 pulling: dict[str, str]) -> str | None:
    image = service.get("image")
    if not image:
        return "Skipped - No image to be pulled"
    policy = policy or str(service.get("pull_policy") or "")
    if policy in ("never", "build"):
        return "Skipped"
    if policy in ("missing", "if_not_present") and _present(paths, image):
        return "Skipped - Image is already present locally"
    if service.get("build") is not None and ignore_buildable:
        return "Skipped - Image can be built"
    if image in pulling:
        return f"Skipped - Image is already being pulled by {pulling[image]}"
    return None


def pull(paths: Paths, project: Project, req: PullRequest, progress: Progress,
         tail: Callable[[str], None]) -> None:
    """Pull each selected service's image; `tail` gets the warnings Compose prints last.
    A failure stops at once for a service that cannot be built; else it is raised at the
    end unless `ignore_failures`."""
    from pycontainer.ops import pull as ops_pull

    if req.policy not in ("", "missing", "always"):
        raise ComposeError(f'invalid --policy "{req.policy}": use missing or always')
    pulling: dict[str, str] = {}
    failures: list[PycError] = []
    must_build: list[str] = []
    for name, service in selected(project, req.services, req.include_deps).items():
        reason = _skip_reason(paths, service, req.policy if service.get("image") else "",
                              req.ignore_buildable, pulling)
        if reason is not None:
            progress(name, reason)
            continue
        image = str(service["image"])
        pulling[image] = name
        progress(name, "Pulling")
        try:
            ops_pull.pull(paths, ops_pull.PullOptions(image, quiet=True))
        except PycError as exc:
            buildable = service.get("build") is not None
            progress(name, "Warning" if buildable else "Error")
            if buildable:
                must_build.append(name)
            elif not req.ignore_failures:
                raise
            failures.append(exc)
            continue
        progress(name, "Pulled")
    if must_build:
        tail("WARNING: Some service image(s) must be built from source by running:\n"
             f"    docker compose build {' '.join(must_build)}")
    if failures and not req.ignore_failures:
        raise failures[0]


@dataclass
class PushRequest:
    services: list[str] = field(default_factory=list)
    include_deps: bool = False
    ignore_failures: bool = False


def push(paths: Paths, project: Project, req: PushRequest, progress: Progress,
         tail: Callable[[str], None]) -> None:
    """Push the image (and `build.tags`) of each selected service that has both `build` and
    `image` (Compose skips the others); `tail` gets the failures `ignore_failures` kept."""
    from pycontainer.ops import push as ops_push

    for name, service in selected(project, req.services, req.include_deps).items():
        build = service.get("build")
        if build is None or not service.get("image"):
            progress(name, "Skipped")
            continue
        tags = [str(service["image"])]
        if isinstance(build, dict):
            tags += [str(t) for t in build.get("tags") or ()]
        for tag in tags:
            progress(tag, "Pushing")
            try:
                ops_push.push(paths, ops_push.PushOptions(tag))
            except PycError as exc:
                progress(tag, "Error")
                if not req.ignore_failures:
                    raise
                tail(f"Pushing {name}: {exc}")
                continue
            progress(tag, "Pushed")
