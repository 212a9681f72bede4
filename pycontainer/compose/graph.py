"""The services' dependency graph: every `depends_on` names a service, no cycles."""

from __future__ import annotations

from typing import Any

from pycontainer.compose.merge import as_map
from pycontainer.errors import ComposeError


def dependencies(service: dict[str, Any]) -> dict[str, Any]:
    return as_map("depends_on", service.get("depends_on"))


def check(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for dep, how in dependencies(service).items():
            required = not isinstance(how, dict) or how.get("required", True)
            if dep not in services and required:
                raise ComposeError(f"service {name!r} depends on undefined service {dep!r}: "
                                   "invalid compose project")
    order(services)


def order(services: dict[str, Any]) -> list[str]:
    """Service names, each after those it depends on; a cycle is an error."""
    done: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = path[path.index(name):] + [name]
            raise ComposeError("dependency cycle detected: " + " -> ".join(cycle))
        state[name] = "visiting"
        for dep in sorted(dependencies(services[name])):
            if dep in services:
                visit(dep, [*path, name])
        state[name] = "done"
        done.append(name)

    for name in sorted(services):
        visit(name, [])
    return done
