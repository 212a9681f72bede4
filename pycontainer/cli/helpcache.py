"""Help text kept from the last time typer printed it, for `pyc [GROUP] [COMMAND] --help`.

Printing help needs typer and its command tree (`pyc --help`: every command), ~3x Podman's
time for text that only changes with pyc itself. The first `--help` of a command line goes
through typer as always; cli.app keeps what it printed, and later ones print it from here
without typer. An entry is used only while nothing it was made from changed: the source
files of `pycontainer/cli` (help, flags, registration; size and mtime) and pyc's version,
typer's own module, the Python version and the terminal width, which click wraps to. A
missing, unreadable, stale or foreign file means typer prints the help, as without it.

Lives in the user's cache directory beside dccache's file (owner-only, write-then-rename).
`PYC_NO_CODE_CACHE=1` turns it off with the code cache. No typer, json or shutil here: the
entry point reads it before anything else loads.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import sys

from pycontainer.dccache import cache_file

_GLOBAL_VALUE_OPTIONS = ("--root", "--runroot", "--log-level")
#: the most command words a help request has (`pyc image inspect --help`)
_MAX_WORDS = 2


def request(args: list[str]) -> str | None:
    """The key of `pyc [GLOBALS] [WORD [WORD]] --help` (the words before `--help`, which
    the global options do not change), or None for any other command line."""
    i = 0
    while i < len(args) and args[i].partition("=")[0] in _GLOBAL_VALUE_OPTIONS:
        i += 1 if "=" in args[i] else 2
    words = args[i:-1]
    if args[-1:] != ["--help"] or len(words) > _MAX_WORDS:
        return None
    if any(not w or w.startswith("-") for w in words):
        return None
    return " ".join(words)


def _path() -> str:
    return os.path.join(os.path.dirname(cache_file()), f"help-{sys.implementation.cache_tag}.bin")


def _columns() -> int:
    """shutil.get_terminal_size().columns, which click wraps help to (shutil costs more to
    import than printing the help from here does)."""
    with contextlib.suppress(KeyError, ValueError):
        columns = int(os.environ["COLUMNS"])
        if columns > 0:
            return columns
    with contextlib.suppress(AttributeError, ValueError, OSError):
        columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        if columns > 0:
            return columns
    return 80


def fingerprint() -> str:
    """What the help text depends on besides typer, as one string."""
    from pycontainer import __version__

    cli = os.path.dirname(os.path.abspath(__file__))
    with os.scandir(cli) as entries:
        files = sorted(f"{e.name}:{st.st_size}:{st.st_mtime_ns}"
                       for e in entries if e.name.endswith(".py")
                       for st in (e.stat(),))
    width = min(_columns(), 100)  # app.CONTEXT's max_content_width
    return f"{__version__};{sys.version};{width};{','.join(files)}"


def _stamp(path: str) -> str:
    st = os.stat(path)
    return f"{path}:{st.st_size}:{st.st_mtime_ns}"


def _load() -> dict[str, object]:
    try:
        with open(_path(), "rb") as f:
            st = os.fstat(f.fileno())
            if st.st_uid != os.geteuid() or st.st_mode & 0o022:
                return {}
            data = marshal.loads(f.read())
    except (OSError, ValueError, EOFError, TypeError):
        return {}
    return data if isinstance(data, dict) else {}


def lookup(key: str) -> str | None:
    """The help text for `key` if it is still what typer would print."""
    if os.environ.get("PYC_NO_CODE_CACHE") == "1":
        return None
    data = _load()
    texts, typer_stamp = data.get("texts"), data.get("typer")
    if not isinstance(texts, dict) or not isinstance(typer_stamp, str):
        return None
    text = texts.get(key)
    if not isinstance(text, str):
        return None
    try:  # in a zipapp there are no files to stat: no cache
        current = _stamp(typer_stamp.rsplit(":", 2)[0]) == typer_stamp and \
            data.get("fingerprint") == fingerprint()
    except OSError:
        return None
    return text if current else None


def store(key: str, text: str, typer_file: str) -> None:
    """Keep what typer printed for `key`; failures are ignored (the cache is optional)."""
    if os.environ.get("PYC_NO_CODE_CACHE") == "1":
        return
    path = _path()
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        fp, stamp = fingerprint(), _stamp(typer_file)
        data = _load()
        texts = data.get("texts") if data.get("fingerprint") == fp and \
            data.get("typer") == stamp else None
        new = {**(texts if isinstance(texts, dict) else {}), key: text}
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
            f.write(marshal.dumps({"fingerprint": fp, "typer": stamp, "texts": new}))
        os.rename(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def print_cached(args: list[str]) -> bool:
    """Print the kept help for this command line; False if there is none to trust."""
    key = request(args)
    text = lookup(key) if key is not None else None
    if text is None:
        return False
    sys.stdout.write(text)
    return True
