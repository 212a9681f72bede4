"""Kubernetes YAML -> the plan (pycontainer.kube.play): what is translated, what is refused."""

from __future__ import annotations

import base64

import pytest

from pycontainer.errors import UsageError
from pycontainer.kube import model, play

POD = """\
apiVersion: v1
kind: Pod
metadata: {name: p, labels: {tier: web}, namespace: default}
spec:
  restartPolicy: OnFailure
  containers:
  - name: c
    image: busybox
{extra}
"""


def plan_of(text: str, configmaps: str = "") -> play.Plan:
    extra = play.load_documents(configmaps, "cm") if configmaps else None
    return play.plan(play.load_documents(text, "f"), extra)


def pod_with(extra: str) -> str:
    return POD.replace("{extra}", extra)


def error_of(text: str) -> str:
    with pytest.raises(UsageError) as exc:
        plan_of(text)
    return str(exc.value)


def test_a_pod_and_its_container() -> None:
    p = plan_of(pod_with("    command: [sh]\n    args: [-c, 'echo hi']\n    workingDir: /w\n"
                         "    tty: true\n    imagePullPolicy: Always"))
    pod = p.pods[0]
    assert (pod.name, pod.restart_policy, pod.labels) == ("p", "OnFailure", {"tier": "web"})
    c = pod.containers[0]
    assert (c.command, c.args, c.working_dir, c.tty, c.pull_policy) == \
        (["sh"], ["-c", "echo hi"], "/w", True, "Always")


def test_configmap_and_secret_env() -> None:
    secret = base64.b64encode(b"s3cret").decode()
    text = ("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
            f"data: {{password: {secret}}}\nstringData: {{user: admin}}\n---\n"
            + pod_with("    env:\n    - {name: A, value: '1'}\n"
                       "    - name: P\n      valueFrom: {secretKeyRef: {name: s, key: password}}\n"
                       "    - name: G\n      valueFrom: {configMapKeyRef: {name: cm, key: g}}\n"
                       "    - name: O\n      valueFrom: {configMapKeyRef: {name: cm, key: x, "
                       "optional: true}}\n"
                       "    envFrom: [{secretRef: {name: s}, prefix: S_}]"))
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {g: hello}\n"
    env = [(e.name, e.value) for e in plan_of(text, cm).pods[0].containers[0].env]
    assert env == [("S_password", "s3cret"), ("S_user", "admin"), ("A", "1"), ("P", "s3cret"),
                   ("G", "hello"), ("O", "")]


def test_volumes_of_each_kind() -> None:
    text = ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: x, b: y}\n---\n"
            + pod_with("    volumeMounts:\n    - {name: v1, mountPath: /a}\n"
                       "    - {name: v2, mountPath: /b, readOnly: true}\n"
                       "    - {name: v3, mountPath: /c}\n    - {name: v4, mountPath: /d}\n"
                       "    - {name: v5, mountPath: /e}\n")
            + "  volumes:\n  - {name: v1, persistentVolumeClaim: {claimName: data}}\n"
              "  - {name: v2, hostPath: {path: /srv, type: Directory}}\n"
              "  - {name: v3, emptyDir: {}}\n  - {name: v4, emptyDir: {medium: Memory}}\n"
              "  - name: v5\n    configMap:\n      name: cm\n      defaultMode: 0400\n"
              "      items: [{key: b, path: sub/b.txt, mode: 0600}]\n")
    pod = plan_of(text).pods[0]
    kinds = [(v.kind, v.source, v.host_type, v.medium) for v in pod.volumes]
    assert kinds == [("pvc", "data", "", ""), ("hostPath", "/srv", "Directory", ""),
                     ("emptyDir", "", "", ""), ("emptyDir", "", "", "Memory"),
                     ("configMap", "cm", "", "")]
    assert pod.volumes[4].files == [model.KeyFile("sub/b.txt", b"y", 0o600, "b")]
    assert pod.volumes[4].default_mode == 0o400
    assert [m.read_only for m in pod.containers[0].mounts] == [False, True, False, False, False]


def test_a_deployment_runs_one_replica_with_a_warning() -> None:
    text = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: 3\n"
            "  selector: {matchLabels: {app: d}}\n  template:\n    metadata: {labels: {app: d}}\n"
            "    spec:\n      containers: [{name: c, image: busybox}]\n"
            "      initContainers: [{name: i, image: busybox, command: ['true']}]\n")
    p = plan_of(text)
    assert [pod.name for pod in p.pods] == ["d-pod"]
    assert [c.name for c in p.pods[0].init_containers] == ["i"]
    assert p.warnings == ["document 1 (Deployment d): limiting replica count to 1, more than "
                          "one replica is not supported by pyc"]


def test_limits_security_probe_ports() -> None:
    pod = plan_of(pod_with(
        "    resources: {limits: {memory: 128Mi, cpu: 250m}, requests: {memory: 64Mi}}\n"
        "    securityContext:\n      runAsUser: 1000\n      capabilities: {add: [NET_ADMIN], "
        "drop: [ALL]}\n      readOnlyRootFilesystem: true\n      allowPrivilegeEscalation: false\n"
        "    livenessProbe: {exec: {command: [cat, /ok]}, periodSeconds: 7, timeoutSeconds: 2, "
        "failureThreshold: 4, initialDelaySeconds: 5}\n"
        "    ports: [{containerPort: 80, hostPort: 8080}, {containerPort: 53, protocol: UDP}]\n"
        "  securityContext: {runAsGroup: 50}")).pods[0]
    c = pod.containers[0]
    assert (c.memory, c.cpus) == (128 << 20, 0.25)
    assert c.security == model.Security(1000, 50, ["NET_ADMIN"], ["ALL"], True, False, True)
    assert c.probe == model.Probe(["cat", "/ok"], 7, 2, 4, 5)
    assert c.ports == [model.Port(80, 8080, "TCP"), model.Port(53, 0, "UDP")]


def test_pvcs_are_claims_and_other_kinds_warn() -> None:
    p = plan_of("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\n---\n"
                "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n")
    assert p.claims == ["data"] and not p.pods
    assert p.warnings == ["document 2 (Service s): kind Service is not supported by pyc: "
                          "skipped"]


@pytest.mark.parametrize(("extra", "message"), [
    ("    lifecycle: {}", "document 1 (Pod p): spec.containers[0].lifecycle: is not supported"),
    ("    livenessProbe: {httpGet: {path: /, port: 80}}",
     "spec.containers[0].livenessProbe.httpGet: is not supported by pyc (exec probes only)"),
    ("    volumeMounts: [{name: v, mountPath: /x, subPath: y}]",
     "spec.containers[0].volumeMounts[0].subPath: is not supported"),
    ("    volumeMounts: [{name: nope, mountPath: /x}]", "mounts volume nope, which the pod"),
    ("    env: [{name: A, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]",
     "spec.containers[0].env[0].valueFrom.fieldRef: is not supported"),
    ("    env: [{name: A, valueFrom: {configMapKeyRef: {name: x, key: y}}}]",
     "ConfigMap x not found (give it in the file or with --configmap)"),
    ("    resources: {limits: {memory: lots}}", "resources.limits: invalid quantity 'lots'"),
    ("    resources: {limits: {nvidia.com/gpu: 1}}", "resources.limits.nvidia.com/gpu: is not"),
    ("    ports: [{containerPort: 80, protocol: SCTP}]", "protocol SCTP is not supported"),
    ("    env: [{name: A, value: 5}]", "spec.containers[0].env[0].value: must be a string"),
    ("  shareProcessNamespace: true", "spec.shareProcessNamespace: is not supported"),
])
def test_unsupported_fields_are_errors_naming_their_path(extra: str, message: str) -> None:
    assert message in error_of(pod_with(extra))


def test_bad_documents() -> None:
    with pytest.raises(UsageError, match=r"f: invalid YAML \(line 2\)"):
        play.load_documents("a: [1\nb: }\n", "f")
    with pytest.raises(UsageError, match="document 2 is not a Kubernetes object"):
        play.load_documents("kind: Pod\n---\n- 1\n", "f")
    assert "a name is required" in error_of("apiVersion: v1\nkind: Pod\nspec: {}\n")
    assert "two pods are named p" in error_of(pod_with("") + "---\n" + pod_with(""))
    assert "document 1 (ConfigMap cm): data: values must be strings" in error_of(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {n: 5}\n")
    assert "invalid item path" in error_of(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: x}\n---\n"
        + pod_with("") + "  volumes: [{name: v, configMap: {name: cm, items: "
        "[{key: a, path: ../a}]}}]\n")


def test_readiness_probe_beside_a_liveness_probe_is_named() -> None:
    p = plan_of(pod_with("    livenessProbe: {exec: {command: [a]}}\n"
                         "    readinessProbe: {exec: {command: [b]}}"))
    assert p.pods[0].containers[0].probe == model.Probe(["a"])
    assert p.warnings == ["document 1 (Pod p): spec.containers[0].readinessProbe: pyc runs one "
                          "healthcheck per container, the livenessProbe: not run"]
    only = plan_of(pod_with("    readinessProbe: {exec: {command: [b]}, periodSeconds: 2}"))
    assert only.pods[0].containers[0].probe == model.Probe(["b"], 2)
    assert "two containers are named c" in error_of(
        pod_with("  - {name: c, image: busybox}"))
