"""The runtime factory: `--runtime` names the builtin runtime or an external runc/crun (here,
not in `base`, which the runtimes themselves import)."""

from __future__ import annotations

from pycontainer.runtime.base import OCIRuntime


def get(name: str, state_dir: str = "") -> OCIRuntime:
    if name in ("", "builtin", "pyc"):
        from pycontainer.runtime.builtin.create import BuiltinRuntime

        return BuiltinRuntime()
    from pycontainer.runtime.external import ExternalRuntime

    return ExternalRuntime(name, state_dir)
