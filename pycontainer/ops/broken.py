"""`rm -f` of a container whose records do not parse (containers.store.BrokenRecord).

Its state is unknown, so it may still run: the processes the supervisor's pid file names
are killed first; then its network, writable layer, run dir, name and directory go, as
for any removal. What its config.json says is used when that record is intact.
"""

from __future__ import annotations

import contextlib
import signal
import time

from pycontainer.containers.lifecycle import Status
from pycontainer.containers.model import Container, ContainerConfig, ContainerState
from pycontainer.containers.store import ContainerStore
from pycontainer.errors import PycError
from pycontainer.linux import proc
from pycontainer.oci.convert import ContainerSpec
from pycontainer.paths import Paths


def remove(paths: Paths, store: ContainerStore, cid: str) -> Container:
    """Remove the broken container `cid` (its lock held); returns what is known of it."""
    from pycontainer.ops import netsetup

    config = _config(store, cid)
    _kill(store, cid)
    with contextlib.suppress(PycError, OSError):
        netsetup.teardown(paths, store, cid)
    c = Container(config or ContainerConfig(cid, store.name_of(cid), "", "", "",
                                          ContainerSpec(), None),
                  ContainerState(status=Status.EXITED))
    if config is not None:
        from pycontainer.ops import limits

        with contextlib.suppress(PycError, OSError):
            limits.release_all(paths, c)
    _remove_tree(store, c, config is not None)
    store.release_name(c.name or store.name_of(cid), cid)
    return c


def _config(store: ContainerStore, cid: str) -> ContainerConfig | None:
    try:
        return store.load_config(cid)
    except PycError:
        return None


def _kill(store: ContainerStore, cid: str) -> None:
    """SIGKILL the container's init and its supervisor if the pid file names live ones."""
    import json

    from pycontainer.supervisor import protocol as sp

    try:
        with open(sp.pid_file(str(store.run_dir(cid))), "rb") as f:
            rec = json.loads(f.read())
        pid, started = int(rec.get("pid", 0)), rec.get("started")
        supervisor = int(rec.get("supervisor", 0))
    except (OSError, ValueError, TypeError, AttributeError):
        return  # never started, or its pid file is as broken as its state
    if pid:
        proc.kill(pid, signal.SIGKILL, started)
    deadline = time.monotonic() + 5.0
    while supervisor and proc.alive(supervisor) and time.monotonic() < deadline:
        time.sleep(0.01)
    if supervisor and proc.alive(supervisor):
        proc.kill(supervisor, signal.SIGKILL)


def _remove_tree(store: ContainerStore, c: Container, known: bool) -> None:
    """The writable layer (owned by subordinate ids: removed in the user namespace), then
    the container's directory and run dir."""
    import shutil

    from pycontainer.linux import userns
    from pycontainer.storage import driver as trees
    from pycontainer.storage import select as drivers

    d = store.dir(c.id)
    with contextlib.suppress(OSError, PycError):
        if known and c.config.rootfs:
            mapping = c.config.id_mapping()
            drivers.driver(c.config.rootfs.driver).remove(d / "storage", mapping)
        trees.remove_tree(d, userns.default_mapping())
    shutil.rmtree(store.run_dir(c.id), ignore_errors=True)
    shutil.rmtree(d, ignore_errors=True)
