"""Cheap help for `pyc --help` and `pyc GROUP --help`: a listing of commands.

A listing shows each command's name and the first line of its help, nothing of its options,
yet typer turns every registered function into a click command first (signature and type
hint inspection: ~100 ms of `pyc --help` for the ~120 commands). For a listing the commands
are registered as stubs with the same name, help and visibility, and no parameters, so the
text is the same (tests/unit/cli/test_group_help.py compares it) at a fraction of the cost.

No typer here: the CLI's app module passes its typer objects in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pycontainer.cli.commands import GROUPS

_HELP = ("--help", "-h")
_GLOBAL_VALUE_OPTIONS = ("--root", "--runroot", "--log-level")


def is_listing(args: list[str]) -> bool:
    """`pyc [GLOBALS] [GROUP] [--help|-h]`: the root's or a group's help and nothing else."""
    i = 0
    while i < len(args):
        name = args[i].partition("=")[0]
        if name not in _GLOBAL_VALUE_OPTIONS:
            break
        i += 1 if "=" in args[i] else 2
    rest = args[i:]
    if rest and rest[0] in GROUPS:
        rest = rest[1:]
    elif not rest:  # `pyc --root D` alone is "Missing command": leave it to typer
        return i == 0
    return rest in ([], ["--help"], ["-h"])


def _stub(fn: Callable[..., Any] | None) -> Callable[..., None]:
    def stub() -> None:
        raise AssertionError("a help stub was invoked")  # is_listing runs no command

    stub.__name__ = getattr(fn, "__name__", "stub")
    stub.__doc__ = getattr(fn, "__doc__", None)
    return stub


def stub_commands(app: Any) -> None:
    """Replace the commands of a typer app and of its groups by stubs (callbacks, which
    declare a group's own options, stay)."""
    for info in app.registered_commands:
        info.callback = _stub(info.callback)
    for group in app.registered_groups:
        stub_commands(group.typer_instance)
