"""The model -> Kubernetes documents (Podman's `generate kube`): a v1 Pod or an apps/v1
Deployment of it, and with `service` a v1 Service (NodePort) for its published ports."""

from __future__ import annotations

import random
from dataclasses import dataclass

from pycontainer.jsontypes import JSON
from pycontainer.kube.model import Container, Pod, Port, Probe, Security, Volume

HEADER = ("# Save the output of this file and use kubectl create -f to import\n"
          "# it into Kubernetes.\n#\n# Created with pyc-{version}\n")


@dataclass
class Options:
    kind: str = "pod"  # pod or deployment
    replicas: int = 1
    service: bool = False
    created: str = ""  # RFC 3339, metadata.creationTimestamp
    version: str = ""


def documents(pod: Pod, opts: Options) -> list[JSON]:
    docs = [deployment(pod, opts) if opts.kind == "deployment" else pod_doc(pod, opts)]
    if opts.service:
        docs.append(service(pod, opts))
    return docs


def to_yaml(docs: list[JSON], version: str) -> str:
    import yaml

    body = "---\n".join(yaml.safe_dump(d, sort_keys=True, default_flow_style=False)
                        for d in docs)
    return HEADER.format(version=version) + body


def _metadata(pod: Pod, opts: Options, name: str) -> JSON:
    meta: JSON = {"name": name, "labels": {"app": pod.name, **pod.labels}}
    if opts.created:
        meta["creationTimestamp"] = opts.created
    if pod.annotations:
        meta["annotations"] = dict(pod.annotations)
    return meta


def pod_doc(pod: Pod, opts: Options) -> JSON:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": _metadata(pod, opts, pod.name),
            "spec": pod_spec(pod)}


def _app(pod: Pod) -> str:
    """The `app` label that selects the pod (its name unless the labels say otherwise)."""
    return pod.labels.get("app", pod.name)


def deployment(pod: Pod, opts: Options) -> JSON:
    spec = pod_spec(pod)
    spec["restartPolicy"] = "Always"  # the only policy a Deployment's pods may have
    template = {"metadata": _metadata(pod, Options(), pod.name), "spec": spec}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": _metadata(pod, opts, f"{pod.name}-deployment"),
            "spec": {"replicas": opts.replicas,
                     "selector": {"matchLabels": {"app": _app(pod)}},
                     "template": template}}


def service(pod: Pod, opts: Options) -> JSON:
    published = [p for c in pod.containers for p in c.ports if p.host_port]
    ports: list[JSON] = [{"name": f"{p.host_port}-{p.protocol.lower()}", "port": p.host_port,
                          "protocol": p.protocol, "targetPort": p.container_port,
                          "nodePort": random.randint(30000, 32767)}  # as Podman: any free
                         for p in published]
    meta = _metadata(pod, opts, pod.name)
    meta.pop("annotations", None)
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta,
            "spec": {"ports": ports, "selector": {"app": _app(pod)}, "type": "NodePort"}}


def pod_spec(pod: Pod) -> JSON:
    spec: JSON = {"containers": [container(c) for c in pod.containers],
                  "restartPolicy": pod.restart_policy}
    if pod.init_containers:
        spec["initContainers"] = [container(c) for c in pod.init_containers]
    if pod.hostname:
        spec["hostname"] = pod.hostname
    if pod.host_network:
        spec["hostNetwork"] = True
    if pod.volumes:
        spec["volumes"] = [volume(v) for v in pod.volumes]
    return spec


def container(c: Container) -> JSON:
    out: JSON = {"name": c.name, "image": c.image}
    if c.command:
        out["command"] = list(c.command)
    if c.args:
        out["args"] = list(c.args)
    if c.env:
        out["env"] = [{"name": e.name, "value": e.value} for e in c.env]
    if c.working_dir:
        out["workingDir"] = c.working_dir
    if c.ports:
        out["ports"] = [port(p) for p in c.ports]
    if c.mounts:
        out["volumeMounts"] = [{"name": m.volume, "mountPath": m.path,
                                **({"readOnly": True} if m.read_only else {})}
                               for m in c.mounts]
    limits: JSON = {}
    if c.memory:
        limits["memory"] = memory_quantity(c.memory)
    if c.cpus:
        limits["cpu"] = cpu_quantity(c.cpus)
    if limits:
        out["resources"] = {"limits": limits}
    if not c.security.empty():
        out["securityContext"] = security(c.security)
    if c.probe is not None:
        out["livenessProbe"] = probe(c.probe)
    if c.pull_policy:
        out["imagePullPolicy"] = c.pull_policy
    if c.tty:
        out["tty"] = True
    if c.stdin:
        out["stdin"] = True
    return out


def port(p: Port) -> JSON:
    out: JSON = {"containerPort": p.container_port, "protocol": p.protocol}
    if p.host_port:
        out["hostPort"] = p.host_port
    if p.host_ip:
        out["hostIP"] = p.host_ip
    return out


def security(s: Security) -> JSON:
    out: JSON = {}
    if s.run_as_user is not None:
        out["runAsUser"] = s.run_as_user
    if s.run_as_group is not None:
        out["runAsGroup"] = s.run_as_group
    caps: JSON = {}
    if s.cap_add:
        caps["add"] = list(s.cap_add)
    if s.cap_drop:
        caps["drop"] = list(s.cap_drop)
    if caps:
        out["capabilities"] = caps
    if s.read_only_root:
        out["readOnlyRootFilesystem"] = True
    if s.privileged:
        out["privileged"] = True
    if s.no_new_privileges:
        out["allowPrivilegeEscalation"] = False
    return out


def probe(p: Probe) -> JSON:
    out: JSON = {"exec": {"command": list(p.command)}}
    for key, value in (("periodSeconds", p.period), ("timeoutSeconds", p.timeout),
                       ("failureThreshold", p.failure_threshold),
                       ("initialDelaySeconds", p.initial_delay)):
        if value:
            out[key] = value
    return out


def volume(v: Volume) -> JSON:
    if v.kind == "pvc":
        return {"name": v.name, "persistentVolumeClaim": {"claimName": v.source}}
    if v.kind == "hostPath":
        host: JSON = {"path": v.source}
        if v.host_type:
            host["type"] = v.host_type
        return {"name": v.name, "hostPath": host}
    if v.kind == "emptyDir":
        return {"name": v.name, "emptyDir": {"medium": v.medium} if v.medium else {}}
    ref: JSON = {"defaultMode": v.default_mode}
    ref["name" if v.kind == "configMap" else "secretName"] = v.source
    if v.files:
        ref["items"] = [{"key": f.key or f.path, "path": f.path,
                         **({"mode": f.mode} if f.mode is not None else {})} for f in v.files]
    return {"name": v.name, v.kind: ref}


def memory_quantity(n: int) -> str:
    for suffix, size in (("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)):
        if n % size == 0:
            return f"{n // size}{suffix}"
    return str(n)


def cpu_quantity(cores: float) -> str:
    milli = round(cores * 1000)
    return str(milli // 1000) if milli % 1000 == 0 else f"{milli}m"
