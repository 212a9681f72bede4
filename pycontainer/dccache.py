"""A cache of the code that dataclasses generate, for the command line's start-up.

For every class, Python's dataclasses write the source of `__init__`, `__repr__`, `__eq__`
(and more for frozen ones) and compile it: ~200 compiles on the way to `pyc run`, 7-10 ms of
a command that takes 80. `install` keeps the compiled code objects in one marshal file under
the user's cache directory, keyed by their exact source text, and redirects dataclasses' own
`exec` (a global of that module, nothing else's) to look there first. A hit runs the very
code object compiling the same text gives; a missing, unreadable or foreign cache only means
compiling as usual, and `save` writes what was new (write-then-rename).

Only the CLI's entry point installs it; importing pycontainer as a library changes nothing.
`PYC_NO_CODE_CACHE=1` turns it off, and so does a dataclasses module that no longer calls a
global `exec` (how it compiles is CPython's private business): then nothing is redirected.
"""

from __future__ import annotations

import builtins
import contextlib
import marshal
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types import ModuleType

#: past this many entries (old pyc versions' classes pile up) the file starts over
MAX_ENTRIES = 4000

_codes: dict[str, Any] = {}
_new: dict[str, Any] = {}
_path = ""


def cache_file() -> str:
    base = os.environ.get("XDG_CACHE_HOME")
    if not base or not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    # marshal's format and the generated text belong to one Python version
    return os.path.join(base, "pycontainer", f"dataclasses-{sys.implementation.cache_tag}.bin")


def install(path: str | None = None) -> None:
    global _path
    import dataclasses

    if os.environ.get("PYC_NO_CODE_CACHE") == "1" or not _compiles_with_exec(dataclasses):
        return
    _path = path or cache_file()
    try:
        with open(_path, "rb") as f:
            directory = os.stat(os.path.dirname(_path))
            if _trusted(os.fstat(f.fileno())) and _trusted(directory):
                _make_private(os.path.dirname(_path), directory)
                loaded = marshal.loads(f.read())
                if isinstance(loaded, dict):
                    _codes.update(loaded)
    except (OSError, ValueError, EOFError, TypeError):
        pass
    dataclasses.exec = _exec  # type: ignore[attr-defined]


def _compiles_with_exec(module: ModuleType) -> bool:
    """Whether dataclasses' code maker (`_create_fn` up to 3.12, `_FuncBuilder` after) looks
    `exec` up as a global, which is what `install` redirects."""
    for name in ("_create_fn", "_FuncBuilder"):
        obj = getattr(module, name, None)
        if obj is None:
            continue
        funcs = [obj] if hasattr(obj, "__code__") else list(vars(obj).values())
        codes = [f.__code__ for f in funcs if hasattr(f, "__code__")]
        if any("exec" in code.co_names for code in codes):
            return True
    return False


def _trusted(st: os.stat_result) -> bool:
    """Code is loaded only from what this user alone can write: under `sudo` HOME may still
    be the invoking user's."""
    return st.st_uid == os.geteuid() and not st.st_mode & 0o022


def _make_private(directory: str, st: os.stat_result) -> None:
    """The cache dir is the user's alone (0700), like the store (paths.private_store, which
    this module cannot import: that would compile Paths before the cache is in place)."""
    if not st.st_mode & 0o077 or st.st_uid != os.geteuid():
        return
    with contextlib.suppress(OSError):
        os.chmod(directory, 0o700)
        sys.stderr.write(f"NOTICE: cache {directory} was accessible to other users (mode "
                         f"{st.st_mode & 0o7777:04o}); made it private (mode 0700)\n")


def _exec(source: Any, globals_: Any = None, locals_: Any = None) -> None:
    code = _codes.get(source) if isinstance(source, str) else None
    if code is None:
        code = compile(source, "<string>", "exec")
        if isinstance(source, str):
            _new[source] = code
    builtins.exec(code, globals_, locals_)


def save() -> None:
    """Write the cache if this process compiled something new; failures are ignored."""
    if not _new or not _path:
        return
    codes = _codes if len(_codes) + len(_new) <= MAX_ENTRIES else {}
    codes.update(_new)
    _new.clear()
    tmp = f"{_path}.{os.getpid()}.tmp"
    try:
        directory = os.path.dirname(_path)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        _make_private(directory, os.stat(directory))
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
            f.write(marshal.dumps(codes))
        os.rename(tmp, _path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
