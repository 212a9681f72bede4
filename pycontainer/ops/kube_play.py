"""`pyc kube play` / `kube down`: run a `kube.play.Plan`.

Each Pod (a Deployment: `<name>-pod`, one replica as Podman 4.3) is a real pod made through
`ops.pods`: the hostPorts are published on the pod, its hostname and labels are the pod's,
and its containers (Podman's names, `<pod>-<container>`) join its namespaces. The init
containers are members too, labelled as such: `ops.pods.start` runs them in order to
completion before the app containers, at each start of the pod (Podman's `always` init
containers). The volumes play creates are labelled, so `kube down` removes the pods (their
containers, their infra) and exactly the volumes play made.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from pycontainer.errors import Conflict, NotFound, PycError, UsageError
from pycontainer.kube import model
from pycontainer.kube.play import Plan as Plan  # the front ends' type (no yaml at import)

if TYPE_CHECKING:
    from pycontainer.oci.convert import ContainerSpec
    from pycontainer.ops.create import CreateOptions
    from pycontainer.ops.limits import LimitFlags
    from pycontainer.ops.netsetup import NetworkRequest
    from pycontainer.paths import Paths

POD_LABEL, ROLE_LABEL, CREATED_LABEL = model.POD_LABEL, model.ROLE_LABEL, model.CREATED_LABEL
_PULL = {"": "missing", "IfNotPresent": "missing", "Always": "always", "Never": "never"}
SECOND = 1_000_000_000


@dataclass
class PlayOptions:
    replace: bool = False
    start: bool = True
    network: list[str] = field(default_factory=list)  # --network for each pod
    publish: list[str] = field(default_factory=list)  # --publish, on each pod
    log_driver: str = "json-file"
    progress: TextIO | None = None  # where pull progress goes


@dataclass
class PodReport:
    name: str
    containers: list[str] = field(default_factory=list)  # ids, in start order
    init_containers: list[str] = field(default_factory=list)


@dataclass
class PlayReport:
    pods: list[PodReport] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)  # the claims
    warnings: list[str] = field(default_factory=list)


@dataclass
class DownReport:
    pods: list[str] = field(default_factory=list)
    containers: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)


def read_plan(text: str, source: str, configmaps: list[tuple[str, str]]) -> Plan:
    from pycontainer.kube import play

    docs = play.load_documents(text, source)
    extra = [d for name, body in configmaps for d in play.load_documents(body, name)]
    for d in extra:
        if d.get("kind") not in ("ConfigMap", "Secret"):
            raise UsageError(f"--configmap: {d.get('kind')} is not a ConfigMap or Secret")
    return play.plan(docs, extra)


def play(paths: Paths, plan: Plan, opts: PlayOptions) -> PlayReport:
    report = PlayReport(warnings=list(plan.warnings))
    if not opts.replace:
        for pod in plan.pods:
            _check_free(paths, pod)
    _preflight(paths, plan, opts)
    if opts.replace:
        for pod in plan.pods:
            _remove_pod(paths, pod.name)
    for claim in plan.claims:
        _ensure_volume(paths, claim)
        report.volumes.append(claim)
    for pod in plan.pods:
        report.pods.append(_play_pod(paths, plan, pod, opts, report.warnings))
    return report


def _preflight(paths: Paths, plan: Plan, opts: PlayOptions) -> None:
    """What can fail before anything is made does: the flags, the limits this host cannot
    enforce, hostPath types, and the images (pulled now, as each pull policy says)."""
    from pycontainer.ops import limits, netsetup, pods
    from pycontainer.ops.pull import ensure_image

    netsetup.validate(netsetup.NetworkRequest(networks=list(opts.network),
                                              publish=list(opts.publish)))
    for text in opts.publish:
        _container_port(text)
    pulled: set[str] = set()
    for pod in plan.pods:
        # (the ports of pods being replaced are theirs until they go: pod create checks)
        if not pod.host_network and not opts.replace:
            pods.check_network(pods.PodCreateOptions(network=list(opts.network),
                                                     publish=_publish(pod, opts)))
        for v in pod.volumes:
            if v.kind == "hostPath" and v.host_type in ("Directory", "File"):
                _host_path(v)
        for c in pod.init_containers + pod.containers:
            if c.memory or c.cpus:
                limits.plan(paths, _limit_flags(c))
            if c.image not in pulled:
                ensure_image(paths, c.image, _PULL[c.pull_policy], opts.progress)
                pulled.add(c.image)


def _check_free(paths: Paths, pod: model.Pod) -> None:
    from pycontainer.containers.store import ContainerStore
    from pycontainer.ops import pods

    if pods.exists(paths, pod.name):
        raise Conflict(f"pod {pod.name} already exists: use --replace, or kube down first")
    store = ContainerStore(paths)
    for c in pod.init_containers + pod.containers:
        name = f"{pod.name}-{c.name}"
        with contextlib.suppress(NotFound):
            store.resolve(name)
            raise Conflict(f"pod {pod.name}: a container named {name} exists: "
                           "use --replace, or kube down first")


def _ensure_volume(paths: Paths, name: str) -> None:
    from pycontainer.ops import volumes

    if not volumes.exists(paths, name):
        volumes.create(paths, name, {CREATED_LABEL: "true"})


def _play_pod(paths: Paths, plan: Plan, pod: model.Pod, opts: PlayOptions,
              warnings: list[str]) -> PodReport:
    from pycontainer.ops import pods
    from pycontainer.ops.create import create

    out = PodReport(pod.name)
    pod_id = _create_pod(paths, pod, opts)
    mounts = _volume_mounts(paths, pod)
    for c in pod.init_containers:
        out.init_containers.append(
            create(paths, _options(paths, plan, pod, c, mounts, opts, pod_id, True, warnings)))
    for c in pod.containers:
        out.containers.append(
            create(paths, _options(paths, plan, pod, c, mounts, opts, pod_id, False, warnings)))
    if opts.start:  # the infra, then the init containers to completion, then the apps
        pods.start(paths, pod_id)
    return out


def _create_pod(paths: Paths, pod: model.Pod, opts: PlayOptions) -> str:
    """The pod: hostPorts (and --publish) published on it, its hostname and labels. With
    hostNetwork its containers use the host's network, so the pod shares only ipc and uts."""
    from pycontainer.ops import pods

    host = pod.host_network
    return pods.create(paths, pods.PodCreateOptions(
        name=pod.name, hostname=pod.hostname, labels=dict(pod.labels),
        share="ipc,uts" if host else None, publish=[] if host else _publish(pod, opts),
        network=[] if host else list(opts.network),
        command=["pyc", "kube", "play", pod.name]))


def _options(paths: Paths, plan: Plan, pod: model.Pod, c: model.Container,
             mounts: dict[str, tuple[str, bool]], opts: PlayOptions, pod_id: str, init: bool,
             warnings: list[str]) -> CreateOptions:
    """One container's create request, a member of the pod `pod_id` (whose namespaces decide
    its network, ipc and hostname)."""
    from pycontainer.oci.convert import ContainerSpec
    from pycontainer.ops.create import CreateOptions
    from pycontainer.ops.mounts import MountRequest

    sec = c.security
    spec = ContainerSpec(
        image=c.image, name=f"{pod.name}-{c.name}", entrypoint=list(c.command) or None,
        command=list(c.args), env=[f"{e.name}={e.value}" for e in c.env],
        workdir=c.working_dir or None, user=_user(sec), tty=c.tty, interactive=c.stdin,
        labels={**pod.labels, POD_LABEL: pod.name, ROLE_LABEL: "init" if init else "app",
                **_ports_label(c)},
        annotations=dict(pod.annotations), read_only=sec.read_only_root,
        cap_add=list(sec.cap_add), cap_drop=list(sec.cap_drop), privileged=sec.privileged,
        no_new_privileges=sec.no_new_privileges,
        restart="no" if init else model.RESTART_TO_DOCKER[pod.restart_policy],
        healthcheck=_healthcheck(c.probe), stop_timeout=plan.grace.get(pod.name),
        init=_podman_flag(pod, "init", c.name), pod=pod_id)
    _limits(paths, spec, c, warnings)
    # the preflight pulled what the policy asked: create takes the stored image
    return CreateOptions(spec=spec, pull="never", log_driver=opts.log_driver,
                         network=_network(pod),
                         volumes=MountRequest(mounts=[_mount_text(m, mounts) for m in c.mounts]))


def _podman_flag(pod: model.Pod, key: str, container: str) -> bool:
    """Podman's per-container annotations (`io.podman.annotations.init/<ctr>: TRUE`), which
    `kube generate` writes for what a Pod has no field for."""
    return pod.annotations.get(f"io.podman.annotations.{key}/{container}", "").upper() == "TRUE"


def _user(sec: model.Security) -> str | None:
    if sec.run_as_user is None and sec.run_as_group is None:
        return None
    user = str(sec.run_as_user if sec.run_as_user is not None else 0)
    return user if sec.run_as_group is None else f"{user}:{sec.run_as_group}"


def _healthcheck(probe: model.Probe | None) -> dict[str, object]:
    if probe is None:
        return {}
    # Kubernetes' defaults where the probe leaves them: 10 s period, 1 s timeout, 3 failures
    return {"Test": ["CMD", *probe.command], "Interval": (probe.period or 10) * SECOND,
            "Timeout": (probe.timeout or 1) * SECOND, "Retries": probe.failure_threshold or 3,
            **({"StartPeriod": probe.initial_delay * SECOND} if probe.initial_delay else {})}


def _limits(paths: Paths, spec: ContainerSpec, c: model.Container, warnings: list[str]
            ) -> None:
    from pycontainer.ops import limits

    if c.memory is None and c.cpus is None:
        return
    plan = limits.plan(paths, _limit_flags(c), spec.cgroup_parent)
    spec.resources, spec.oom_score_adj, spec.limits = plan.resources, plan.oom_score_adj, \
        plan.limits
    warnings.extend(plan.warnings)


def _limit_flags(c: model.Container) -> LimitFlags:
    from pycontainer.ops.limits import LimitFlags

    return LimitFlags(memory=str(c.memory) if c.memory else None,
                      cpus=str(c.cpus) if c.cpus else None)


def _network(pod: model.Pod) -> NetworkRequest:
    from pycontainer.ops.netsetup import NetworkRequest

    # the pod's network is its infra's; with hostNetwork, the host's
    return NetworkRequest(networks=["host"] if pod.host_network else [])


def _ports_label(c: model.Container) -> dict[str, str]:
    """The container's declared ports (`80/TCP,53/UDP`): published on the pod, they would
    be the pod's alone; `kube generate` puts each hostPort back on its container."""
    ports = ",".join(f"{p.container_port}/{p.protocol}" for p in c.ports if p.container_port)
    return {model.PORTS_LABEL: ports} if ports else {}


def _publish(pod: model.Pod, opts: PlayOptions) -> list[str]:
    """The pod's -p: each hostPort, but --publish overrides the file's hostPort of the same
    container port (Podman's rule); with Podman's publish-all annotation, the declared ports
    without a hostPort are published on free ports too (`-P`)."""
    overridden = {_container_port(text) for text in opts.publish}
    publish_all = any(_podman_flag(pod, "publish-all", c.name) for c in pod.containers)
    out = []
    for c in pod.containers:
        for p in c.ports:
            key = (p.container_port, p.protocol.lower())
            if key in overridden or not (p.host_port or publish_all):
                continue
            host = f"{p.host_ip + ':' if p.host_ip else ''}{p.host_port}:" if p.host_port \
                else ""
            out.append(f"{host}{p.container_port}/{p.protocol.lower()}")
    return out + list(opts.publish)


def _container_port(text: str) -> tuple[int, str]:
    """The (container port, protocol) of a --publish value ([[ip:]host:]port[/proto])."""
    spec, _, proto = text.rpartition(":")[2].partition("/")
    if not spec.isdigit():
        raise UsageError(f"invalid --publish {text!r}: expected [[ip:]hostPort:]containerPort"
                         "[/protocol]")
    return int(spec), proto.lower() or "tcp"


# --- volumes -----------------------------------------------------------------------------


def files_dir(paths: Paths, pod: str) -> Path:
    """Where a pod's configMap and secret volumes are written (bind-mounted read-only)."""
    return paths.data / "kube" / pod


def _volume_mounts(paths: Paths, pod: model.Pod) -> dict[str, tuple[str, bool]]:
    """Each pod volume as the start of a --mount value (type and source), and whether it is
    read-only whatever the mount says (configMap and secret files, as in Kubernetes)."""
    out = {}
    for v in pod.volumes:
        if v.kind == "pvc":
            _ensure_volume(paths, v.source)
            out[v.name] = (f"type=volume,src={v.source}", False)
        elif v.kind == "hostPath":
            out[v.name] = (f"type=bind,src={_host_path(v)}", False)
        elif v.kind == "emptyDir" and v.medium == "Memory":
            out[v.name] = ("type=tmpfs", False)
        elif v.kind == "emptyDir":  # shared by the pod's containers: a volume of the pod's
            name = f"{pod.name}-{v.name}"
            _ensure_volume(paths, name)
            out[v.name] = (f"type=volume,src={name}", False)
        else:
            out[v.name] = (f"type=bind,src={_write_files(paths, pod.name, v)}", True)
    return out


def _mount_text(m: model.Mount, mounts: dict[str, tuple[str, bool]]) -> str:
    source, read_only = mounts[m.volume]
    return f"{source},dst={m.path}" + (",readonly" if m.read_only or read_only else "")


def _host_path(v: model.Volume) -> str:
    path = v.source
    if not path.startswith("/"):
        raise UsageError(f"hostPath {path!r}: the path must be absolute")
    kind = v.host_type
    if kind == "DirectoryOrCreate" or (kind == "" and not os.path.exists(path)):
        os.makedirs(path, exist_ok=True)
    elif kind == "FileOrCreate" and not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        Path(path).touch()
    elif kind == "Directory" and not os.path.isdir(path):
        raise UsageError(f"hostPath {path}: not a directory (type Directory)")
    elif kind == "File" and not os.path.isfile(path):
        raise UsageError(f"hostPath {path}: not a file (type File)")
    return path


def _write_files(paths: Paths, pod: str, v: model.Volume) -> str:
    root = files_dir(paths, pod) / v.name
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True, mode=0o700)
    for f in v.files:
        target = root / f.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(f.data)
        os.chmod(target, f.mode if f.mode is not None else v.default_mode)
    os.chmod(root, 0o755)
    return str(root)


# --- down ----------------------------------------------------------------------------------


def down(paths: Paths, plan: Plan) -> DownReport:
    """Remove the pods of the file (their containers, by label) and the volumes of it that
    play created; a volume that existed before play is kept."""
    from pycontainer.ops import pods

    out = DownReport()
    for pod in plan.pods:
        existed = pods.exists(paths, pod.name)
        removed = _remove_pod(paths, pod.name)
        if removed or existed:
            out.pods.append(pod.name)
            out.containers += removed
    names = list(plan.claims)
    for pod in plan.pods:
        names += [v.source for v in pod.volumes if v.kind == "pvc"]
        names += [f"{pod.name}-{v.name}" for v in pod.volumes
                  if v.kind == "emptyDir" and v.medium != "Memory"]
    for name in dict.fromkeys(names):
        if _remove_created_volume(paths, name):
            out.volumes.append(name)
    return out


def _remove_pod(paths: Paths, pod: str) -> list[str]:
    """Remove the pod (its containers and infra) and any container still labelled with it
    (from an older pyc, whose kube play made no pod); the ids of the containers removed."""
    from pycontainer.containers.store import ContainerStore
    from pycontainer.errors import ContainerNotFound
    from pycontainer.ops import lifecycle, pods

    store = ContainerStore(paths)

    def labelled() -> list[str]:
        out = []
        for cid in store.ids():
            try:
                c = store.load(cid)
            except (PycError, OSError):
                continue  # going away, or not readable: not one play made
            if c.config.spec.labels.get(POD_LABEL) == pod:
                out.append(cid)
        return out

    ids = labelled()
    if pods.exists(paths, pod):
        with contextlib.suppress(NotFound):
            pods.remove(paths, pod, force=True)
    removed = [cid for cid in ids if cid not in labelled()]
    for cid in labelled():
        with contextlib.suppress(ContainerNotFound):
            removed.append(lifecycle.remove(paths, cid, force=True))
    shutil.rmtree(files_dir(paths, pod), ignore_errors=True)
    return removed


def _remove_created_volume(paths: Paths, name: str) -> bool:
    from pycontainer.ops import volumes

    try:
        labels = volumes.inspect(paths, name).get("Labels") or {}
    except NotFound:
        return False
    if not isinstance(labels, dict) or labels.get(CREATED_LABEL) != "true":
        return False
    return volumes.remove(paths, name)
