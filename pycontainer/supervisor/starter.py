"""The short-lived half of the supervisor: parse the bundle and launch the container.

It runs in a forked child so that its imports (dataclasses, the runtime, the storage
drivers, ctypes) never weigh on the supervisor that lives as long as the container.
"""

from __future__ import annotations

import marshal
import os
from typing import Any


def start(launch: dict[str, Any], child: dict[str, int], start_fd: int, error_fd: int) -> bytes:
    """Launch; returns the report for the supervisor (marshal: no json import there)."""
    from pycontainer.oci.runtime import Spec
    from pycontainer.runtime.base import Stdio
    from pycontainer.runtime.launch import LaunchConfig
    from pycontainer.runtime.launch import launch as do_launch

    cfg = LaunchConfig(**launch)
    with open(os.path.join(cfg.bundle, "config.json"), "rb") as f:
        spec = Spec.from_json(f.read())
    stdio = Stdio(child["stdin"], child["stdout"], child["stderr"],
                  console_socket=child["console"])
    launched = do_launch(cfg, spec, stdio, start_fd, error_fd)
    report: dict[str, Any] = {"pid": launched.pid, "helpers": launched.helper_pids}
    if launched.error is not None:
        e = launched.error
        report = {"error": {"stage": e.stage, "errno": e.errno, "msg": e.message},
                  "helpers": launched.helper_pids}
    return marshal.dumps(report)


def close_all_but(keep: set[int]) -> None:
    """The starter and the container must not hold the supervisor's other descriptors (the
    start pipe's write end above all: the container waits for its EOF if we die)."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                continue
