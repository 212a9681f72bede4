"""How pyc starts another Python process running one of its own modules.

The per-container supervisor and other helpers are fresh interpreters, not forks of the CLI,
so they carry none of the CLI's imports (typer, rich) and stay small. This works the same for
a pip install, an editable checkout and an extracted zipapp: the directory holding the
`pycontainer` package goes first on the new interpreter's sys.path.
"""

from __future__ import annotations

import os
import sys


def package_root() -> str:
    import pycontainer

    return os.path.dirname(os.path.dirname(os.path.abspath(pycontainer.__file__)))


def python_argv(module: str, *args: str) -> list[str]:
    """argv that runs `python -m module args...` with pyc's package importable, without site.

    `-S` skips site-packages processing (faster start, smaller process); the package root is
    put on sys.path explicitly instead.
    """
    boot = (
        f"import sys;sys.path.insert(0,{package_root()!r});"
        f"import runpy;sys.argv[0]={module!r};"
        f"runpy.run_module({module!r},run_name='__main__',alter_sys=True)"
    )
    return [sys.executable, "-S", "-c", boot, *args]
