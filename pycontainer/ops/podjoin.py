"""A container of a pod (`run/create --pod NAME|new:NAME`): at create, the options that the
pod's shared namespaces decide are refused (Podman's errors) and the container is marked
(`spec.pod`); at each start, the pod's infra is ensured and the container joins its user
namespace and the namespaces the pod shares, through the paths `--network container:` and
`--ipc container:` use (`linux.namespaces[].path` in the bundle, the launcher's
`userns_path`).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from pycontainer.containers.netrecord import NetworkPlan
from pycontainer.errors import PycError, UsageError
from pycontainer.ops import podinfra as pods
from pycontainer.paths import Paths
from pycontainer.pods.model import Pod

if TYPE_CHECKING:
    from pycontainer.containers.model import Container
    from pycontainer.oci.runtime import Spec
    from pycontainer.ops.create import CreateOptions

_NET_OVERRIDE = "network cannot be configured when it is shared with a pod"


def apply(paths: Paths, opts: CreateOptions) -> Pod:
    """Resolve (or, for `new:NAME`, create) the pod and fit the request to it."""
    ref = opts.spec.pod
    if ref.startswith("new:"):
        return _new_pod(paths, opts, ref[4:])
    store = pods.store_for(paths)
    pod = store.load(store.resolve(ref))
    _check(pod, opts)
    _fit(pod, opts)
    return pod


def _new_pod(paths: Paths, opts: CreateOptions, name: str) -> Pod:
    """Podman's `--pod new:NAME`: a pod made for the container, which takes its -p and
    --network (they belong to the pod's infra)."""
    if not name:
        raise UsageError("--pod new: needs a pod name")
    net = opts.network
    popts = pods.PodCreateOptions(name=name, publish=list(net.publish) if net else [],
                                  network=list(net.networks) if net else [],
                                  userns=opts.spec.userns,
                                  command=["pyc", "pod", "create", "--name", name])
    pod_id = pods.create(paths, popts)
    if net is not None:
        net.publish, net.networks = [], []
    try:
        pod = pods.store_for(paths).load(pod_id)
        _check(pod, opts)
        _fit(pod, opts)
    except BaseException:
        with contextlib.suppress(PycError, OSError):
            pods.discard(paths, pod_id)
        raise
    return pod


def _check(pod: Pod, opts: CreateOptions) -> None:
    spec, net = opts.spec, opts.network
    if pod.config.shares("net") and net is not None:
        if net.publish or net.publish_all or net.expose:
            raise UsageError("invalid config provided: published or exposed ports must be "
                             f"defined when the pod is created: {_NET_OVERRIDE}")
        if net.networks:
            raise UsageError("invalid config provided: networks must be defined when the "
                             f"pod is created: {_NET_OVERRIDE}")
        if net.dns or net.dns_search or net.dns_option:
            raise UsageError("invalid config provided: DNS must be configured when the pod is "
                             f"created: {_NET_OVERRIDE}")
    for key, ns in (("ipc", "ipc"), ("uts", "uts")):
        if pod.config.shares(ns) and getattr(spec, key):
            raise UsageError(f"invalid config provided: cannot set --{key} when joining the "
                             f"pod {ns.upper()} namespace: invalid configuration")
    if pod.config.shares("uts") and spec.hostname:
        raise UsageError("invalid config provided: cannot set hostname when joining the pod "
                         "UTS namespace: invalid configuration")
    if pod.config.infra and spec.userns and _norm(spec.userns) != pod.config.userns:
        raise UsageError("invalid config provided: cannot set --userns when joining a pod "
                         "with an infra: the pod's user namespace is used")


def _norm(userns: str) -> str:
    return "" if userns in ("host", "private") else userns


def _fit(pod: Pod, opts: CreateOptions) -> None:
    spec = opts.spec
    spec.pod = pod.id
    if pod.config.infra:
        spec.userns = pod.config.userns
    if pod.config.shares("uts"):
        spec.hostname = pod.config.hostname
    if pod.config.shares("net"):
        spec.network = "container"


def network_plan(paths: Paths, pod_id: str) -> NetworkPlan:
    """`ContainerConfig.network` of a container in a pod sharing its network: the
    `container` kind naming the infra (inspect's NetworkMode, as Podman's), whose start
    `join_net` serves from the pod."""
    infra_id = pods.store_for(paths).load(pod_id).config.infra_id
    return NetworkPlan(values=[f"container:{infra_id}"], kind="container")


# -- start --------------------------------------------------------------------------------

def prepare(paths: Paths, c: Container, spec: Spec) -> str:
    """Ensure the pod's infra and point the bundle's ipc/uts at it; returns the infra's user
    namespace path ("" for a pod without infra)."""
    pod, _ = pods.ensure_infra(paths, c.config.spec.pod, c.id)
    if not pod.config.infra:
        return ""
    pid = pod.state.infra_pid
    for ns, kind in (("ipc", "ipc"), ("uts", "uts")):
        if pod.config.shares(ns):
            spec.linux.set_ns_path(kind, f"/proc/{pid}/ns/{ns}")
    return f"/proc/{pid}/ns/user"


def shm(paths: Paths, pod_id: str) -> str:
    store = pods.store_for(paths)
    return str(store.userdata(pod_id) / "shm") if store.load(pod_id).config.shares("ipc") \
        else ""


def join_net(paths: Paths, c: Container) -> tuple[str, str, dict[str, str]]:
    """(userns path, netns path, etc file texts) of the pod's infra for `Starter`."""
    pod, _ = pods.ensure_infra(paths, c.config.spec.pod, c.id)
    pid = pod.state.infra_pid
    userdata = pods.store_for(paths).userdata(pod.id)
    texts = {}
    for name in ("hosts", "resolv.conf"):
        with contextlib.suppress(OSError):
            texts[name] = (userdata / name).read_text()
    return f"/proc/{pid}/ns/user", f"/proc/{pid}/ns/net", texts
