"""The hot commands (`run`, `create`, `exec`, `ps`, `images`, `inspect`, `start`, `stop`,
`kill`, `restart`, `rm`, `wait`) and those scripts run in loops (`logs`, `top`, `port`,
`pull`, `tag`, `rmi`, `history`, `image inspect`, `version`, `info`, `network ls|create`,
`volume ls|create`) without typer.

`main` reads the global options and the command word (after a management group's name:
`GROUPS`); for a command in `FAST` whose arguments `cli.flags.flag_values` can read, it runs
the command's typer-free implementation and returns its exit status. Anything else (another
command, help, an unknown or malformed flag) returns None and goes through typer, which then
reports usage errors as it always does. Saves importing typer and building its command tree
(~20 ms).
"""

from __future__ import annotations

import importlib
from typing import Any

from pycontainer.cli import exits
from pycontainer.cli.flags import GlobalOptions

_C, _I, _N, _V, _S = ("pycontainer.cli.container_fast", "pycontainer.cli.image_fast",
                      "pycontainer.cli.network_fast", "pycontainer.cli.volume_fast",
                      "pycontainer.cli.system_fast")
#: command word -> the typer-free module with FLAGS and ARGS (or tables(verb)), INTERSPERSED
#: and command()
FAST = {"run": "pycontainer.cli.run", "create": "pycontainer.cli.run",
        "exec": "pycontainer.cli.exec", "ps": "pycontainer.cli.ps",
        **dict.fromkeys(("start", "stop", "kill", "restart", "rm", "wait"),
                        "pycontainer.cli.verbs"),
        "inspect": "pycontainer.cli.inspect", "images": "pycontainer.cli.images_ls",
        **dict.fromkeys(("logs", "top", "port"), _C),
        **dict.fromkeys(("pull", "tag", "rmi", "history"), _I),
        "version": _S, "info": _S}
#: the same commands under `pyc container`, with its aliases (its `inspect` knows no --type)
CONTAINER = {**{k: v for k, v in FAST.items()
                if k not in ("inspect", "images", "pull", "tag", "rmi", "history", "version",
                             "info")},
             "ls": FAST["ps"], "list": FAST["ps"]}
#: management group -> its fast commands; the verb a module sees is the word after the group
GROUPS = {
    "container": CONTAINER,
    "image": {**dict.fromkeys(("pull", "tag", "history", "inspect", "rm"), _I),
              **dict.fromkeys(("ls", "list"), FAST["images"])},
    "network": dict.fromkeys(("ls", "list", "create"), _N),
    "volume": dict.fromkeys(("ls", "list", "create"), _V),
    "system": {"info": _S},
    #: `pyc pod VERB`: its first steps (create, start), whose latency counts
    "pod": dict.fromkeys(("create", "start"), "pycontainer.cli.podverbs"),
}
_GLOBAL = {"--root": "root", "--runroot": "runroot", "--log-level": "log_level"}


def split_globals(args: list[str]) -> tuple[GlobalOptions, str, str, list[str]] | None:
    """`pyc [--root D] [GROUP] VERB ARGS...` -> (options, module, verb, ARGS), or None."""
    gopts = GlobalOptions()
    i = 0
    while i < len(args) and args[i].startswith("-"):
        name, eq, value = args[i].partition("=")
        key = _GLOBAL.get(name)
        if key is None:
            return None
        if not eq:
            if i + 1 >= len(args):
                return None
            value = args[i + 1]
            i += 1
        setattr(gopts, key, value)
        i += 1
    table = FAST
    if i < len(args) and args[i] in GROUPS:
        table = GROUPS[args[i]]
        i += 1
    if i >= len(args) or args[i] not in table:
        return None
    return gopts, table[args[i]], args[i], args[i + 1:]


def tables(module: Any, verb: str) -> tuple[Any, Any]:
    """(ARGS, FLAGS) of `verb`: a module of several verbs has `tables(verb)`."""
    if hasattr(module, "tables"):
        return tuple(module.tables(verb))
    return module.ARGS, module.FLAGS


def main(args: list[str]) -> int | None:
    split = split_globals(args)
    if split is None:
        return None
    gopts, name, verb, rest = split
    module: Any = importlib.import_module(name)
    from pycontainer.cli.flags import flag_values

    positional, flags = tables(module, verb)
    params = flag_values(rest, flags, positional, module.INTERSPERSED)
    if params is None:
        return None
    try:
        module.command(params, verb, gopts)
    except BaseException as exc:
        code = exits.status_of(exc)
        if code is None:
            raise
        return code
    return 0
