"""Issue 15, the Kubernetes half: `pyc kube generate` output validates against Kubernetes
1.30's schema, `kube play` runs a multi-document file (ConfigMap, PVC, initContainer,
Deployment) and `kube down` removes what it made, generate -> play -> generate round-trips,
and bad input fails by name. As the unprivileged user, with the local fixtures."""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers.runner import Pyc


@pytest.fixture
def busybox(pyc: Pyc, fixture_refs: dict[str, str]) -> str:
    pyc.ok("pull", "-q", fixture_refs["busybox"])
    return fixture_refs["busybox"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fetch(port: int, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                return str(r.read().decode())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def docs_of(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def validate_1_30(path: Path) -> None:
    import kubernetes_validate

    for doc in docs_of(path.read_text()):
        kubernetes_validate.validate(doc, "1.30.0", strict=True)


def pod_info(pyc: Pyc, pod: str) -> dict[str, Any]:
    out = json.loads(pyc.ok("pod", "inspect", pod).out)
    assert isinstance(out, list) and len(out) == 1
    return dict(out[0])


def members(info: dict[str, Any]) -> list[str]:
    return sorted(c["Name"] for c in info["Containers"] if not c["Name"].endswith("-infra"))


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def run_web_pod(pyc: Pyc, image: str, tmp_path: Path, port: int) -> None:
    """Pod `web`: busybox httpd serving a host directory, and a second container that
    fetches from it on localhost."""
    host_dir = tmp_path / "site"
    host_dir.mkdir()
    (host_dir / "index.html").write_text("hello from the host\n")
    pyc.ok("volume", "create", "kdata")
    pyc.ok("pod", "create", "--name", "web", "--hostname", "webhost", "--label", "tier=front",
           "-p", f"127.0.0.1:{port}:80")
    pyc.ok("run", "-d", "--pod", "web", "--name", "httpd", "-v", "kdata:/data",
           "-v", f"{host_dir}:/www:ro", "--tmpfs", "/scratch", "-e", "FOO=bar",
           "-e", "GREETING=hi there", "--memory", "64m", "--cpus", "0.5",
           "--health-cmd", "wget -q -O /dev/null http://localhost/",
           "--health-interval", "5s", "--health-retries", "2", "-w", "/www",
           image, "httpd", "-f", "-p", "80", "-h", "/www")
    pyc.ok("run", "-d", "--pod", "web", "--name", "fetcher", "-e", "URL=http://localhost:80/",
           image, "sleep", "3600")


def by_name(text: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    pod = next(d for d in docs_of(text) if d["kind"] == "Pod")
    return pod, {c["name"]: c for c in pod["spec"]["containers"]}


def container0(text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    pod = next(d for d in docs_of(text) if d["kind"] == "Pod")
    return pod, pod["spec"]["containers"][0]


def test_pod_generate_validates_and_round_trips(pyc: Pyc, busybox: str, tmp_path: Path
                                                ) -> None:
    port = free_port()
    run_web_pod(pyc, busybox, tmp_path, port)
    assert fetch(port) == "hello from the host\n"
    got = pyc.ok("exec", "fetcher", "wget", "-qO-", "http://localhost:80/").out
    assert got == "hello from the host\n"
    out = tmp_path / "web.yaml"
    pyc.ok("kube", "generate", "--service", "web", "-f", str(out))
    assert out.read_text().startswith("# Save the output of this file")
    validate_1_30(out)
    pod, ctrs = by_name(out.read_text())
    assert pod["metadata"]["name"] == "web"
    assert pod["metadata"]["labels"] == {"app": "web", "tier": "front"}
    assert pod["spec"]["hostname"] == "webhost" and list(ctrs) == ["httpd", "fetcher"]
    ctr = ctrs["httpd"]
    assert ctr["image"] == busybox and ctr["args"] == ["httpd", "-f", "-p", "80", "-h", "/www"]
    assert "command" not in ctr  # the image's entrypoint (none) stays
    assert ctr["env"] == [{"name": "FOO", "value": "bar"},
                          {"name": "GREETING", "value": "hi there"}]  # not the image's PATH
    # the pod's published port, on its first container (as Podman)
    assert ctr["ports"] == [{"containerPort": 80, "hostPort": port, "hostIP": "127.0.0.1",
                             "protocol": "TCP"}]
    assert "ports" not in ctrs["fetcher"]
    assert ctrs["fetcher"]["env"] == [{"name": "URL", "value": "http://localhost:80/"}]
    assert ctr["resources"] == {"limits": {"memory": "64Mi", "cpu": "500m"}}
    assert ctr["livenessProbe"] == {"exec": {"command": [
        "/bin/sh", "-c", "wget -q -O /dev/null http://localhost/"]},
        "periodSeconds": 5, "failureThreshold": 2, "timeoutSeconds": 30}
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    kinds = {m["mountPath"]: volumes[m["name"]] for m in ctr["volumeMounts"]}
    assert kinds["/data"]["persistentVolumeClaim"] == {"claimName": "kdata"}
    assert kinds["/www"]["hostPath"] == {"path": str(tmp_path / "site"), "type": "Directory"}
    assert kinds["/scratch"]["emptyDir"] == {"medium": "Memory"}
    assert [m.get("readOnly", False) for m in ctr["volumeMounts"]
            if m["mountPath"] == "/www"] == [True]
    service = next(d for d in docs_of(out.read_text()) if d["kind"] == "Service")
    assert service["spec"]["type"] == "NodePort"
    assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(port, 80)]

    # the round trip: play what generate wrote (its port is free once the pod is gone)
    pyc.ok("pod", "rm", "-f", "web")
    played = pyc.ok("play", "kube", str(out))  # Podman's older spelling
    assert "Pod:\nweb\n" in played.out
    assert "Service" in played.err  # the kind it does not run, named
    assert fetch(port) == "hello from the host\n"
    info = pod_info(pyc, "web")  # a real pod, with Podman's names for its containers
    assert members(info) == ["web-fetcher", "web-httpd"]
    assert info["Hostname"] == "webhost" and info["Labels"]["tier"] == "front"
    assert pyc.ok("exec", "web-fetcher", "hostname").out.strip() == "webhost"
    got = pyc.ok("exec", "web-fetcher", "wget", "-qO-", "http://localhost:80/").out
    assert got == "hello from the host\n"
    pod2, ctrs2 = by_name(pyc.ok("kube", "generate", "web").out)
    assert pod2["metadata"]["name"] == "web"
    assert pod2["metadata"]["labels"] == pod["metadata"]["labels"]
    for key in ("hostname", "volumes", "restartPolicy"):
        assert pod2["spec"].get(key) == pod["spec"].get(key), key
    assert list(ctrs2) == list(ctrs)
    for name, c in ctrs.items():  # field by field: image, args, env, ports, mounts, limits...
        assert sorted(ctrs2[name]) == sorted(c), name
        for key, value in c.items():
            assert ctrs2[name][key] == value, (name, key)
    infra = int(pod_info(pyc, "web")["InfraPid"])
    assert alive(infra)
    pyc.ok("kube", "down", str(out))
    assert pyc.ok("ps", "-aq").out == "" and pyc.ok("pod", "ps", "-q").out == ""
    assert not alive(infra)
    assert "kdata" in pyc.ok("volume", "ls", "-q").lines  # it existed before play: kept


PLAY = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {GREETING: hello, MODE: test}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: site}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      initContainers:
      - name: fill
        image: IMAGE
        command: [sh, -c, "echo written-by-init-$(hostname) > /site/index.html"]
        volumeMounts: [{name: content, mountPath: /site}]
      containers:
      - name: httpd
        image: IMAGE
        command: [httpd, -f, -p, "80", -h, /site]
        env:
        - name: GREETING
          valueFrom: {configMapKeyRef: {name: settings, key: GREETING}}
        envFrom: [{configMapRef: {name: settings}, prefix: CFG_}]
        ports: [{containerPort: 80, hostPort: PORT}]
        resources: {limits: {memory: 96Mi}}
        volumeMounts:
        - {name: content, mountPath: /site}
        - {name: conf, mountPath: /etc/settings}
      - name: sidecar
        image: IMAGE
        command: [sleep, "3600"]
      volumes:
      - {name: content, persistentVolumeClaim: {claimName: site}}
      - name: conf
        configMap: {name: settings, items: [{key: MODE, path: mode}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
"""


def test_play_runs_a_multi_document_file_and_down_removes_it(pyc: Pyc, busybox: str,
                                                               tmp_path: Path) -> None:
    port = free_port()
    path = tmp_path / "app.yaml"
    path.write_text(PLAY.replace("IMAGE", busybox).replace("PORT", str(port)))
    res = pyc.ok("kube", "play", str(path))
    assert "limiting replica count to 1" in res.err
    assert "kind Ingress is not supported" in res.err
    assert res.out.startswith("Volumes:\nsite\nPod:\nweb-pod\nContainers:\n")
    # the init container ran to completion first, in the pod (its hostname), writing into
    # the claim's volume
    assert fetch(port) == "written-by-init-web-pod\n"
    assert pyc.ok("inspect", "-f", "{{.State.ExitCode}} {{.State.Status}}",
                  "web-pod-fill").out.strip() == "0 exited"
    env = pyc.ok("exec", "web-pod-httpd", "env").lines
    assert {"GREETING=hello", "CFG_GREETING=hello", "CFG_MODE=test"} <= set(env)
    assert pyc.ok("exec", "web-pod-httpd", "cat", "/etc/settings/mode").out == "test"
    assert pyc.ok("inspect", "-f", "{{.HostConfig.Memory}}",
                  "web-pod-httpd").out.strip() == str(96 << 20)
    # the pod's containers share the network namespace: the sidecar reaches httpd on localhost
    got = pyc.ok("exec", "web-pod-sidecar", "wget", "-qO-", "http://localhost:80/").out
    assert got == "written-by-init-web-pod\n"
    info = pod_info(pyc, "web-pod")  # a real pod: the init container is one of its members
    assert info["State"] == "Running"  # the init container's end is not the pod's
    assert members(info) == ["web-pod-fill", "web-pod-httpd", "web-pod-sidecar"]
    assert info["Labels"] == {"app": "web"}
    infra = int(info["InfraPid"])
    # generate of what play made: the same pod, its init container an initContainer again,
    # the hostPort on the container that declares it
    gen = tmp_path / "gen.yaml"
    pyc.ok("kube", "generate", "-f", str(gen), "web-pod")
    validate_1_30(gen)
    pod, httpd = container0(gen.read_text())
    assert pod["metadata"]["name"] == "web-pod"
    assert httpd["ports"] == [{"containerPort": 80, "hostPort": port, "protocol": "TCP"}]
    assert [c["name"] for c in pod["spec"]["initContainers"]] == ["fill"]
    assert [c["name"] for c in pod["spec"]["containers"]] == ["httpd", "sidecar"]
    assert {"name": "GREETING", "value": "hello"} in httpd["env"]
    assert {"persistentVolumeClaim": {"claimName": "site"}, "name": "site-pvc"} in \
        pod["spec"]["volumes"]
    # pods and containers together (as Podman): a Pod document each, the container's own
    pyc.ok("run", "-d", "--name", "solo", busybox, "sleep", "300")
    mixed = docs_of(pyc.ok("kube", "generate", "web-pod", "solo").out)
    assert [(d["kind"], d["metadata"]["name"]) for d in mixed] == [("Pod", "web-pod"),
                                                                   ("Pod", "solo-pod")]
    assert [c["name"] for c in mixed[1]["spec"]["containers"]] == ["solo"]
    pyc.ok("rm", "-f", "solo")
    res = pyc.fail("kube", "play", str(path), rc=125)  # its pod exists
    assert "use --replace" in res.err
    # --replace makes the pod anew; --publish overrides the file's hostPort for port 80
    other = free_port()
    pyc.ok("kube", "play", "--replace", "--publish", f"127.0.0.1:{other}:80", str(path))
    assert fetch(other) == "written-by-init-web-pod\n"
    infra2 = int(pod_info(pyc, "web-pod")["InfraPid"])
    assert not alive(infra) and alive(infra2)  # the pod made anew
    assert len(pyc.ok("ps", "-aq").lines) == 3
    down = pyc.ok("kube", "down", str(path))
    assert down.out == "Pods removed:\nweb-pod\nVolumes removed:\nsite\n"
    assert pyc.ok("ps", "-aq").out == "" and pyc.ok("pod", "ps", "-q").out == ""
    assert not alive(infra) and not alive(infra2)
    assert "site" not in pyc.ok("volume", "ls", "-q").lines
    # --start=false: created, not started
    pyc.ok("kube", "play", "--start=false", str(path))
    states = pyc.ok("ps", "-a", "--format", "{{.Names}} {{.State}}").lines
    assert sorted(states) == ["web-pod-fill created", "web-pod-httpd created",
                              "web-pod-sidecar created"]
    assert pod_info(pyc, "web-pod")["State"] == "Created"
    # pod start runs the init containers first, then the others
    pyc.ok("pod", "start", "web-pod")
    assert fetch(port) == "written-by-init-web-pod\n"
    assert pyc.ok("inspect", "-f", "{{.State.Status}}", "web-pod-fill").out.strip() == "exited"
    assert pyc.ok("play", "kube", "--down", str(path)).out.startswith("Pods removed:\nweb-pod\n")
    assert pyc.ok("ps", "-aq").out == "" and pyc.ok("pod", "ps", "-q").out == ""


def test_bad_files_fail_by_name(pyc: Pyc, registry: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: Pod\nmetadata: {name: x\n")
    res = pyc.fail("kube", "play", str(bad))
    assert "invalid YAML" in res.err and "Traceback" not in res.err
    bad.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
                   "  - {name: c, image: busybox, lifecycle: {preStop: {exec: {command: "
                   "[x]}}}}\n")
    res = pyc.fail("kube", "play", str(bad))
    assert res.err.strip() == ("Error: document 1 (Pod p): spec.containers[0].lifecycle: "
                               "is not supported by pyc")
    bad.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
                   "  - name: c\n    image: busybox\n    env: [{name: A, valueFrom: "
                   "{secretKeyRef: {name: nope, key: k}}}]\n")
    res = pyc.fail("kube", "play", str(bad))
    assert "Secret nope not found" in res.err
    # what can fail before anything is made does: a missing image, a hostPath type
    bad.write_text("apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: early}\n---\n"
                   "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
                   f"  - {{name: c, image: '{registry}/fixtures/nosuch:latest'}}\n")
    pyc.fail("kube", "play", str(bad))
    bad.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
                   f"  - {{name: c, image: '{registry}/fixtures/busybox:latest', volumeMounts: "
                   "[{name: h, mountPath: /h}]}\n  volumes: [{name: h, hostPath: "
                   f"{{path: '{tmp_path}/absent', type: Directory}}}}]\n")
    res = pyc.fail("kube", "play", str(bad))
    assert "not a directory (type Directory)" in res.err
    assert pyc.ok("ps", "-aq").out == "" and pyc.ok("volume", "ls", "-q").out == ""
    only = tmp_path / "only.yaml"
    only.write_text("apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\n")
    res = pyc.ok("kube", "play", str(only))
    assert "kind Job is not supported by pyc" in res.err and res.out == ""
    assert pyc.ok("ps", "-aq").out == ""
    pyc.fail("kube", "generate", "--replicas", "2", "nosuch")
