"""The model -> Kubernetes documents (pycontainer.kube.generate), checked against Kubernetes
1.30's schema with kubernetes-validate, and read back by kube.play into the same model."""

from __future__ import annotations

import kubernetes_validate
import yaml

from pycontainer.kube import generate, model, play


def sample() -> model.Pod:
    c = model.Container(
        name="web", image="busybox", command=["httpd"], args=["-f", "-p", "80"],
        env=[model.EnvVar("A", "1")], working_dir="/www",
        ports=[model.Port(80, 8080, "TCP", "127.0.0.1"), model.Port(53, 0, "UDP")],
        mounts=[model.Mount("data-pvc", "/data"), model.Mount("srv-host", "/srv", True),
                model.Mount("tmp-tmpfs", "/tmp")],
        memory=64 << 20, cpus=1.5,
        security=model.Security(1000, 1000, ["NET_ADMIN"], ["MKNOD"], True, False, True),
        probe=model.Probe(["true"], 30, 30, 3, 5))
    return model.Pod(name="web-pod", containers=[c], restart_policy="Always",
                     volumes=[model.Volume("data-pvc", "pvc", "data"),
                              model.Volume("srv-host", "hostPath", "/srv", host_type="Directory"),
                              model.Volume("tmp-tmpfs", "emptyDir", medium="Memory")],
                     labels={"tier": "web"}, annotations={"io.podman.annotations.init/web": "TRUE"})


def test_pod_and_service_validate_for_1_30() -> None:
    opts = generate.Options(service=True, created="2026-01-01T00:00:00Z")
    docs = generate.documents(sample(), opts)
    for doc in docs:
        kubernetes_validate.validate(doc, "1.30.0", strict=True)
    pod, svc = docs
    spec = pod["spec"]
    assert isinstance(spec, dict)
    ctr = spec["containers"][0]
    assert ctr["resources"] == {"limits": {"memory": "64Mi", "cpu": "1500m"}}
    assert ctr["securityContext"] == {"runAsUser": 1000, "runAsGroup": 1000,
                                      "capabilities": {"add": ["NET_ADMIN"], "drop": ["MKNOD"]},
                                      "readOnlyRootFilesystem": True,
                                      "allowPrivilegeEscalation": False}
    assert ctr["livenessProbe"] == {"exec": {"command": ["true"]}, "periodSeconds": 30,
                                    "timeoutSeconds": 30, "failureThreshold": 3,
                                    "initialDelaySeconds": 5}
    svc_spec = svc["spec"]
    assert isinstance(svc_spec, dict)
    assert [(p["port"], p["targetPort"], p["protocol"]) for p in svc_spec["ports"]] == \
        [(8080, 80, "TCP")]  # only the published port
    assert 30000 <= svc_spec["ports"][0]["nodePort"] <= 32767
    assert svc_spec["selector"] == {"app": "web-pod"}


def test_deployment_validates_and_has_the_replicas() -> None:
    pod = sample()
    pod.restart_policy = "Never"
    doc = generate.deployment(pod, generate.Options(kind="deployment", replicas=3))
    kubernetes_validate.validate(doc, "1.30.0", strict=True)
    spec = doc["spec"]
    assert isinstance(spec, dict)
    assert spec["replicas"] == 3 and spec["selector"] == {"matchLabels": {"app": "web-pod"}}
    assert spec["template"]["spec"]["restartPolicy"] == "Always"
    assert doc["metadata"] == {"name": "web-pod-deployment",
                               "labels": {"app": "web-pod", "tier": "web"},
                               "annotations": {"io.podman.annotations.init/web": "TRUE"}}


def test_the_header_and_what_play_reads_back() -> None:
    pod = sample()
    text = generate.to_yaml(generate.documents(pod, generate.Options()), "9.9")
    assert text.startswith("# Save the output of this file and use kubectl create -f to import\n"
                           "# it into Kubernetes.\n#\n# Created with pyc-9.9\n")
    back = play.plan(play.load_documents(text, "x")).pods[0]
    assert back.containers == pod.containers
    assert back.volumes == pod.volumes
    assert (back.name, back.restart_policy) == (pod.name, pod.restart_policy)
    assert not back.host_network


def test_host_network_and_hostname_round_trip() -> None:
    pod = sample()
    pod.host_network, pod.hostname = True, "box"
    doc = generate.pod_doc(pod, generate.Options())
    spec = doc["spec"]
    assert isinstance(spec, dict)
    assert (spec["hostNetwork"], spec["hostname"]) == (True, "box")
    kubernetes_validate.validate(doc, "1.30.0", strict=True)
    back = play.plan([doc]).pods[0]
    assert (back.host_network, back.hostname) == (True, "box")


def test_configmap_volumes_and_quantities() -> None:
    v = model.Volume("conf", "configMap", "cm", files=[model.KeyFile("a", b"x")],
                     default_mode=0o400)
    assert generate.volume(v) == {"name": "conf", "configMap": {
        "name": "cm", "defaultMode": 0o400, "items": [{"key": "a", "path": "a"}]}}
    assert generate.memory_quantity(1000) == "1000"
    assert generate.memory_quantity(3 << 30) == "3Gi"
    assert generate.cpu_quantity(2.0) == "2"
    assert yaml.safe_load(generate.to_yaml([{"a": "1"}], "0")) == {"a": "1"}
