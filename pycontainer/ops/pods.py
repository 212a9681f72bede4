"""`pyc pod ...`: pods as Podman has them, their infra and their containers' lifecycle.

A pod is a record (`pods.store`) and, while it runs, an infra process (`pods.infra`: catatonit
-P) holding a user namespace with the user's mapping and the namespaces the pod shares; the
pod's containers join them at each start (`ops.podjoin`). Locks: the pod's lock is held only
around the pod's own records and infra, never while a container's lock is taken (a
container's start takes its own lock, then the pod's), so the two orders never cross.
`ops.podinfra` has the record and infra half (create, members, the infra), re-exported here.
"""

from __future__ import annotations

import contextlib
import signal

from pycontainer.containers.model import Container
from pycontainer.errors import Conflict, PodNotFound, PycError
from pycontainer.ops.podinfra import (
    PodCreateOptions,
    check_network,
    create,
    ensure_infra,
    infra_down,
    infra_state,
    members,
    stop_infra,
    store_for,
)
from pycontainer.paths import Paths

__all__ = ["PodCreateOptions", "check_network", "create", "ensure_infra", "infra_state",
           "members", "store_for"]


# -- lifecycle --------------------------------------------------------------------------------

def resolve(paths: Paths, ref: str) -> str:
    return store_for(paths).resolve(ref)


def start(paths: Paths, ref: str) -> str:
    """Start the infra and every container not running, in creation order; after a dead
    infra, containers left in its namespaces are restarted into the new one. The init
    containers (`kube play`'s) run first, in order, each to completion, whenever the pod
    itself starts (a new infra, or no app container running: Podman's `always` init
    containers), not when a stopped member of a running pod is started again."""
    pod_id = resolve(paths, ref)
    _, fresh = ensure_infra(paths, pod_id)
    cs = members(paths, pod_id)
    inits = [c for c in cs if is_init(c)]
    apps = [c for c in cs if c not in inits]
    if not apps:
        return pod_id
    from pycontainer.ops import lifecycle

    todo = [c for c in apps if not c.state.running or fresh]
    if todo and (fresh or len(todo) == len(apps)):  # the pod starts, not one of its members
        _run_inits(paths, inits)
    for c in todo:
        if c.state.running:
            lifecycle.stop(paths, c.id, 1.0)
        lifecycle.start(paths, c.id)
    return pod_id


def is_init(c: Container) -> bool:
    """An init container (`kube play`'s): run to completion before the others."""
    from pycontainer.kube.model import ROLE_LABEL

    return c.config.spec.labels.get(ROLE_LABEL) == "init"


def _run_inits(paths: Paths, inits: list[Container]) -> None:
    from pycontainer.ops import lifecycle

    for c in inits:
        if c.state.running:  # one left from an interrupted start
            lifecycle.stop(paths, c.id, 1.0)
        lifecycle.start(paths, c.id)
        code = lifecycle.wait(paths, c.id)
        if code != 0:
            raise PycError(f"init container {c.name} exited with {code}: the pod's "
                           "containers are not started")


def stop(paths: Paths, ref: str, timeout: float | None = None) -> str:
    """Stop the containers, the last started first, then the infra."""
    from pycontainer.ops import lifecycle

    pod_id = resolve(paths, ref)
    running = [c for c in members(paths, pod_id) if c.state.running]
    running.sort(key=lambda c: c.state.started_at, reverse=True)
    for c in running:
        lifecycle.stop(paths, c.id, timeout)
    infra_down(paths, pod_id)
    return pod_id


def restart(paths: Paths, ref: str, timeout: float | None = None) -> str:
    pod_id = stop(paths, ref, timeout)
    return start(paths, pod_id)


def check_signal(sig: str) -> int:
    from pycontainer.linux import proc

    return proc.parse_signal(sig)


def kill(paths: Paths, ref: str, sig: str = "KILL") -> str:
    """Signal every running container of the pod (Podman: its infra too)."""
    from pycontainer.linux import proc
    from pycontainer.ops import lifecycle

    pod_id = resolve(paths, ref)
    number = proc.parse_signal(sig)
    running = [c for c in members(paths, pod_id) if c.state.running]
    pod = store_for(paths).load(pod_id)
    if not running and infra_state(pod) != "running":
        raise Conflict(f"pod {pod_id} is not running")
    for c in running:
        lifecycle.kill(paths, c.id, number)
    if number in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):  # these end the infra too
        infra_down(paths, pod_id)
    return pod_id


def pause(paths: Paths, ref: str, unpause: bool = False) -> str:
    from pycontainer.containers.lifecycle import Status
    from pycontainer.ops import update

    pod_id = resolve(paths, ref)
    want = Status.PAUSED if unpause else Status.RUNNING
    todo = [c for c in members(paths, pod_id) if c.state.status == want]
    if not todo:
        what = "paused" if unpause else "running"
        raise Conflict(f"pod {pod_id} has no {what} containers")
    for c in todo:
        (update.unpause if unpause else update.pause)(paths, c.id)
    return pod_id


def remove(paths: Paths, ref: str, force: bool = False, timeout: float | None = None) -> str:
    """Remove the pod and its containers; running ones only with `force` (stopped first
    with `timeout`, as Podman's `pod rm -f -t`)."""
    from pycontainer.ops import lifecycle

    pod_id = resolve(paths, ref)
    cs = members(paths, pod_id)
    busy = [c for c in cs if c.state.running]
    if busy and not force:
        raise Conflict(f"pod {pod_id} has containers that are not ready to be removed: "
                       f"cannot remove container {busy[0].id} as it is running - running or "
                       "paused containers cannot be removed without force")
    if timeout is not None:
        for c in sorted(busy, key=lambda c: c.state.started_at, reverse=True):
            with contextlib.suppress(PycError):
                lifecycle.stop(paths, c.id, timeout)
    for c in sorted(cs, key=lambda c: c.state.started_at, reverse=True):
        with contextlib.suppress(PycError):
            lifecycle.remove(paths, c.id, force=True)
    store = store_for(paths)
    with store.lock(pod_id):
        pod = store.load(pod_id)
        stop_infra(pod)
        store.delete(pod)
    return pod_id


def remove_all(paths: Paths, force: bool = False, timeout: float | None = None) -> list[str]:
    out = []
    for pod_id in store_for(paths).ids():
        with contextlib.suppress(PodNotFound):
            out.append(remove(paths, pod_id, force, timeout))
    return out


def exists(paths: Paths, ref: str) -> bool:
    return store_for(paths).exists(ref)


def prune(paths: Paths) -> list[str]:
    """Remove the pods with nothing running (Podman: stopped, exited and created pods)."""
    out = []
    store = store_for(paths)
    for pod_id in store.ids():
        try:
            pod = store.load(pod_id)
        except PycError:
            continue
        if any(c.state.running for c in members(paths, pod_id)) or \
                infra_state(pod) == "running":
            continue
        out.append(remove(paths, pod_id))
    return out
