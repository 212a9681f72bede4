"""`compose ls`: the projects that have containers, as Compose v2 lists them (docker/compose
pkg/compose/ls.go: containers with a project and a config-hash label, grouped by project;
the status counts each state, `running(2), exited(1)`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pycontainer.ops import compose_lookup as lookup
from pycontainer.paths import Paths

FILTERS = ("name",)


@dataclass(frozen=True)
class Stack:
    """Compose's stackView (its JSON field names)."""

    Name: str
    Status: str
    ConfigFiles: str


def stacks(paths: Paths, all: bool = False, filters: Iterable[str] = ()) -> list[Stack]:
    """The projects, by name; stopped containers (and so stopped projects) with `all`;
    `filters`: `name=` (exact or a regular expression, as Docker's filters.Args.Match)."""
    from pycontainer.errors import ComposeError, UsageError
    from pycontainer.formats import filters as _filters
    from pycontainer.ops.ps import PsOptions, list_containers

    try:
        wanted = _filters.parse(filters)
        _filters.validate(wanted, FILTERS)
    except UsageError as exc:  # Compose's own error: exit 1
        raise ComposeError(str(exc)) from None
    opts = PsOptions(all=all, filters=[f"label={lookup.PROJECT}", f"label={lookup.CONFIG_HASH}"])
    groups: dict[str, list[tuple[str, str | None]]] = {}
    for e in list_containers(paths, opts):
        groups.setdefault(e.labels[lookup.PROJECT], []).append(
            (e.state, e.labels.get(lookup.CONFIG_FILES)))
    out = [Stack(name, combined_status([s for s, _ in rows]),
                 combined_files([f for _, f in rows]))
           for name, rows in sorted(groups.items())]
    return [s for s in out if _name_matches(s.Name, wanted.get("name", []))]


def _name_matches(name: str, patterns: list[str]) -> bool:
    import re

    def one(p: str) -> bool:
        try:
            return name == p or re.search(p, name) is not None
        except re.error:
            return False

    return not patterns or any(one(p) for p in patterns)


def combined_status(states: list[str]) -> str:
    """`exited(1), running(2)`: each state's count, states sorted."""
    counts: dict[str, int] = {}
    for state in states:
        counts[state] = counts.get(state, 0) + 1
    return ", ".join(f"{state}({n})" for state, n in sorted(counts.items()))


def combined_files(labels: list[str | None]) -> str:
    """The containers' config files, each once in order; N/A when one has no label."""
    files: list[str] = []
    for label in labels:
        if label is None:
            return "N/A"
        files += [f for f in label.split(",") if f not in files]
    return ",".join(files)
