"""`--pid container:NAME` and `--ipc container:NAME`: at each start, the joined container's
namespaces by path in the bundle's `config.json` (its init's pid changes with every start).

Namespaces are owned by a user namespace: joining one needs the rights of its owner, so the
launcher joins the other container's user namespace too (as `--network container:` does),
which requires the same id mapping. With `--ipc container:` the container also gets the
other's /dev/shm: as in Docker the donor must be `--ipc shareable`, whose /dev/shm is then a
directory of its own (`userdata/shm`) instead of a tmpfs, which a joiner can bind-mount.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from pycontainer.containers.model import Container
from pycontainer.containers.store import ContainerStore
from pycontainer.errors import Conflict, UsageError

if TYPE_CHECKING:
    from pycontainer.oci.convert import ContainerSpec
    from pycontainer.oci.runtime import Spec

#: spec field -> (runtime-spec namespace type, /proc/PID/ns name, what Docker calls it)
KINDS = {"pid": ("pid", "pid", "PID"), "ipc": ("ipc", "ipc", "IPC")}


def _shm_dir(store: ContainerStore, cid: str) -> str:
    return str(store.userdata(cid) / "shm")


def _set_shm(spec: Spec, source: str) -> None:
    for m in spec.mounts:
        if m.destination == "/dev/shm":
            m.type, m.source, m.options = "bind", source, ["rbind", "nosuid", "noexec", "nodev"]


def joins(spec: ContainerSpec) -> dict[str, str]:
    """{"pid"|"ipc": container ref} of the namespaces this container joins."""
    out = {}
    for key in KINDS:
        mode: str = getattr(spec, key) or ""
        if mode.startswith("container:"):
            out[key] = mode[len("container:"):]
    return out


def prepare(store: ContainerStore, c: Container) -> str:
    """Point the bundle at the joined namespaces; returns the user namespace path the
    launcher must join ("" when nothing is joined, else that container's)."""
    wanted = joins(c.config.spec)
    userns_path = ""
    spec = store.load_bundle_spec(c.id)
    if c.config.spec.pod:  # the pod's infra holds the user namespace and the shared ones
        from pycontainer.ops import podjoin

        userns_path = podjoin.prepare(store.paths, c, spec)
        pod_shm = podjoin.shm(store.paths, c.config.spec.pod)
        if pod_shm:
            _set_shm(spec, pod_shm)
    if c.config.spec.ipc == "shareable":
        # a tmpfs would live in this container's mount namespace, out of others' reach: a
        # directory of the container's is what joiners can bind
        shm = _shm_dir(store, c.id)
        os.makedirs(shm, exist_ok=True)
        os.chmod(shm, 0o1777)
        _set_shm(spec, shm)
    for key, ref in wanted.items():
        ns_type, proc_name, label = KINDS[key]
        other = store.load(store.resolve(ref))
        if other.id == c.id:
            raise UsageError(f"cannot join the {label} namespace of the container itself")
        if other.state.pid == 0 or not other.state.running:
            raise Conflict(f"cannot join {label} namespace of a non running container: "
                           f"{other.name}")
        if other.config.uid_map != c.config.uid_map or other.config.gid_map != c.config.gid_map:
            raise UsageError(f"cannot join the {label} namespace of container {other.name}: "
                             "its user namespace maps other ids (--userns differs)")
        if getattr(other.config.spec, key) == "host":
            raise UsageError(f"cannot join the {label} namespace of container {other.name}: "
                             f"it uses the host's (use --{key} host)")
        pid = other.state.pid
        theirs = f"/proc/{pid}/ns/user"
        if userns_path and _ino(userns_path) != _ino(theirs):
            raise UsageError(f"cannot join the {label} namespace of container {other.name}: "
                             "it is in another user namespace than the other joined one")
        userns_path = theirs
        spec.linux.set_ns_path(ns_type, f"/proc/{pid}/ns/{proc_name}")
        if key == "ipc":
            if other.config.spec.ipc != "shareable":
                raise UsageError(f"cannot join IPC of container {other.name}: non-shareable "
                                 "IPC (hint: use --ipc shareable for the donor container)")
            _set_shm(spec, _shm_dir(store, other.id))
    store.save_bundle_spec(c.id, spec, 0o644)
    return userns_path


def merge(network_userns: str, joined_userns: str) -> str:
    """The launcher joins one user namespace: the network's (user-defined networks,
    `--network container:`) and the joined containers' must be the same one."""
    if not joined_userns:
        return network_userns
    if network_userns and _ino(network_userns) != _ino(joined_userns):
        raise UsageError("cannot join the PID/IPC namespace of a container in another user "
                         "namespace than this container's network (use the same --network)")
    return joined_userns


def _ino(path: str) -> int:
    try:
        return os.stat(path).st_ino
    except OSError:
        return -1
