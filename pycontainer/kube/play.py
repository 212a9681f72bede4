"""Kubernetes YAML -> a plan of what to run (Podman's `play kube`). Pure: no engine calls.

Pods and Deployments become `model.Pod`s, PersistentVolumeClaims named volumes, ConfigMaps
and Secrets resolve into env values and files. A kind pyc does not run is named in a warning;
a field that would change what runs and that pyc cannot honour is an error naming the
document and the path (never dropped); fields with no local meaning (scheduling, status,
bookkeeping) are listed in IGNORED and read past, as docs/kube.md says.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field

from pycontainer.errors import UsageError
from pycontainer.kube import model
from pycontainer.kube.quantity import cpu_cores, memory_bytes

KINDS = ("Pod", "Deployment", "PersistentVolumeClaim", "ConfigMap", "Secret")

#: per object: the fields read; IGNORED: those without effect on a local run
KNOWN = {
    "doc": {"apiVersion", "kind", "metadata", "spec", "data", "binaryData", "stringData",
            "type", "immutable"},
    "metadata": {"name", "labels", "annotations"},
    "deployment": {"replicas", "selector", "template"},
    "template": {"metadata", "spec"},
    "pod": {"containers", "initContainers", "volumes", "restartPolicy", "hostname",
            "securityContext", "hostNetwork", "terminationGracePeriodSeconds"},
    "podsecurity": {"runAsUser", "runAsGroup"},
    "container": {"name", "image", "command", "args", "env", "envFrom", "workingDir", "ports",
                  "volumeMounts", "resources", "securityContext", "livenessProbe",
                  "readinessProbe", "imagePullPolicy", "tty", "stdin"},
    "port": {"containerPort", "hostPort", "protocol", "hostIP", "name"},
    "mount": {"name", "mountPath", "readOnly"},
    "resources": {"limits", "requests"},
    "limits": {"memory", "cpu"},
    "security": {"runAsUser", "runAsGroup", "capabilities", "readOnlyRootFilesystem",
                 "privileged", "allowPrivilegeEscalation"},
    "capabilities": {"add", "drop"},
    "probe": {"exec", "periodSeconds", "timeoutSeconds", "failureThreshold",
              "initialDelaySeconds", "successThreshold"},
    "volume": {"name", "persistentVolumeClaim", "hostPath", "emptyDir", "configMap", "secret"},
    "env": {"name", "value", "valueFrom"},
    "keyref": {"name", "key", "optional"},
    "envfrom": {"configMapRef", "secretRef", "prefix"},
    "item": {"key", "path", "mode"},
}
IGNORED = {
    "doc": {"status"},
    "metadata": {"namespace", "creationTimestamp", "uid", "resourceVersion", "generation",
                 "managedFields", "selfLink", "ownerReferences", "finalizers"},
    "deployment": {"strategy", "revisionHistoryLimit", "progressDeadlineSeconds",
                   "minReadySeconds", "paused"},
    "pod": {"dnsPolicy", "schedulerName", "nodeSelector", "nodeName", "tolerations",
            "affinity", "priority", "priorityClassName", "serviceAccountName",
            "serviceAccount", "automountServiceAccountToken", "enableServiceLinks",
            "preemptionPolicy", "imagePullSecrets", "topologySpreadConstraints"},
    "container": {"terminationMessagePath", "terminationMessagePolicy", "stdinOnce"},
    "podsecurity": {"fsGroup", "seLinuxOptions", "supplementalGroups"},
    "security": {"seLinuxOptions", "procMount"},
}


@dataclass
class Plan:
    pods: list[model.Pod] = field(default_factory=list)
    claims: list[str] = field(default_factory=list)  # PersistentVolumeClaims: named volumes
    warnings: list[str] = field(default_factory=list)
    #: per pod name: terminationGracePeriodSeconds (the containers' stop timeout)
    grace: dict[str, int] = field(default_factory=dict)


@dataclass
class _Sources:
    """What the pods read from: the ConfigMaps and Secrets, and where warnings go."""

    configmaps: dict[str, dict[str, bytes]] = field(default_factory=dict)
    secrets: dict[str, dict[str, bytes]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


class _At:
    """Where in the file a value is, for one-line errors: `document 2 (Pod web): spec...`."""

    def __init__(self, doc: str, path: str = "") -> None:
        self.doc, self.path = doc, path

    def __truediv__(self, key: str | int) -> _At:
        if isinstance(key, int):
            return _At(self.doc, f"{self.path}[{key}]")
        return _At(self.doc, f"{self.path}.{key}" if self.path else key)

    def fail(self, what: str) -> UsageError:
        return UsageError(f"{self.doc}: {self.path}: {what}" if self.path else
                          f"{self.doc}: {what}")


def load_documents(text: str, source: str) -> list[dict[str, object]]:
    import yaml

    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not YAML"
        raise UsageError(f"{source}: invalid YAML{where}: {problem}") from None
    for i, d in enumerate(docs, 1):
        if not isinstance(d, dict) or not isinstance(d.get("kind"), str):
            raise UsageError(f"{source}: document {i} is not a Kubernetes object "
                             "(a mapping with a kind)")
    return docs


def plan(docs: list[dict[str, object]], configmaps: list[dict[str, object]] | None = None
         ) -> Plan:
    out = Plan()
    sources = _Sources(warnings=out.warnings)
    for i, d in enumerate([*docs, *(configmaps or [])], 1):
        if d.get("kind") in ("ConfigMap", "Secret"):
            _source(d, _at(i, d), sources)
    for i, d in enumerate(docs, 1):
        kind, at = d["kind"], _at(i, d)
        if kind not in KINDS:
            out.warnings.append(f"{at.doc}: kind {kind} is not supported by pyc: skipped")
            continue
        _check(d, "doc", at)
        if kind == "Pod":
            _add_pod(out, _name(d, at), _map(d, "spec", at), d, at, sources)
        elif kind == "Deployment":
            _deployment(out, d, at, sources)
        elif kind == "PersistentVolumeClaim":
            out.claims.append(_name(d, at))
    names = [p.name for p in out.pods]
    for name in names:
        if names.count(name) > 1:
            raise UsageError(f"two pods are named {name}")
    return out


def _at(i: int, d: Mapping[str, object]) -> _At:
    meta = d.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    return _At(f"document {i} ({d.get('kind')}{' ' + str(name) if name else ''})")


def _name(d: Mapping[str, object], at: _At) -> str:
    meta = _map(d, "metadata", at)
    _check(meta, "metadata", at / "metadata")
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        raise (at / "metadata.name").fail("a name is required")
    return name


def _source(d: dict[str, object], at: _At, sources: _Sources) -> None:
    name = _name(d, at)
    data = {k: v.encode() for k, v in _str_map(d, "data", at).items()}
    if d["kind"] == "ConfigMap":
        for k, v in _map(d, "binaryData", at).items():
            data[k] = _b64(v, at / "binaryData" / k)
        sources.configmaps[name] = data
        return
    data = {k: _b64(v, at / "data" / k) for k, v in _map(d, "data", at).items()}
    data.update({k: v.encode() for k, v in _str_map(d, "stringData", at).items()})
    sources.secrets[name] = data


def _b64(value: object, at: _At) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise at.fail("not base64") from None


def _deployment(out: Plan, d: dict[str, object], at: _At, sources: _Sources) -> None:
    name = _name(d, at)
    spec = _map(d, "spec", at)
    _check(spec, "deployment", at / "spec")
    replicas = _int(spec, "replicas", at / "spec", 1)
    if replicas > 1:  # Podman 4.3 runs one
        out.warnings.append(f"{at.doc}: limiting replica count to 1, more than one replica "
                            "is not supported by pyc")
    template = _map(spec, "template", at / "spec")
    _check(template, "template", at / "spec.template")
    _add_pod(out, f"{name}-pod", _map(template, "spec", at / "spec.template"), template,
             at / "spec.template", sources)


def _add_pod(out: Plan, name: str, spec: dict[str, object], holder: Mapping[str, object],
             at: _At, sources: _Sources) -> None:
    at = at / "spec"
    _check(spec, "pod", at)
    meta = _map(holder, "metadata", at)
    psec = _map(spec, "securityContext", at)
    _check(psec, "podsecurity", at / "securityContext")
    volumes = [_volume(v, at / "volumes" / i, sources)
               for i, v in enumerate(_list(spec, "volumes", at))]
    containers = [_container(c, at / "containers" / i, sources, psec)
                  for i, c in enumerate(_list(spec, "containers", at))]
    if not containers:
        raise (at / "containers").fail("a pod needs at least one container")
    inits = [_container(c, at / "initContainers" / i, sources, psec)
             for i, c in enumerate(_list(spec, "initContainers", at))]
    restart = _str(spec, "restartPolicy", at) or "Always"
    if restart not in model.RESTART_TO_DOCKER:
        raise (at / "restartPolicy").fail(f"unknown restart policy {restart}")
    _check_mounts(containers + inits, {v.name for v in volumes}, at)
    names = [c.name for c in containers + inits]
    for n in names:
        if names.count(n) > 1:
            raise at.fail(f"two containers are named {n}")
    out.pods.append(model.Pod(
        name=name, containers=containers, init_containers=inits, volumes=volumes,
        hostname=_str(spec, "hostname", at), restart_policy=restart,
        labels=_str_map(meta, "labels", at), annotations=_str_map(meta, "annotations", at),
        host_network=bool(spec.get("hostNetwork"))))
    if "terminationGracePeriodSeconds" in spec:
        out.grace[name] = _int(spec, "terminationGracePeriodSeconds", at, 30)


def _check_mounts(containers: list[model.Container], volumes: set[str], at: _At) -> None:
    for c in containers:
        for m in c.mounts:
            if m.volume not in volumes:
                raise at.fail(f"container {c.name} mounts volume {m.volume}, which the pod "
                              "does not define")


def _container(c: object, at: _At, sources: _Sources, psec: dict[str, object]
               ) -> model.Container:
    if not isinstance(c, dict):
        raise at.fail("a container must be a mapping")
    _check(c, "container", at)
    name, image = _str(c, "name", at), _str(c, "image", at)
    if not name or not image:
        raise at.fail("a container needs a name and an image")
    env = _env_from(c, at, sources) + [_env(e, at / "env" / i, sources)
                                       for i, e in enumerate(_list(c, "env", at))]
    memory, cpus = _limits(c, at)
    policy = _str(c, "imagePullPolicy", at)
    if policy not in ("", "Always", "IfNotPresent", "Never"):
        raise (at / "imagePullPolicy").fail(f"unknown pull policy {policy}")
    return model.Container(
        name=name, image=image, command=_strs(c, "command", at), args=_strs(c, "args", at),
        env=env, working_dir=_str(c, "workingDir", at),
        ports=[_port(p, at / "ports" / i) for i, p in enumerate(_list(c, "ports", at))],
        mounts=[_mount(m, at / "volumeMounts" / i)
                for i, m in enumerate(_list(c, "volumeMounts", at))],
        memory=memory, cpus=cpus, security=_security(c, at, psec),
        probe=_probe(c, at, sources.warnings),
        pull_policy=policy, tty=bool(c.get("tty")), stdin=bool(c.get("stdin")))


def _limits(c: dict[str, object], at: _At) -> tuple[int | None, float | None]:
    res = _map(c, "resources", at)
    _check(res, "resources", at / "resources")
    limits = _map(res, "limits", at / "resources")
    _check(limits, "limits", at / "resources.limits")
    lat = at / "resources.limits"
    try:
        memory = memory_bytes(str(limits["memory"])) if "memory" in limits else None
        cpus = cpu_cores(str(limits["cpu"])) if "cpu" in limits else None
    except ValueError as exc:
        raise lat.fail(str(exc)) from None
    return memory, cpus


def _env(e: object, at: _At, sources: _Sources) -> model.EnvVar:
    if not isinstance(e, dict):
        raise at.fail("an env entry must be a mapping")
    _check(e, "env", at)
    name = _str(e, "name", at)
    if not name:
        raise at.fail("an env entry needs a name")
    if "valueFrom" not in e:
        return model.EnvVar(name, _str(e, "value", at))
    ref = _map(e, "valueFrom", at)
    known = {"configMapKeyRef", "secretKeyRef"}
    for key in ref:
        if key not in known:
            raise (at / "valueFrom" / key).fail("is not supported by pyc")
    kind = "configMapKeyRef" if "configMapKeyRef" in ref else "secretKeyRef"
    key_ref = _map(ref, kind, at / "valueFrom")
    _check(key_ref, "keyref", at / "valueFrom" / kind)
    data = _lookup(sources, kind, _str(key_ref, "name", at), key_ref.get("optional"),
                   at / "valueFrom" / kind)
    key = _str(key_ref, "key", at / "valueFrom" / kind)
    if key not in data:
        if key_ref.get("optional"):
            return model.EnvVar(name, "")
        raise (at / "valueFrom" / kind).fail(f"key {key} not found in {_str(key_ref, 'name', at)}")
    return model.EnvVar(name, data[key].decode(errors="replace"))


def _lookup(sources: _Sources, kind: str, name: str, optional: object, at: _At
            ) -> dict[str, bytes]:
    table = sources.configmaps if kind.startswith("configMap") else sources.secrets
    if name in table:
        return table[name]
    if optional:
        return {}
    what = "ConfigMap" if kind.startswith("configMap") else "Secret"
    raise at.fail(f"{what} {name} not found (give it in the file or with --configmap)")


def _env_from(c: dict[str, object], at: _At, sources: _Sources) -> list[model.EnvVar]:
    out = []
    for i, item in enumerate(_list(c, "envFrom", at)):
        iat = at / "envFrom" / i
        if not isinstance(item, dict):
            raise iat.fail("an envFrom entry must be a mapping")
        _check(item, "envfrom", iat)
        kind = "configMapRef" if "configMapRef" in item else "secretRef"
        ref = _map(item, kind, iat)
        data = _lookup(sources, kind, _str(ref, "name", iat / kind), ref.get("optional"),
                       iat / kind)
        prefix = _str(item, "prefix", iat)
        out += [model.EnvVar(prefix + k, v.decode(errors="replace"))
                for k, v in sorted(data.items())]
    return out


def _port(p: object, at: _At) -> model.Port:
    if not isinstance(p, dict):
        raise at.fail("a port must be a mapping")
    _check(p, "port", at)
    proto = _str(p, "protocol", at) or "TCP"
    if proto not in ("TCP", "UDP"):
        raise (at / "protocol").fail(f"protocol {proto} is not supported by pyc")
    return model.Port(_int(p, "containerPort", at, 0), _int(p, "hostPort", at, 0), proto,
                      _str(p, "hostIP", at))


def _mount(m: object, at: _At) -> model.Mount:
    if not isinstance(m, dict):
        raise at.fail("a volume mount must be a mapping")
    _check(m, "mount", at)
    path = _str(m, "mountPath", at)
    if not path.startswith("/"):
        raise (at / "mountPath").fail("must be an absolute path")
    return model.Mount(_str(m, "name", at), path, bool(m.get("readOnly")))


def _security(c: dict[str, object], at: _At, psec: dict[str, object]) -> model.Security:
    sec = _map(c, "securityContext", at)
    sat = at / "securityContext"
    _check(sec, "security", sat)
    caps = _map(sec, "capabilities", sat)
    _check(caps, "capabilities", sat / "capabilities")
    merged = {**psec, **sec}
    user = merged.get("runAsUser")
    group = merged.get("runAsGroup")
    for key, value in (("runAsUser", user), ("runAsGroup", group)):
        if value is not None and (not isinstance(value, int) or value < 0):
            raise (sat / key).fail("must be a non-negative integer")
    return model.Security(
        run_as_user=user if isinstance(user, int) else None,
        run_as_group=group if isinstance(group, int) else None,
        cap_add=_strs(caps, "add", sat / "capabilities"),
        cap_drop=_strs(caps, "drop", sat / "capabilities"),
        read_only_root=bool(sec.get("readOnlyRootFilesystem")),
        privileged=bool(sec.get("privileged")),
        no_new_privileges=sec.get("allowPrivilegeEscalation") is False)


def _probe(c: dict[str, object], at: _At, warnings: list[str]) -> model.Probe | None:
    key = "livenessProbe" if "livenessProbe" in c else "readinessProbe"
    if key not in c:
        return None
    if key == "livenessProbe" and "readinessProbe" in c:
        _probe({"readinessProbe": c["readinessProbe"]}, at, [])  # still checked
        warnings.append(f"{(at / 'readinessProbe').doc}: {(at / 'readinessProbe').path}: pyc "
                        "runs one healthcheck per container, the livenessProbe: not run")
    p, pat = _map(c, key, at), at / key
    for k in p:
        if k not in KNOWN["probe"]:
            raise (pat / k).fail("is not supported by pyc (exec probes only)")
    if _int(p, "successThreshold", pat, 1) != 1:
        raise (pat / "successThreshold").fail("must be 1")
    command = _strs(_map(p, "exec", pat), "command", pat / "exec")
    if not command:
        raise (pat / "exec.command").fail("an exec probe needs a command")
    return model.Probe(command, _int(p, "periodSeconds", pat, 0),
                       _int(p, "timeoutSeconds", pat, 0), _int(p, "failureThreshold", pat, 0),
                       _int(p, "initialDelaySeconds", pat, 0))


def _volume(v: object, at: _At, sources: _Sources) -> model.Volume:
    if not isinstance(v, dict):
        raise at.fail("a volume must be a mapping")
    _check(v, "volume", at)
    name = _str(v, "name", at)
    kinds = [k for k in v if k != "name"]
    if len(kinds) != 1:
        raise at.fail("a volume needs exactly one source (persistentVolumeClaim, hostPath, "
                      "emptyDir, configMap or secret)")
    kind = kinds[0]
    src, sat = _map(v, kind, at), at / kind
    if kind == "persistentVolumeClaim":
        _only(src, {"claimName"}, sat)
        return model.Volume(name, "pvc", _str(src, "claimName", sat))
    if kind == "hostPath":
        _only(src, {"path", "type"}, sat)
        htype = _str(src, "type", sat)
        if htype not in ("", "Directory", "DirectoryOrCreate", "File", "FileOrCreate"):
            raise (sat / "type").fail(f"hostPath type {htype} is not supported by pyc")
        return model.Volume(name, "hostPath", _str(src, "path", sat), host_type=htype)
    if kind == "emptyDir":
        _only(src, {"medium"}, sat)
        medium = _str(src, "medium", sat)
        if medium not in ("", "Memory"):
            raise (sat / "medium").fail(f"medium {medium} is not supported by pyc")
        return model.Volume(name, "emptyDir", medium=medium)
    return _key_volume(name, kind, src, sat, sources)


def _key_volume(name: str, kind: str, src: dict[str, object], at: _At, sources: _Sources
                ) -> model.Volume:
    ref_key = "name" if kind == "configMap" else "secretName"
    _only(src, {ref_key, "items", "defaultMode", "optional"}, at)
    ref = _str(src, ref_key, at)
    data = _lookup(sources, kind, ref, src.get("optional"), at)
    mode = _int(src, "defaultMode", at, 0o644)
    files = []
    items = _list(src, "items", at)
    for i, item in enumerate(items):
        iat = at / "items" / i
        if not isinstance(item, dict):
            raise iat.fail("an item must be a mapping")
        _check(item, "item", iat)
        key, path = _str(item, "key", iat), _str(item, "path", iat)
        if key not in data:
            raise iat.fail(f"key {key} not found in {ref}")
        files.append(model.KeyFile(_safe_path(path, iat), data[key],
                                   _int(item, "mode", iat, 0) or None, key))
    if not items:
        files = [model.KeyFile(_safe_path(k, at), v, key=k) for k, v in sorted(data.items())]
    return model.Volume(name, kind, ref, files=files, default_mode=mode)


def _safe_path(path: str, at: _At) -> str:
    parts = path.split("/")
    if not path or path.startswith("/") or ".." in parts:
        raise at.fail(f"invalid item path {path!r}: relative, without '..'")
    return path


# --- typed access ------------------------------------------------------------------------


def _check(obj: Mapping[str, object], what: str, at: _At) -> None:
    known, ignored = KNOWN[what], IGNORED.get(what, set())
    for key in obj:
        if key not in known and key not in ignored:
            raise (at / key).fail("is not supported by pyc")


def _only(obj: Mapping[str, object], known: set[str], at: _At) -> None:
    for key in obj:
        if key not in known:
            raise (at / key).fail("is not supported by pyc")


def _map(obj: Mapping[str, object], key: str, at: _At) -> dict[str, object]:
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise (at / key).fail("must be a mapping")
    return value


def _list(obj: Mapping[str, object], key: str, at: _At) -> list[object]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise (at / key).fail("must be a list")
    return value


def _str(obj: Mapping[str, object], key: str, at: _At) -> str:
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise (at / key).fail("must be a string")
    return value


def _strs(obj: Mapping[str, object], key: str, at: _At) -> list[str]:
    items = _list(obj, key, at)
    if not all(isinstance(s, str) for s in items):
        raise (at / key).fail("must be a list of strings")
    return [str(s) for s in items]


def _str_map(obj: Mapping[str, object], key: str, at: _At) -> dict[str, str]:
    items = _map(obj, key, at)
    if not all(isinstance(v, str) for v in items.values()):
        raise (at / key).fail("values must be strings")
    return {str(k): str(v) for k, v in items.items()}


def _int(obj: Mapping[str, object], key: str, at: _At, default: int) -> int:
    value = obj.get(key)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise (at / key).fail("must be a non-negative integer")
    return value
