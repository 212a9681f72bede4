"""Image commands (pull, push, images, rmi, tag, save, load, import, history, login)."""

from __future__ import annotations

import typer


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    """Added by the images work (issue 3)."""
