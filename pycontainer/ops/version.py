"""`pyc version`'s record: light on imports (no `platform`, whose regexes cost more than the
record), as scripts run `pyc version` to see that an engine is there."""

from __future__ import annotations

import os
import sys
from typing import Any

from pycontainer import __version__


class GoFields(dict[str, Any]):
    """A record whose JSON names differ from the Go field names Docker's templates use
    (`ApiVersion` in JSON, `{{.Client.APIVersion}}` in a template): both find the value,
    JSON output shows the JSON name only."""

    ALIASES = {"APIVersion": "ApiVersion"}

    def __contains__(self, key: object) -> bool:
        return super().__contains__(self.ALIASES.get(str(key), key))

    def __getitem__(self, key: str) -> Any:
        return super().__getitem__(self.ALIASES.get(key, key))


def arch() -> str:
    """Go's GOARCH for this machine."""
    machine = os.uname().machine
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}.get(machine, machine)


def version_report() -> dict[str, Any]:
    """Docker's `version` record. No daemon: the engine is this pyc, so Server is pyc too
    (scripts ask `{{.Server.Version}}` to see that an engine is there)."""
    common = {"Version": __version__, "ApiVersion": __version__, "Os": "linux",
              "Arch": arch(), "BuildTime": ""}
    python = sys.version.split()[0]  # platform.python_version()
    return {
        "Client": GoFields(**common, PythonVersion=python, Rootless=os.getuid() != 0),
        "Server": GoFields(**common, MinAPIVersion=__version__,
                           KernelVersion=os.uname().release,  # platform.release()
                           Platform={"Name": "pyc (rootless, daemonless)"},
                           Components=[{"Name": "Engine", "Version": __version__,
                                        "Details": {"Rootless": os.getuid() != 0}}]),
    }
