"""A pod's record and infra, for `ops.pods` (the verbs) and `ops.podjoin` (a container's
start): `pod create`, the pod's containers, and starting/stopping the infra process
(`pods.infra`) with its slirp4netns. Nothing here starts or stops containers, so the
container lifecycle can use it without importing back.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pycontainer.containers.model import Container
from pycontainer.containers.names import free_name
from pycontainer.containers.store import ContainerStore
from pycontainer.errors import Conflict, PycError, UsageError
from pycontainer.paths import Paths, ensure_runtime
from pycontainer.pods import infra
from pycontainer.pods.model import Pod, PodConfig, PodState, parse_share
from pycontainer.pods.store import PodStore

if TYPE_CHECKING:
    from pycontainer.linux.userns import IdMapping


@dataclass
class PodCreateOptions:
    name: str = ""
    hostname: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    share: str | None = None  # --share as given; None: the default
    infra: bool = True
    publish: list[str] = field(default_factory=list)
    network: list[str] = field(default_factory=list)
    userns: str = ""
    command: list[str] = field(default_factory=list)


def store_for(paths: Paths) -> PodStore:
    return PodStore(paths)


# -- create ----------------------------------------------------------------------------------

def _check_network(opts: PodCreateOptions, share: list[str]) -> None:
    from pycontainer.network import ports, slirp
    from pycontainer.network.mode import NONE, SLIRP, parse_network_mode

    if not opts.infra:
        if opts.publish:
            raise UsageError("you must have an infra container to publish port bindings "
                             "to the host")
        if opts.network:
            raise UsageError("cannot set --network without an infra container")
        return
    if (opts.publish or opts.network) and "net" not in share:
        raise UsageError("cannot set --network or --publish in a pod that does not share "
                         "its network namespace (--share net)")
    mode = parse_network_mode(opts.network)
    if mode.kind not in (SLIRP, NONE):
        raise UsageError(f"--network {opts.network[0]}: pyc pods support slirp4netns and "
                         "none (not host, container: or user-defined networks)")
    maps = ports.parse_publish_all(opts.publish)
    if maps and mode.kind == NONE:
        raise UsageError("conflicting options: port publishing and the none network mode")
    slirp.check_mappings(maps)
    ports.allocate(maps)  # probe: a taken port fails before the pod exists


def check_network(opts: PodCreateOptions) -> None:
    """What `create` checks of the pod's network and ports, for a caller that checks
    before it makes anything (`kube play`)."""
    _check_network(opts, parse_share(opts.share) if opts.infra else [])


def _userns(value: str) -> str:
    if value in ("", "host", "private"):
        return ""
    if value == "keep-id":
        return value
    raise UsageError(f"--userns={value} is not supported for pods (use keep-id)")


def create(paths: Paths, opts: PodCreateOptions) -> str:
    """Make the pod's record; its infra starts with its first container or `pod start`."""
    from pycontainer.formats.timestamps import rfc3339

    def new_id() -> str:
        return os.urandom(32).hex()

    def now_rfc3339() -> str:
        return rfc3339(fixed=True)

    if opts.share is not None and parse_share(opts.share) and not opts.infra:
        raise UsageError("You must have an infra container to share namespaces")
    share = parse_share(opts.share) if opts.infra else []
    _check_network(opts, share)
    userns = _userns(opts.userns)
    store = store_for(paths)
    store.ensure()
    pod_id = new_id()
    claim = store.begin(pod_id)
    name = ""
    try:
        name = opts.name or free_name(store.reserve_name, pod_id)
        if opts.name:
            store.reserve_name(name, pod_id)
        config = PodConfig(
            id=pod_id, name=name, created=now_rfc3339(), hostname=opts.hostname or name,
            labels=dict(opts.labels), share=share, infra=opts.infra,
            infra_id=new_id() if opts.infra else "", publish=list(opts.publish),
            network=list(opts.network), userns=userns, command=list(opts.command))
        shm = store.dir(f".new-{pod_id}") / "userdata" / "shm"
        shm.mkdir()
        os.chmod(shm, 0o1777)
        store.create(config, PodState())
    except BaseException:
        if name:
            store.release_name(name, pod_id)
        store.abort(pod_id, claim)
        raise
    claim.release()
    return pod_id



# -- members ---------------------------------------------------------------------------------

def members(paths: Paths, pod_id: str) -> list[Container]:
    """The pod's containers (their records name it), synced, oldest first."""
    cstore = ContainerStore(paths)
    out = []
    for cid in cstore.ids():
        try:
            c = cstore.load(cid)
        except (PycError, OSError):
            continue
        if c.config.spec.pod == pod_id:
            cstore.sync(c)
            out.append(c)
    out.sort(key=lambda c: c.config.created)
    return out


def infra_state(pod: Pod) -> str | None:
    """The infra as a container state ("created" before its first start); None: none."""
    if not pod.config.infra:
        return None
    if infra.alive(pod.state.infra_pid, pod.state.infra_started):
        return "running"
    return "exited" if pod.state.started_at else "created"


# -- the infra ---------------------------------------------------------------------------------

def ensure_infra(paths: Paths, pod_id: str, joining: str = "") -> tuple[Pod, bool]:
    """The pod with its infra running (started now if it was not: True). `joining`: the
    container starting; it may not start a new infra while others of the pod still run in
    a dead one's namespaces (a split pod): `pod start` restarts them all into a new one."""
    store = store_for(paths)
    with store.lock(pod_id):
        pod = store.load(pod_id)
        if not pod.config.infra or infra.alive(pod.state.infra_pid, pod.state.infra_started):
            return pod, False
        if joining and any(c.state.running for c in members(paths, pod_id) if c.id != joining):
            raise Conflict(f"the infra of pod {pod.name} has died while its containers run: "
                           f"`pyc pod start {pod.name}` restarts them into a new one")
        stop_infra(pod)  # a dead infra's slirp4netns, if it outlived it
        pod.state = _start_infra(paths, store, pod)
        store.save(pod_id, pod.state)
        return pod, True


def _mapping(pod: Pod) -> IdMapping:
    from pycontainer.linux import userns

    base = userns.default_mapping()
    if pod.config.userns == "keep-id":
        return userns.keep_id_mapping(base, os.getuid(), os.getgid())
    return base


def _start_infra(paths: Paths, store: PodStore, pod: Pod) -> PodState:
    from pycontainer.formats.timestamps import rfc3339
    from pycontainer.network.mode import SLIRP, parse_network_mode

    mapping = _mapping(pod)
    mode = parse_network_mode(pod.config.network)
    slirp_net = pod.config.shares("net") and mode.kind == SLIRP
    exit_r, exit_w = os.pipe() if slirp_net else (-1, -1)
    try:
        pid, started = infra.start(mapping, pod.config.share, pod.config.hostname, exit_w)
    finally:
        if exit_w >= 0:
            os.close(exit_w)
    state = PodState(infra_pid=pid, infra_started=started, started_at=rfc3339(fixed=True))
    try:
        if slirp_net:
            _slirp(paths, store, pod, state, exit_r)
            exit_r = -1
        _write_etc(paths, store, pod, state)
    except BaseException:
        infra.stop(pid, started)
        raise
    finally:
        if exit_r >= 0:
            os.close(exit_r)
    return state


def _slirp(paths: Paths, store: PodStore, pod: Pod, state: PodState, exit_r: int) -> None:
    from pycontainer.network import forwarder, ports, slirp
    from pycontainer.network.mode import parse_network_mode

    mode = parse_network_mode(pod.config.network)
    run_dir = store.run_dir(pod.id)
    ensure_runtime(paths)
    run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    maps = ports.allocate(ports.parse_publish_all(pod.config.publish))
    sock = slirp.api_socket_path(run_dir, pod.id[:12])
    try:
        s = slirp.start_slirp(state.infra_pid, sock, mode.slirp, exit_fd=exit_r,
                              log_path=str(run_dir / "slirp4netns.log"), cache_dir=paths.runtime)
        state.slirp = dict(s.to_dict())
        # TCP through pyc's forwarder, which ends with the infra too (the same exit pipe)
        state.slirp["forwarder"], rest = forwarder.forward(state.infra_pid, maps, mode.slirp,
                                                           exit_r)
    finally:
        os.close(exit_r)
    slirp.forward_ports(s, rest)
    state.ports = [dict(m.to_dict()) for m in maps]
    state.ip = mode.slirp.guest_ip


def _write_etc(paths: Paths, store: PodStore, pod: Pod, state: PodState) -> None:
    """The pod's /etc/hosts and /etc/resolv.conf, which its containers get copies of."""
    from pycontainer.containers.netrecord import NetworkPlan
    from pycontainer.network.mode import parse_network_mode
    from pycontainer.ops.netetc import etc_texts, write_in_place

    net = NetworkPlan(values=list(pod.config.network), publish=list(pod.config.publish))
    mode = parse_network_mode(pod.config.network)
    texts = etc_texts(paths, net, mode, pod.config.hostname, [state.ip] if state.ip else [], [])
    for name, text in texts.items():
        write_in_place(store.userdata(pod.id) / name, text)


def stop_infra(pod: Pod) -> None:
    infra.stop(pod.state.infra_pid, pod.state.infra_started)
    if pod.state.slirp:
        from pycontainer.network import slirp

        # it ends with the infra (its exit pipe); this waits for it, or stops one left over
        with contextlib.suppress(PycError, OSError, KeyError, ValueError, TypeError):
            slirp.stop_slirp(slirp.Slirp.from_dict(dict(pod.state.slirp)), timeout=2.0)
        fwd = pod.state.slirp.get("forwarder")
        if isinstance(fwd, int) and fwd:
            from pycontainer.network import forwarder

            forwarder.stop(fwd)


def infra_down(paths: Paths, pod_id: str) -> None:
    store = store_for(paths)
    with store.lock(pod_id):
        pod = store.load(pod_id)
        stop_infra(pod)
        pod.state.infra_pid, pod.state.infra_started = 0, None
        pod.state.slirp, pod.state.ports, pod.state.ip = {}, [], ""
        store.save(pod_id, pod.state)




def discard(paths: Paths, pod_id: str) -> None:
    """Remove a pod that has no containers (a `--pod new:` whose container failed)."""
    store = store_for(paths)
    with store.lock(pod_id):
        pod = store.load(pod_id)
        stop_infra(pod)
        store.delete(pod)
