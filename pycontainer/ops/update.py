"""`pyc update` (new limits for a container) and `pyc pause` / `pyc unpause` (the freezer).

Each runs lock -> sync -> check the state -> act on the cgroup -> save, like every verb in
`ops.lifecycle`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from pycontainer.containers import lifecycle
from pycontainer.containers.lifecycle import ACTIVE, Status
from pycontainer.containers.model import Container
from pycontainer.containers.store import ContainerStore
from pycontainer.errors import Conflict, HostError
from pycontainer.linux.cgroup_container import ContainerCgroup
from pycontainer.linux.cgroup_limits import Limits
from pycontainer.ops import events, limits
from pycontainer.ops.lifecycle import load_synced
from pycontainer.paths import Paths

if TYPE_CHECKING:
    from pycontainer.oci.specjson import ResourcesJSON

_SEE = "see `pyc system check`"


def update(paths: Paths, ref: str, flags: limits.LimitFlags) -> str:
    """Merge the new limits into the container's and apply them if it runs."""
    store = ContainerStore(paths)
    cid = store.resolve(ref)
    with store.lock(cid):
        c = load_synced(store, cid)
        old = limits.limits_of(c)
        new = merge(old, limits.parse(flags))
        new.validate()
        if c.state.status in ACTIVE:
            _cgroup(c, "updating limits").update(replace(new, oom_score_adj=None))
        c.config.spec.limits = limits.as_record(new)
        _store_resources(store, c, limits.to_resources(new))
    return cid


def merge(old: Limits, update: Limits) -> Limits:
    if update.cpus is not None:  # one way of limiting the CPU replaces the other
        old = replace(old, cpu_period=None, cpu_quota=None)
    elif update.cpu_period is not None or update.cpu_quota is not None:
        old = replace(old, cpus=None)
    merged = old.merged(update)
    if (update.memory is not None and update.memory_swap is None and old.memory
            and old.memory_swap == 2 * old.memory):
        # swap was Docker's default (as much as memory): it follows the new memory limit
        merged = replace(merged, memory_swap=2 * update.memory if update.memory > 0 else None)
    return merged


def _store_resources(store: ContainerStore, c: Container, resources: ResourcesJSON) -> None:
    """The record and the bundle's config.json, so that the next start keeps the limits."""
    c.config.spec.resources = resources
    store.save_config(c.config)
    spec = store.load_bundle_spec(c.id)
    spec.linux.resources = resources.copy()
    store.save_bundle_spec(c.id, spec)


def _cgroup(c: Container, action: str) -> ContainerCgroup:
    cg = ContainerCgroup.from_record(c.state.cgroup)
    if not cg.enabled:
        raise HostError(f"{action} needs a cgroup, and container {c.id[:12]} has none: this "
                        f"user had no delegated cgroup when it started; {_SEE}")
    return cg


def pause(paths: Paths, ref: str) -> str:
    store = ContainerStore(paths)
    cid = store.resolve(ref)
    with store.lock(cid):
        c = load_synced(store, cid)
        if c.state.status == Status.PAUSED:
            raise Conflict(f"Container {cid} is already paused")
        if c.state.restarting:
            raise Conflict(f"Container {cid} is restarting, wait until the container is "
                           "running")
        if c.state.status != Status.RUNNING:
            raise Conflict(f"Container {cid} is not running")
        lifecycle.transition(c.name, c.state.status, Status.PAUSED, "pause")
        _cgroup(c, "pausing").freeze()
        c.state.status = Status.PAUSED
        store.save(cid, c.state)
    events.container(paths, c, "pause")
    return cid


def unpause(paths: Paths, ref: str) -> str:
    store = ContainerStore(paths)
    cid = store.resolve(ref)
    with store.lock(cid):
        c = load_synced(store, cid)
        if c.state.status != Status.PAUSED:
            raise Conflict(f"Container {cid} is not paused")
        lifecycle.transition(c.name, c.state.status, Status.RUNNING, "unpause")
        _cgroup(c, "unpausing").thaw()
        c.state.status = Status.RUNNING
        store.save(cid, c.state)
    events.container(paths, c, "unpause")
    return cid
