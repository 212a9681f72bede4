"""Podman's `--sort` and `--noheading` for `ps` and `images` (no typer: the fast path)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pycontainer.errors import UsageError

if TYPE_CHECKING:
    from pycontainer.ops.images import ImageRow
    from pycontainer.ops.ps import PsEntry

#: `ps --sort` keys (Podman's names) -> the PsEntry value they order by, ascending
PS_SORT: dict[str, Callable[[PsEntry], str | float | int]] = {
    "command": lambda e: e.command, "created": lambda e: e.created, "id": lambda e: e.id,
    "image": lambda e: e.image, "names": lambda e: e.name,
    "runningfor": lambda e: e.created, "size": lambda e: e.size_rw or 0,
    "status": lambda e: e.state,
}
#: `images --sort` keys -> (the ImageRow value, newest/biggest first?)
IMAGES_SORT: dict[str, tuple[Callable[[ImageRow], str | float | int], bool]] = {
    "created": (lambda r: r.created, True), "id": (lambda r: r.id, False),
    "repository": (lambda r: r.repository, False), "size": (lambda r: r.size, False),
    "tag": (lambda r: r.tag, False),
}


def sort_ps(entries: list[PsEntry], key: str | None) -> list[PsEntry]:
    if not key:
        return entries
    if key not in PS_SORT:
        raise UsageError(f'invalid argument "{key}" for "--sort" flag: "{key}" is not a valid '
                         f'value.  Choose from: "{", ".join(PS_SORT)}"')
    return sorted(entries, key=PS_SORT[key])


def sort_images(rows: list[ImageRow], key: str | None) -> list[ImageRow]:
    if not key:
        return rows
    if key not in IMAGES_SORT:
        raise UsageError(f'"{key}" is not a valid field for sorting. Choose from: '
                         f'{", ".join(IMAGES_SORT)}')
    value, reverse = IMAGES_SORT[key]
    return sorted(rows, key=value, reverse=reverse)


def without_header(text: str, fmt: str | None) -> str:
    """`--noheading`: a table's output less its title line (the widths stay, as Podman's)."""
    if fmt and not fmt.startswith("table") or fmt and fmt.strip() == "json":
        return text
    return text.split("\n", 1)[1] if "\n" in text else ""
