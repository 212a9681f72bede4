"""What `kube play` publishes on a pod (ops.kube_play._publish): the hostPorts, --publish
replacing the file's hostPort of the same container port, and Podman's publish-all."""

from __future__ import annotations

from pycontainer.kube import model
from pycontainer.ops import kube_play


def pod(annotations: dict[str, str] | None = None) -> model.Pod:
    web = model.Container("web", "busybox", ports=[model.Port(80, 8080, "TCP", "127.0.0.1"),
                                                  model.Port(443)])
    dns = model.Container("dns", "busybox", ports=[model.Port(53, 5353, "UDP")])
    return model.Pod("p", [web, dns], annotations=annotations or {})


def test_host_ports_are_published_on_the_pod() -> None:
    opts = kube_play.PlayOptions()
    assert kube_play._publish(pod(), opts) == ["127.0.0.1:8080:80/tcp", "5353:53/udp"]


def test_publish_replaces_the_files_host_port() -> None:
    opts = kube_play.PlayOptions(publish=["9090:80"])
    assert kube_play._publish(pod(), opts) == ["5353:53/udp", "9090:80"]


def test_publish_all_adds_the_declared_ports_on_free_host_ports() -> None:
    p = pod({"io.podman.annotations.publish-all/web": "TRUE"})
    assert kube_play._publish(p, kube_play.PlayOptions()) == [
        "127.0.0.1:8080:80/tcp", "443/tcp", "5353:53/udp"]


def test_declared_ports_are_recorded_for_generate() -> None:
    assert kube_play._ports_label(pod().containers[0]) == {model.PORTS_LABEL: "80/TCP,443/TCP"}
    assert kube_play._ports_label(model.Container("x", "busybox")) == {}
