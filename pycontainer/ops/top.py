"""`top`: the host's `ps`, kept to the processes in the container's pid namespace."""

from __future__ import annotations

import contextlib
import os

from pycontainer.containers.store import ContainerStore
from pycontainer.errors import Conflict, ContainerRuntimeError
from pycontainer.paths import Paths


def top(paths: Paths, ref: str, ps_args: list[str]) -> str:
    """Docker's way: run the host's `ps` and keep the container's processes."""
    import subprocess

    # the container store, not ops.lifecycle's helpers: that module (start, stop and
    # their hooks) would be most of a `top`'s time to import
    store = ContainerStore(paths)
    cid = store.resolve(ref)
    with store.lock(cid):
        c = store.load(cid)
        if store.sync(c):
            store.save(cid, c.state)
    if not c.state.running:
        raise Conflict(f"container {cid} is not running")
    pids = set(_pids_in_pidns(c.state.pid))
    res = subprocess.run(["ps", *(ps_args or ["-ef"])], capture_output=True, text=True)
    if res.returncode != 0:
        raise ContainerRuntimeError(f"ps failed: {res.stderr.strip()}")
    lines = res.stdout.splitlines()
    if not lines:
        return ""
    header = lines[0].split()
    col = header.index("PID") if "PID" in header else 1
    keep = [ln for ln in lines[1:] if len(ln.split()) > col and ln.split()[col].isdigit()
            and int(ln.split()[col]) in pids]
    return "\n".join([lines[0], *keep]) + "\n"


def _pids_in_pidns(pid: int) -> list[int]:
    try:
        target = os.stat(f"/proc/{pid}/ns/pid").st_ino
    except OSError:
        return []
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if os.stat(f"/proc/{entry}/ns/pid").st_ino == target:
                    out.append(int(entry))
    return out
