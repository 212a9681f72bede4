"""How pyc starts another Python process running one of its own modules.

The per-container supervisor and other helpers are fresh interpreters, not forks of the CLI,
so they carry none of the CLI's imports (typer, rich) and stay small. This works the same for
a pip install, an editable checkout and an extracted zipapp: the directory holding the
`pycontainer` package goes first on the new interpreter's sys.path.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pycontainer.paths import Paths


def package_root() -> str:
    import pycontainer

    return os.path.dirname(os.path.dirname(os.path.abspath(pycontainer.__file__)))


def python_argv(module: str, *args: str) -> list[str]:
    """argv that runs `python -m module args...` with pyc's package importable, without site.

    `-S` skips site-packages processing (faster start, smaller process); the package root is
    put on sys.path explicitly instead. The module's file is run as `__main__` directly, not
    through `runpy` (which imports importlib.util and friends: ~0.7 MB more in every
    long-lived supervisor).
    """
    root = package_root()
    path = os.path.join(root, *module.split("."))
    path = os.path.join(path, "__main__.py") if os.path.isdir(path) else path + ".py"
    package = module if path.endswith("__main__.py") else module.rpartition(".")[0]
    boot = (
        f"import sys;sys.path.insert(0,{root!r});sys.argv[0]={module!r};"
        f"m=type(sys)('__main__');m.__file__={path!r};m.__package__={package!r};"
        f"sys.modules['__main__']=m;"
        f"f=open({path!r},'rb');c=compile(f.read(),{path!r},'exec');f.close();"
        f"del f;exec(c,m.__dict__)"
    )
    return [sys.executable, "-S", "-c", boot, *args]


def self_argv() -> list[str]:
    """argv that re-runs this pyc (console script, zipapp or `python -m pycontainer`)."""
    python = [sys.executable, *(["-S"] if sys.flags.no_site else [])]
    script = sys.argv[0] if sys.argv else ""
    if not script or script.endswith(os.path.join("pycontainer", "__main__.py")):
        return [*python, "-m", "pycontainer"]
    if os.path.exists(script):  # the console script, or the .pyz itself
        return [*python, os.path.abspath(script)]
    return [*python, "-m", "pycontainer"]


def exit_command(paths: Paths, cid: str, remove: bool) -> list[str]:
    """The supervisor's exit command: `pyc container cleanup [--rm] ID` on these stores
    (here, not in ops.lifecycle, so that the ops modules building it need not import the
    lifecycle that imports them)."""
    argv = self_argv() + ["--root", str(paths.data), "--runroot", str(paths.runtime),
                          "container", "cleanup"]
    return argv + (["--rm"] if remove else []) + [cid]
