"""`pyc compose`: the project model (pycontainer.compose) for the CLI; what touches the
engine (containers, networks, volumes of a project) comes here too."""

from __future__ import annotations

from typing import Any

from pycontainer.compose.loader import Options, Project

__all__ = ["Options", "Project", "load", "model", "render"]


def load(opts: Options) -> Project:
    from pycontainer.compose import loader

    return loader.load(opts)


def model(project: Project) -> dict[str, Any]:
    from pycontainer.compose import normalize

    return normalize.model(project)


def render(data: dict[str, Any], fmt: str) -> str:
    from pycontainer.compose import render as text

    return text.to_json(data) if fmt == "json" else text.to_yaml(data)
