"""Command-line flags as data, and a small parser for the hot commands.

A command's flags are declared once, as `Flag`s. `typed_signature` turns them into the typer
signature the command is registered with (help, errors, every unusual case), and `flag_values`
reads the same flags without importing typer: loading typer and building its click command
is ~15 ms, a fifth of `pyc run --rm busybox true`. `flag_values` handles the argument lists
click accepts (long options with `=` or a separate value, grouped short flags, a short option
with its value attached, `--`, no options after the first positional when `interspersed` is
off), and Docker's `--flag=true|false` for booleans, which click refuses; it gives up
(returns None) on anything else, so that typer parses it and reports the error exactly as it
always does. tests/unit/cli/test_flags.py checks both give the same parameters.

No typer here: this module is imported on the fast path.
"""

from __future__ import annotations

from typing import Any

BOOL, STR, INT, LIST = "bool", "str", "int", "list"
#: strconv.ParseBool, which Docker's boolean flags take after `=`
_GO_BOOL: dict[str, bool] = {**dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True),
                            **dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False)}


def go_bool(value: str) -> bool | None:
    """Go's strconv.ParseBool, which Docker's boolean flags take after `=`; None if neither."""
    return _GO_BOOL.get(value)


class Flag:
    """One option: `name` is its key in the parameters, `decls` its spellings (long first),
    `off` the spelling that sets a boolean flag to False (`--no-sig-proxy`)."""

    __slots__ = ("name", "decls", "kind", "default", "help", "hidden", "off")

    def __init__(self, name: str, decls: tuple[str, ...], kind: str, default: Any = None,
                 help: str = "", hidden: bool = False, off: str | None = None) -> None:
        self.name, self.decls, self.kind, self.default = name, decls, kind, default
        self.help, self.hidden, self.off = help, hidden, off

    def initial(self) -> Any:
        if self.kind == LIST:
            return list(self.default or ())
        if self.kind == BOOL:
            return bool(self.default)
        return self.default


class GlobalOptions:
    """The root command's options (`pyc --root DIR --runroot DIR --log-level L ...`)."""

    __slots__ = ("root", "runroot", "log_level")

    def __init__(self, root: str | None = None, runroot: str | None = None,
                 log_level: str = "warning") -> None:
        self.root, self.runroot, self.log_level = root, runroot, log_level


class Arg:
    """A positional argument; `many` takes all the rest (`[COMMAND] [ARG...]`)."""

    __slots__ = ("name", "metavar", "many", "required")

    def __init__(self, name: str, metavar: str, many: bool = False,
                 required: bool = True) -> None:
        self.name, self.metavar, self.many, self.required = name, metavar, many, required


def flag_values(args: list[str], flags: tuple[Flag, ...], positional: tuple[Arg, ...],
                interspersed: bool = True) -> dict[str, Any] | None:
    """The parameters `args` give a command with these flags, as typer would; None where
    typer must decide (help, an unknown or malformed option, a missing argument)."""
    spell: dict[str, tuple[Flag, bool]] = {}
    for f in flags:
        for d in f.decls:
            spell[d] = (f, True)
        if f.off:
            spell[f.off] = (f, False)
    params = {f.name: f.initial() for f in flags}
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            rest += args[i:]
            break
        if arg[:1] != "-" or arg == "-":
            rest.append(arg)
            if not interspersed:
                rest += args[i:]
                break
            continue
        taken = _option(arg, args, i, spell, params)
        if taken is None:
            return None
        i += taken
    return _positionals(rest, positional, params)


def _option(arg: str, args: list[str], i: int, spell: dict[str, tuple[Flag, bool]],
            params: dict[str, Any]) -> int | None:
    """Apply one option word; how many following words it used, None to give up."""
    if arg.startswith("--"):
        name, eq, value = arg.partition("=")
        found = spell.get(name)
        if found is None:
            return None
        f, on = found
        if f.kind == BOOL:
            if eq:  # Docker's (Go's) `--rm=true`, `--detach=false`
                truth = _GO_BOOL.get(value)
                if truth is None or not on or (f.default and not truth and not f.off):
                    return None  # click cannot turn off a default-true flag without `--no-`
                params[f.name] = truth
                return 0
            params[f.name] = on
            return 0
        if eq:
            return 0 if _store(f, value, params) else None
        if i >= len(args):
            return None
        return 1 if _store(f, args[i], params) else None
    for pos in range(1, len(arg)):  # -it, -p80:80, -dp 80:80
        found = spell.get("-" + arg[pos])
        if found is None:
            return None
        f, on = found
        if f.kind == BOOL:
            params[f.name] = on
            continue
        if pos + 1 < len(arg):
            return 0 if _store(f, arg[pos + 1:], params) else None
        if i >= len(args):
            return None
        return 1 if _store(f, args[i], params) else None
    return 0


def _store(f: Flag, value: str, params: dict[str, Any]) -> bool:
    if f.kind == LIST:
        params[f.name].append(value)
    elif f.kind == INT:
        try:
            params[f.name] = int(value)
        except ValueError:
            return False
    else:
        params[f.name] = value
    return True


def _positionals(rest: list[str], positional: tuple[Arg, ...],
                 params: dict[str, Any]) -> dict[str, Any] | None:
    for arg in positional:
        if arg.many:
            if arg.required and not rest:
                return None
            params[arg.name] = rest
            rest = []
        elif rest:
            params[arg.name] = rest.pop(0)
        elif arg.required:
            return None
        else:
            params[arg.name] = None
    return None if rest else params


def typer_command(command: Any, flags: tuple[Flag, ...], positional: tuple[Arg, ...],
                  name: str, help: str) -> Any:
    """The function typer registers for a command of the fast path: typer parses (help,
    errors, the unusual cases), then `command(params, verb, global options)` runs as it
    does without typer."""
    def run(ctx: Any, **params: Any) -> None:
        command(ctx.params, ctx.info_name, ctx.find_root().obj)

    run.__name__, run.__doc__ = name, help
    return typed_signature(run, flags, positional)


def typed_signature(func: Any, flags: tuple[Flag, ...], positional: tuple[Arg, ...]) -> Any:
    """Give `func(ctx, **params)` the signature typer builds its command from."""
    import inspect

    import typer

    P = inspect.Parameter
    types = {BOOL: bool, STR: str, INT: int, LIST: list[str]}
    params = [P("ctx", P.POSITIONAL_OR_KEYWORD, annotation=typer.Context)]
    for a in positional:
        default = typer.Argument(... if a.required else None, metavar=a.metavar)
        params.append(P(a.name, P.POSITIONAL_OR_KEYWORD, default=default,
                        annotation=list[str] if a.many else str))
    for f in flags:
        decls = f.decls if not f.off else (f"{f.decls[0]}/{f.off}", *f.decls[1:])
        option = typer.Option(f.initial(), *decls, help=f.help, hidden=f.hidden)
        params.append(P(f.name, P.POSITIONAL_OR_KEYWORD, default=option,
                        annotation=types[f.kind]))
    func.__signature__ = inspect.Signature(params)
    func.__annotations__ = {p.name: p.annotation for p in params}
    return func
