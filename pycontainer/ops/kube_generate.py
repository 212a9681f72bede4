"""`pyc kube generate`: what runs -> the `kube.model` -> Kubernetes YAML (Podman's `generate
kube`). Each pod given is one Pod document (its record: name, hostname, labels, published
ports); the containers given are one more, their own pod's if they all belong to one, else
`<first container>-pod`, as in Podman. `pod_of` joins the pod-level facts and the containers.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from pycontainer.errors import UsageError
from pycontainer.kube import model

if TYPE_CHECKING:
    from pycontainer.containers.model import Container
    from pycontainer.containers.store import ContainerStore
    from pycontainer.oci.imagespec import RunConfig
    from pycontainer.paths import Paths
    from pycontainer.pods.model import Pod as PodRecord

SECOND = 1_000_000_000
_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}"
                        r"[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


@dataclass
class GenerateOptions:
    kind: str = "pod"  # pod or deployment
    replicas: int | None = None
    service: bool = False


@dataclass
class PodFacts:
    """What belongs to the pod rather than to one container."""

    name: str
    hostname: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    restart_policy: str = "Never"
    #: ports published for the whole pod (a pod's, not one container's): Podman lists them
    #: under the pod's first container
    ports: list[model.Port] = field(default_factory=list)


@dataclass
class Generated:
    text: str
    warnings: list[str] = field(default_factory=list)


def generate(paths: Paths, refs: list[str], opts: GenerateOptions) -> Generated:
    from pycontainer import __version__
    from pycontainer.containers.store import ContainerStore
    from pycontainer.formats.timestamps import rfc3339
    from pycontainer.kube import generate as kube

    if opts.kind not in ("pod", "deployment"):
        raise UsageError(f"invalid type {opts.kind!r}: pod or deployment")
    if opts.replicas is not None and opts.kind != "deployment":
        raise UsageError("--replicas can only be set when --type is set to deployment")
    if opts.replicas is not None and opts.replicas < 1:
        raise UsageError("--replicas must be at least 1")
    store = ContainerStore(paths)
    warnings: list[str] = []
    pods = [kube_pod(paths, store, members, record, warnings)
            for members, record in _groups(paths, store, refs)]
    for pod in pods:
        if opts.kind == "deployment" and pod.restart_policy != "Always":
            warnings.append(f"pod {pod.name}: restart policy {pod.restart_policy} written as "
                            "Always: the only one a Deployment allows")
    kopts = kube.Options(kind=opts.kind, replicas=opts.replicas or 1, service=opts.service,
                         created=rfc3339(), version=__version__)
    text = kube.to_yaml([d for pod in pods for d in kube.documents(pod, kopts)], __version__)
    return Generated(text, warnings)


def _groups(paths: Paths, store: ContainerStore, refs: list[str]
            ) -> list[tuple[list[Container], PodRecord | None]]:
    """Podman's reading of the names: a container first, else a pod. Each pod is a group
    (its members); the containers, one more, with their pod if they all are of one."""
    from pycontainer.errors import NotFound
    from pycontainer.ops import pods

    containers: list[Container] = []
    groups: list[tuple[list[Container], PodRecord | None]] = []
    for ref in refs:
        try:
            containers.append(store.load(store.resolve(ref)))
            continue
        except NotFound:
            if not pods.exists(paths, ref):
                raise
        pod_id = pods.resolve(paths, ref)
        members = pods.members(paths, pod_id)
        if not members:
            raise UsageError(f"pod {ref} has no containers: nothing to generate")
        groups.append((members, pods.store_for(paths).load(pod_id)))
    if containers:
        owners = {c.config.spec.pod for c in containers}
        owner = owners.pop() if len(owners) == 1 else ""
        groups.append((containers, pods.store_for(paths).load(owner) if owner else None))
    return groups


def kube_pod(paths: Paths, store: ContainerStore, containers: list[Container],
             record: PodRecord | None, warnings: list[str]) -> model.Pod:
    """The Kubernetes pod of containers (of the pod `record`, if they are one's)."""
    played = record.name if record is not None else played_pod(containers)
    # the init containers `kube play` ran for a pod become initContainers again
    inits = [c for c in containers if c.config.spec.labels.get(model.ROLE_LABEL) == "init"]
    apps = [c for c in containers if c not in inits]
    if not apps:
        raise UsageError("a pod needs at least one container that is not an init container")
    members = [container_of(store, c, member_name(c, played), warnings) for c in apps]
    facts = facts_of(apps)
    if record is not None:
        facts = record_facts(facts, record)
        _place_ports(members, apps, record)
    pod = pod_of(facts, members,
                 [container_of(store, c, member_name(c, played), warnings) for c in inits])
    # the host's network for all (as `kube play` runs hostNetwork): Kubernetes' hostNetwork
    pod.host_network = all(c.config.network is not None and c.config.network.kind == "host"
                           for c in apps)
    return pod


def record_facts(facts: PodFacts, record: PodRecord) -> PodFacts:
    """The pod's own name, hostname (when not its name, Kubernetes' default) and labels."""
    conf = record.config
    facts.name = k8s_name(conf.name)
    facts.hostname = conf.hostname if conf.hostname and conf.hostname != conf.name else ""
    facts.labels = {**facts.labels, **{k: v for k, v in conf.labels.items()
                                       if _LABEL_KEY.match(k) and _LABEL_VALUE.match(v)}}
    facts.annotations.update({k: v for k, v in conf.labels.items() if k not in facts.labels})
    return facts


def _place_ports(members: list[Member], apps: list[Container], record: PodRecord) -> None:
    """The pod's published ports on the containers that declare them (`kube play`'s
    label), the rest on the first container (as Podman does); a declared port that is not
    published stays a bare containerPort."""
    from pycontainer.network import ports

    declared = [_declared(c) for c in apps]
    for m in ports.parse_publish_all(record.config.publish):
        proto = m.protocol.upper()
        at = next((i for i, d in enumerate(declared) if (m.container_port, proto) in d), 0)
        host_ip = m.host_ip if m.host_ip not in ("", "0.0.0.0") else ""
        members[at][0].ports.append(model.Port(m.container_port, m.host_port, proto, host_ip))
        if (m.container_port, proto) in declared[at]:
            declared[at].remove((m.container_port, proto))
    for (k8s, _), rest in zip(members, declared, strict=True):
        k8s.ports += [model.Port(port, 0, proto) for port, proto in rest]


def _declared(c: Container) -> list[tuple[int, str]]:
    out = []
    for item in c.config.spec.labels.get(model.PORTS_LABEL, "").split(","):
        port, _, proto = item.partition("/")
        if port.isdigit():
            out.append((int(port), proto or "TCP"))
    return out


def played_pod(containers: list[Container]) -> str:
    """The pod `kube play` made these containers for, if they all come from one."""
    pods = {c.config.spec.labels.get(model.POD_LABEL, "") for c in containers}
    return pods.pop() if len(pods) == 1 else ""


def member_name(c: Container, pod: str) -> str:
    """The container's name in its pod: Podman names a played one `<pod>-<name>`."""
    name = c.name.removeprefix(f"{pod}-") if pod else c.name
    return k8s_name(name)


def facts_of(containers: list[Container]) -> PodFacts:
    """The pod of containers given alone: named after the first (Podman's `<name>-pod`),
    or the pod `kube play` made them for."""
    from pycontainer.ops import restarts

    first = containers[0]
    played = played_pod(containers)
    policy = model.RESTART_FROM_DOCKER.get(restarts.policy_of(first)[0], "Never")
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    for c in containers:
        for key, value in c.config.spec.labels.items():
            if key in model.PYC_LABELS:
                continue
            valid = _LABEL_KEY.match(key) and _LABEL_VALUE.match(value)
            (labels if valid else annotations)[key] = value
        annotations.update(c.config.spec.annotations)
        annotations.update(_podman_annotations(c, member_name(c, played)))
    name = played or f"{k8s_name(first.name)}-pod"
    hostname = first.config.spec.hostname or ""
    return PodFacts(name=name, hostname="" if hostname == name else hostname,
                    labels=labels, annotations=annotations, restart_policy=policy)


Member = tuple[model.Container, list[model.Volume]]


def pod_of(facts: PodFacts, members: list[Member], init_members: list[Member] | None = None
           ) -> model.Pod:
    """The pod: its facts, its containers, and the volumes their mounts name (once each)."""
    inits = init_members or []
    volumes: dict[str, model.Volume] = {}
    for _, vols in members + inits:
        for v in vols:
            volumes.setdefault(v.name, v)
    if members and facts.ports:
        first = members[0][0]
        first.ports += [p for p in facts.ports if p not in first.ports]
    return model.Pod(name=facts.name, containers=[c for c, _ in members],
                     init_containers=[c for c, _ in inits],
                     volumes=list(volumes.values()), hostname=facts.hostname,
                     restart_policy=facts.restart_policy, labels=facts.labels,
                     annotations=facts.annotations)


def k8s_name(name: str) -> str:
    """A DNS label (RFC 1123) for a Docker name: lower case, `_` and `.` as `-`."""
    out = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    return out[:63].rstrip("-") or "container"


def _podman_annotations(c: Container, name: str) -> dict[str, str]:
    spec, net = c.config.spec, c.config.network
    out = {}
    for key, on in (("init", spec.init), ("autoremove", spec.auto_remove),
                    ("publish-all", bool(net and net.publish_all))):
        if on:
            out[f"io.podman.annotations.{key}/{name}"] = "TRUE"
    return out


# --- one container ---------------------------------------------------------------------------


def container_of(store: ContainerStore, c: Container, name: str, warnings: list[str]
                 ) -> tuple[model.Container, list[model.Volume]]:
    """A container as Kubernetes has it, and the pod volumes its mounts use."""
    from pycontainer.ops import limits

    spec, img = c.config.spec, c.config.image_config
    command, args = _command_args(spec.entrypoint, spec.command, img)
    lim = limits.limits_of(c)
    cpus = lim.cpus
    if cpus is None and lim.cpu_quota and lim.cpu_quota > 0:
        cpus = lim.cpu_quota / (lim.cpu_period or 100_000)
    mounts, volumes = _mounts(c)
    _untranslated(c, warnings)
    return model.Container(
        name=name, image=c.config.image, command=command, args=args,
        env=_env(spec.env, img.get("Env") or []),
        working_dir=spec.workdir if spec.workdir and spec.workdir != img.get("WorkingDir")
        else "",
        ports=_ports(c), mounts=mounts, memory=lim.memory if lim.memory and lim.memory > 0
        else None, cpus=cpus, security=_security(store, c), probe=_probe(c),
        tty=spec.tty, stdin=spec.interactive), volumes


def _command_args(entry: list[str] | None, cmd: list[str], img: RunConfig
                  ) -> tuple[list[str], list[str]]:
    """Podman's split: `command` only for an entrypoint the user set (it drops the image's
    Cmd in Kubernetes as `--entrypoint` does in Docker), `args` for a Cmd the user gave."""
    img_cmd = img.get("Cmd") or []
    if entry is None:
        return [], list(cmd) if cmd and cmd != img_cmd else []
    if not entry:  # --entrypoint "": the command alone runs
        return list(cmd), []
    return list(entry), list(cmd)


def _env(env: list[str], image_env: object) -> list[model.EnvVar]:
    """The container's -e values that the image does not already set so."""
    have = set(image_env) if isinstance(image_env, list) else set()
    out = []
    for item in env:
        if item in have:
            continue
        name, _, value = item.partition("=")
        out.append(model.EnvVar(name, value))
    return out


def _ports(c: Container) -> list[model.Port]:
    from pycontainer.containers.netrecord import NetworkPlan
    from pycontainer.ops.netviews import port_bindings

    out = []
    for key, bindings in port_bindings(c.config.network or NetworkPlan()).items():
        port, _, proto = key.partition("/")
        for b in bindings:
            ip = b["HostIp"] if b["HostIp"] not in ("", "0.0.0.0") else ""
            out.append(model.Port(int(port), int(b["HostPort"] or 0), proto.upper() or "TCP",
                                  ip))
    return out


def _mounts(c: Container) -> tuple[list[model.Mount], list[model.Volume]]:
    mounts, volumes = [], []
    spec = c.config.spec
    for m in spec.mounts:
        ro = "ro" in (m.get("options") or [])
        dest = str(m["destination"])
        if m.get("type") == "tmpfs":
            v = model.Volume(f"{k8s_name(dest)}-tmpfs", "emptyDir", medium="Memory")
        elif m.get("volume") and not m.get("anonymous"):
            v = model.Volume(f"{k8s_name(str(m['volume']))}-pvc", "pvc", str(m["volume"]))
        elif m.get("volume"):  # anonymous: the pod's own, gone with it
            v = model.Volume(f"{k8s_name(dest)}-anon", "emptyDir")
        else:
            src = str(m["source"])
            kind = "Directory" if os.path.isdir(src) else "File"
            v = model.Volume(f"{k8s_name(src)}-host", "hostPath", src, host_type=kind)
        volumes.append(v)
        mounts.append(model.Mount(v.name, dest, ro))
    for dest in spec.tmpfs:
        v = model.Volume(f"{k8s_name(dest)}-tmpfs", "emptyDir", medium="Memory")
        volumes.append(v)
        mounts.append(model.Mount(v.name, dest))
    return mounts, volumes


def _security(store: ContainerStore, c: Container) -> model.Security:
    spec = c.config.spec
    uid = gid = None
    if spec.user:
        user, _, group = spec.user.partition(":")
        if user.isdigit() and (not group or group.isdigit()):
            uid, gid = int(user), int(group) if group else None
        else:  # a name: the ids create resolved it to, from the bundle's process
            proc_user = store.load_bundle_spec(c.id).process.user
            uid, gid = proc_user.uid, proc_user.gid
    return model.Security(run_as_user=uid, run_as_group=gid, cap_add=list(spec.cap_add),
                          cap_drop=list(spec.cap_drop), read_only_root=spec.read_only,
                          privileged=spec.privileged, no_new_privileges=spec.no_new_privileges)


def _probe(c: Container) -> model.Probe | None:
    from pycontainer.ops import health

    # Docker's defaults written out: Kubernetes' own (10 s, 1 s, 3) differ
    cfg = health.effective(c)
    if not cfg:
        return None
    test = [str(t) for t in cfg["Test"]]
    command = test[1:] if test[0] == "CMD" else ["/bin/sh", "-c", " ".join(test[1:])]

    def seconds(key: Literal["Interval", "Timeout", "StartPeriod"]) -> int:
        ns = int(cfg.get(key) or 0)
        return max(1, -(-ns // SECOND)) if ns else 0

    return model.Probe(command, seconds("Interval"), seconds("Timeout"),
                       int(cfg.get("Retries") or 0), seconds("StartPeriod"))


def _untranslated(c: Container, warnings: list[str]) -> None:
    """What Kubernetes' Pod cannot say, named rather than dropped without a word."""
    spec, net = c.config.spec, c.config.network
    checks = (("a user-defined network", bool(net and net.user_networks)),
              ("devices", bool(spec.devices)), ("ulimits", bool(spec.ulimits)),
              ("sysctls", bool(spec.sysctls)), ("--pid/--uts host", bool(spec.pid or spec.uts)),
              ("extra hosts or DNS settings",
               bool(net and (net.add_hosts or net.dns or net.dns_search))))
    for what, present in checks:
        if present:
            warnings.append(f"container {c.name}: {what} not represented in the Kubernetes YAML")
