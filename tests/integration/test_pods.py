"""Pods (issue 15): `pyc pod ...` and `run --pod`, as the unprivileged user, with the real
infra (catatonit -P), slirp4netns and the local busybox fixture."""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from helpers.runner import Pyc

HTTPD = "mkdir -p /www && echo hello-pod > /www/index.html && exec httpd -f -p 80 -h /www"


@pytest.fixture
def busybox(pyc: Pyc, fixture_refs: dict[str, str]) -> str:
    pyc.ok("pull", "-q", fixture_refs["busybox"])
    return fixture_refs["busybox"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def inspect(pyc: Pyc, pod: str) -> dict[str, object]:
    out = json.loads(pyc.ok("pod", "inspect", pod).out)
    assert isinstance(out, list) and len(out) == 1
    return dict(out[0])


def infra_pid(pyc: Pyc, pod: str) -> int:
    return int(str(inspect(pyc, pod)["InfraPid"]))


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def container_pid(pyc: Pyc, name: str) -> int:
    return int(pyc.ok("inspect", "-f", "{{.State.Pid}}", name).out)


def wait_http(url: str, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return str(r.read().decode())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def mounts_mentioning(pyc: Pyc) -> list[str]:
    with open("/proc/self/mountinfo") as f:
        return [ln for ln in f if str(pyc.root) in ln or str(pyc.runroot) in ln]


def status(pyc: Pyc, pod: str) -> str:
    return pyc.ok("pod", "ps", "--filter", f"name=^{pod}$", "--format", "{{.Status}}").out.strip()


def test_pod_shares_localhost_and_publishes(pyc: Pyc, busybox: str) -> None:
    port = free_port()
    pod_id = pyc.ok("pod", "create", "--name", "web", "-p", f"{port}:80").out.strip()
    assert len(pod_id) == 64
    assert status(pyc, "web") == "Created"
    pyc.ok("run", "-d", "--name", "srv", "--pod", "web", busybox, "sh", "-c", HTTPD)
    got = pyc.ok("run", "--rm", "--pod", "web", busybox, "sh", "-c",
                 "for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://localhost:80/ && exit 0;"
                 " sleep 0.3; done; exit 1")
    assert got.out == "hello-pod\n"
    assert wait_http(f"http://127.0.0.1:{port}/") == "hello-pod\n"
    # one user, net, ipc and uts namespace for the pod: the infra's
    infra = infra_pid(pyc, "web")
    srv = container_pid(pyc, "srv")
    for ns in ("user", "net", "ipc", "uts"):
        assert os.readlink(f"/proc/{infra}/ns/{ns}") == os.readlink(f"/proc/{srv}/ns/{ns}"), ns
    assert os.readlink(f"/proc/{infra}/ns/net") != os.readlink("/proc/self/ns/net")
    assert pyc.ok("exec", "srv", "hostname").out.strip() == "web"
    assert status(pyc, "web") == "Running"
    ps = pyc.ok("pod", "ps").out.splitlines()
    assert ps[0].split() == ["POD", "ID", "NAME", "STATUS", "CREATED", "INFRA", "ID", "#", "OF",
                             "CONTAINERS"]
    row = ps[1].split()
    assert row[0] == pod_id[:12] and row[1] == "web" and row[2] == "Running" and row[-1] == "2"
    data = inspect(pyc, "web")
    assert data["Id"] == pod_id and data["State"] == "Running"
    assert data["SharedNamespaces"] == ["net", "ipc", "uts"]
    assert data["InfraConfig"]["PortBindings"] == {  # type: ignore[index]
        "80/tcp": [{"HostIp": "", "HostPort": str(port)}]}
    names = [c["Name"] for c in data["Containers"]]  # type: ignore[attr-defined]
    assert "srv" in names and len(names) == 2

    pyc.ok("pod", "stop", "-t", "1", "web")
    assert not alive(infra) and not alive(srv)
    assert status(pyc, "web") == "Exited"
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
    pyc.ok("pod", "start", "web")
    assert wait_http(f"http://127.0.0.1:{port}/") == "hello-pod\n"
    infra2, srv2 = infra_pid(pyc, "web"), container_pid(pyc, "srv")
    pyc.ok("pod", "rm", "-f", "web")
    assert not alive(infra2) and not alive(srv2)
    assert pyc("pod", "exists", "web").rc == 1
    assert pyc.ok("ps", "-aq").out == ""
    assert mounts_mentioning(pyc) == []
    assert not any(os.scandir(pyc.root / "pods")) or \
        [e.name for e in os.scandir(pyc.root / "pods")] == ["names"]
    assert os.listdir(pyc.root / "pods" / "names") == []
