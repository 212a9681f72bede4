"""The record -> model half of `pyc kube generate` that needs no engine: Podman's
command/args split, env against the image's, names, and the pod's volumes."""

from __future__ import annotations

from pathlib import Path

from pycontainer.containers.model import Container
from pycontainer.kube import model
from pycontainer.ops import kube_generate as kg


def test_command_args_split() -> None:
    img: dict[str, object] = {"Entrypoint": ["/entry"], "Cmd": ["serve"]}
    assert kg._command_args(None, [], img) == ([], [])  # the image's own
    assert kg._command_args(None, ["serve"], img) == ([], [])  # the same as the image's
    assert kg._command_args(None, ["other"], img) == ([], ["other"])
    assert kg._command_args(["/bin/sh"], ["-c", "x"], img) == (["/bin/sh"], ["-c", "x"])
    assert kg._command_args([], ["ls"], img) == (["ls"], [])  # --entrypoint ""


def test_env_leaves_out_what_the_image_sets() -> None:
    env = kg._env(["PATH=/bin", "A=1", "HOME=/x"], ["PATH=/bin", "HOME=/root"])
    assert env == [model.EnvVar("A", "1"), model.EnvVar("HOME", "/x")]


def test_names_are_dns_labels() -> None:
    assert kg.k8s_name("My_App.1") == "my-app-1"
    assert kg.k8s_name("/data/x/") == "data-x"
    assert len(kg.k8s_name("a" * 80)) == 63


def test_pod_of_lists_each_volume_once() -> None:
    vol = model.Volume("data-pvc", "pvc", "data")
    a = model.Container("a", "img", mounts=[model.Mount("data-pvc", "/d")])
    b = model.Container("b", "img", mounts=[model.Mount("data-pvc", "/e")])
    facts = kg.PodFacts("p", restart_policy="Always", ports=[model.Port(80, 8080)])
    pod = kg.pod_of(facts, [(a, [vol]), (b, [vol])])
    assert pod.volumes == [vol]
    assert (a.ports, b.ports) == ([model.Port(80, 8080)], [])  # the pod's, on its first
    assert [c.name for c in pod.containers] == ["a", "b"]
    assert pod.restart_policy == "Always"


def record(tmp_path: Path, **spec: object) -> Container:
    from pycontainer.containers.model import ContainerConfig, ContainerState
    from pycontainer.containers.netrecord import NetworkPlan
    from pycontainer.oci.convert import ContainerSpec

    cfg = ContainerConfig(
        id="a" * 64, name="my_web", created="", image="busybox", image_id="sha256:x",
        spec=ContainerSpec(image="busybox", **spec),  # type: ignore[arg-type]
        rootfs=None, image_config={"Env": ["PATH=/bin"], "Cmd": ["sh"]},
        network=NetworkPlan(values=[], kind="slirp4netns", publish=["127.0.0.1:8080:80/udp",
                                                                   "9090:90"]))
    return Container(cfg, ContainerState())


def test_a_record_as_kubernetes_has_it(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (tmp_path / "f").write_text("x")
    c = record(tmp_path, command=["httpd"], env=["PATH=/bin", "A=1"], user="1000:100",
               mounts=[{"destination": "/data", "type": "bind", "source": "/v/_data",
                        "options": ["rbind"], "volume": "data", "anonymous": False},
                       {"destination": "/anon", "type": "bind", "source": "/v2/_data",
                        "options": ["rbind"], "volume": "f00", "anonymous": True},
                       {"destination": "/site", "type": "bind", "source": str(site),
                        "options": ["rbind", "ro"]},
                       {"destination": "/f", "type": "bind", "source": str(tmp_path / "f"),
                        "options": ["rbind"]},
                       {"destination": "/run/t", "type": "tmpfs", "source": "tmpfs",
                        "options": []}],
               tmpfs={"/scratch": ""}, limits={"memory": 64 << 20, "cpu_quota": 50000,
                                               "cpu_period": 100000},
               healthcheck={"Test": ["CMD-SHELL", "true"], "Interval": 5 * kg.SECOND},
               ulimits=["nofile=10:10"])
    warnings: list[str] = []
    ctr, vols = kg.container_of(None, c, "web", warnings)  # type: ignore[arg-type]
    assert (ctr.name, ctr.command, ctr.args) == ("web", [], ["httpd"])
    assert ctr.env == [model.EnvVar("A", "1")]
    assert ctr.ports == [model.Port(80, 8080, "UDP", "127.0.0.1"), model.Port(90, 9090, "TCP")]
    assert (ctr.memory, ctr.cpus) == (64 << 20, 0.5)
    assert (ctr.security.run_as_user, ctr.security.run_as_group) == (1000, 100)
    assert ctr.probe == model.Probe(["/bin/sh", "-c", "true"], 5, 30, 3, 0)
    assert [(v.kind, v.source, v.host_type, v.medium) for v in vols] == [
        ("pvc", "data", "", ""), ("emptyDir", "", "", ""),
        ("hostPath", str(site), "Directory", ""), ("hostPath", str(tmp_path / "f"), "File", ""),
        ("emptyDir", "", "", "Memory"), ("emptyDir", "", "", "Memory")]
    assert [(m.path, m.read_only) for m in ctr.mounts] == [
        ("/data", False), ("/anon", False), ("/site", True), ("/f", False), ("/run/t", False),
        ("/scratch", False)]
    assert warnings == ["container my_web: ulimits not represented in the Kubernetes YAML"]
    facts = kg.facts_of([c])
    assert (facts.name, facts.restart_policy) == ("my-web-pod", "Never")
