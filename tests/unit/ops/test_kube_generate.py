"""The record -> model half of `pyc kube generate` that needs no engine: Podman's
command/args split, env against the image's, names, and the pod's volumes."""

from __future__ import annotations

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
    pod = kg.pod_of(kg.PodFacts("p", restart_policy="Always"), [(a, [vol]), (b, [vol])])
    assert pod.volumes == [vol]
    assert [c.name for c in pod.containers] == ["a", "b"]
    assert pod.restart_policy == "Always"
