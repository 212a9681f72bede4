"""The command tree: Docker's top-level verbs and management groups.

Each `cli/<family>.py` module has `register(app, groups)` that adds its commands; a verb that
Docker offers both at the top level and in a group (`pyc ps` / `pyc container ls`) is one
function registered twice.
"""

from __future__ import annotations

import typer

GROUPS = {
    "container": "Manage containers.",
    "image": "Manage images.",
    "volume": "Manage volumes.",
    "network": "Manage networks.",
    "system": "Manage pyc and check the host.",
}


def register(app: typer.Typer) -> None:
    from pycontainer.cli import app as app_module
    from pycontainer.cli import build, containers, images, networks, stats, system, unshare, volumes

    groups = {
        name: typer.Typer(
            name=name, help=text, no_args_is_help=True, context_settings=app_module.CONTEXT
        )
        for name, text in GROUPS.items()
    }
    for module in (system, images, build, containers, stats, unshare, volumes, networks):
        module.register(app, groups)
    for name, group in groups.items():
        if group.registered_commands or group.registered_groups:
            app.add_typer(group, name=name)
