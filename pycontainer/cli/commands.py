"""The command tree: Docker's top-level verbs and management groups.

Each `cli/<family>.py` module has `register(app, groups)` that adds its commands; a verb that
Docker offers both at the top level and in a group (`pyc ps` / `pyc container ls`) is one
function registered twice.

Building typer's whole tree costs tens of milliseconds, and `pyc run` is a hot path, so only
the modules that provide the command being run are loaded: `INDEX` maps each top-level name
to them (tests/unit/cli/test_commands.py keeps it in step with the modules). An unknown name,
or none (`pyc --help`), loads everything so help and "No such command" stay right.
"""

from __future__ import annotations

import importlib

import typer

GROUPS = {
    "container": "Manage containers.",
    "image": "Manage images.",
    "volume": "Manage volumes.",
    "network": "Manage networks.",
    "builder": "Manage builds.",
    "buildx": "Docker Buildx's build, run by the classic builder.",
    "system": "Manage pyc and check the host.",
    "healthcheck": "Run container healthchecks.",
    "compose": "Define and run multi-container applications (Docker Compose v2).",
    "kube": "Kubernetes YAML of what runs, and running it (Podman's kube).",
    "generate": "Generate structured data (Podman's generate kube).",
    "play": "Play structured data (Podman's play kube).",
    "pod": "Manage pods (Podman's).",
}

MODULES = ("system", "images", "build", "builder", "containers", "stats", "unshare", "volumes",
           "networks", "health", "service", "events", "compose", "kube", "pods")

_C, _I = ("containers",), ("images",)
INDEX: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        ("attach", "commit", "cp", "create", "diff", "exec", "export", "inspect", "kill", "logs",
         "port", "ps", "rename", "restart", "rm", "run", "start", "stop", "top", "wait"), _C),
    **dict.fromkeys(
        ("history", "images", "import", "load", "login", "logout", "pull", "push", "rmi",
         "save", "tag", "untag"), _I),
    **dict.fromkeys(("pause", "unpause", "stats", "update"), ("stats",)),
    "build": ("build",),
    "buildx": ("build",),
    "builder": ("builder",),
    "container": ("containers", "stats"),
    "image": ("images", "build"),
    "info": ("system",),
    "version": ("system",),
    "system": ("system", "service", "events"),
    "events": ("events",),
    "network": ("networks",),
    "volume": ("volumes",),
    "unshare": ("unshare",),
    "healthcheck": ("health",),
    "compose": ("compose",),
    **dict.fromkeys(("kube", "generate", "play"), ("kube",)),
    "pod": ("pods",),
}

# Options of the root command that take a value: skipped when looking for the command name.
_GLOBAL_VALUE_OPTIONS = ("--root", "--runroot", "--log-level")


def command_name(argv: list[str]) -> str | None:
    """The top-level command in `argv`, or None (only options, or help)."""
    args = iter(argv)
    for arg in args:
        if arg in _GLOBAL_VALUE_OPTIONS:
            next(args, None)
        elif not arg.startswith("-"):
            return arg
    return None


def register(app: typer.Typer, name: str | None = None) -> None:
    # the root command's settings (app.CONTEXT), read off `app`: cli.app imports this module
    groups = {
        group: typer.Typer(
            name=group, help=text, no_args_is_help=True,
            context_settings=app.info.context_settings,
        )
        for group, text in GROUPS.items()
    }
    known = name in INDEX
    wanted = INDEX.get(name or "", MODULES)
    for module in MODULES:
        if module in wanted:
            importlib.import_module(f"pycontainer.cli.{module}").register(app, groups)
    if known:
        # typer turns every registered function into a click command (signature inspection,
        # ~0.2 ms each): keep only the one being run (`pyc run`: 8 -> 1 ms)
        app.registered_commands = [c for c in app.registered_commands
                                   if (c.name or getattr(c.callback, "__name__", "")) == name]
    for group_name, group in groups.items():
        if known and group_name != name:
            continue
        if group.registered_commands or group.registered_groups:
            app.add_typer(group, name=group_name)
