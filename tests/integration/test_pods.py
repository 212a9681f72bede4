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


def holders_of_netns(ino: int) -> list[int]:
    """This user's processes still in the network namespace `ino` (slirp4netns would be)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}/ns/net").st_ino == ino:
                    out.append(int(entry))
            except OSError:
                continue
    return out


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

    netns = os.stat(f"/proc/{infra}/ns/net").st_ino
    pyc.ok("pod", "stop", "-t", "1", "web")
    assert not alive(infra) and not alive(srv)
    assert holders_of_netns(netns) == []
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
    assert [n for n in os.listdir(pyc.root / "pods" / "names") if n != ".lock"] == []


def test_infra_killed_is_degraded_and_pod_start_recovers(pyc: Pyc, busybox: str) -> None:
    pyc.ok("pod", "create", "--name", "deg")
    pyc.ok("run", "-d", "--name", "d1", "--pod", "deg", busybox, "sleep", "300")
    pyc.ok("create", "--name", "d2", "--pod", "deg", busybox, "sleep", "300")
    infra, d1 = infra_pid(pyc, "deg"), container_pid(pyc, "d1")
    os.kill(infra, 9)
    deadline = time.monotonic() + 5
    while alive(infra) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert status(pyc, "deg") == "Degraded"
    # one container may not split the pod by starting a new infra beside d1's dead one
    res = pyc("start", "d2")
    assert res.rc == 1 and "pod start deg" in res.err  # Docker's start: exit 1
    assert pyc.ok("inspect", "-f", "{{.State.Status}}", "d2").out.strip() == "created"
    pyc.ok("pod", "start", "deg")
    d2 = container_pid(pyc, "d2")
    assert status(pyc, "deg") == "Running"
    infra2, d1b = infra_pid(pyc, "deg"), container_pid(pyc, "d1")
    assert infra2 != infra and d1b != d1 and alive(infra2) and not alive(d1)
    for ns in ("user", "net", "ipc", "uts"):
        assert os.readlink(f"/proc/{infra2}/ns/{ns}") == os.readlink(f"/proc/{d1b}/ns/{ns}")
        assert os.readlink(f"/proc/{infra2}/ns/{ns}") == os.readlink(f"/proc/{d2}/ns/{ns}")
    # the recovered pod still reaches the outside through its new slirp4netns
    pyc.ok("exec", "d1", "sh", "-c", "ip addr show tap0 | grep -q 10.0.2.100")
    pyc.ok("pod", "rm", "-f", "deg")
    assert not alive(infra2) and not alive(d1b)


def test_pod_new_ps_pod_and_filters(pyc: Pyc, busybox: str) -> None:
    port = free_port()
    cid = pyc.ok("run", "-d", "--name", "n1", "--pod", "new:x", "-p", f"{port}:80", busybox,
                 "sh", "-c", HTTPD).out.strip()
    assert pyc("pod", "exists", "x").rc == 0
    pod_id = str(inspect(pyc, "x")["Id"])
    assert wait_http(f"http://127.0.0.1:{port}/") == "hello-pod\n"
    assert pyc.ok("inspect", "-f", "{{.Pod}}", "n1").out.strip() == pod_id
    infra_id = inspect(pyc, "x")["InfraContainerID"]
    assert pyc.ok("inspect", "-f", "{{.HostConfig.NetworkMode}}", "n1").out.strip() == \
        f"container:{infra_id}"
    pyc.ok("run", "-d", "--name", "solo", busybox, "sleep", "300")
    lines = pyc.ok("ps", "--pod").out.splitlines()
    assert lines[0].split()[-3:] == ["POD", "ID", "PODNAME"]
    row = next(ln for ln in lines if ln.startswith(cid[:12]))
    assert row.split()[-2:] == [pod_id[:12], "x"]
    solo = next(ln for ln in lines if "solo" in ln)
    assert solo.split()[-1] == "solo"  # no pod columns filled
    assert pyc.ok("ps", "-q", "--filter", "pod=x").out.split() == [cid[:12]]
    assert pyc.ok("ps", "-q", "--filter", f"pod={pod_id[:8]}").out.split() == [cid[:12]]
    assert pyc.ok("pod", "ps", "-q", "--filter", "label=nope").out == ""
    assert pyc.ok("pod", "ps", "-q", "--no-trunc", "--filter", "status=running").out.split() \
        == [pod_id]
    assert pyc.ok("pod", "ps", "--format", "{{.Name}} {{.NumberOfContainers}}").out == "x 2\n"
    pyc.ok("pod", "rm", "-f", "x")
    assert pyc("inspect", "n1").rc != 0
    assert pyc.ok("ps", "-q").out.split() == [pyc.ok("inspect", "-f", "{{.Id}}", "solo")
                                             .out.strip()[:12]]


def test_pod_refuses_what_it_shares(pyc: Pyc, busybox: str) -> None:
    pyc.ok("pod", "create", "--name", "strict", "--label", "a=b")
    res = pyc.fail("run", "--pod", "strict", "-p", "8080:80", busybox, "true")
    assert "published or exposed ports must be defined when the pod is created" in res.err
    res = pyc.fail("create", "--pod", "strict", "--network", "none", busybox, "true")
    assert "networks must be defined when the pod is created" in res.err
    res = pyc.fail("run", "--pod", "strict", "--hostname", "h", busybox, "true")
    assert "cannot set hostname when joining the pod UTS namespace" in res.err
    res = pyc.fail("run", "--pod", "nosuchpod", busybox, "true")
    assert "no such pod" in res.err
    res = pyc.fail("pod", "create", "--name", "strict")
    assert "already in use" in res.err
    res = pyc.fail("pod", "create", "--share", "pid")
    assert "pid" in res.err
    res = pyc.fail("pod", "create", "--no-infra", "-p", "8080:80")
    assert "infra" in res.err
    res = pyc.fail("pod", "create", "--userns", "auto")
    assert "--userns=auto" in res.err
    assert pyc.ok("ps", "-aq").out == ""
    assert pyc.ok("pod", "ps", "-q", "--filter", "label=a=b").out.strip() == \
        str(inspect(pyc, "strict")["Id"])[:12]


def test_pod_verbs_logs_top_kill(pyc: Pyc, busybox: str) -> None:
    pyc.ok("pod", "create", "--name", "v", "--share", "none")
    assert inspect(pyc, "v")["SharedNamespaces"] == []
    a = pyc.ok("run", "-d", "--name", "va", "--pod", "v", busybox, "sh", "-c",
               "echo from-a; exec sleep 300").out.strip()
    pyc.ok("run", "-d", "--name", "vb", "--pod", "v", busybox, "sh", "-c",
           "echo from-b; exec sleep 300")
    infra = infra_pid(pyc, "v")
    va = container_pid(pyc, "va")
    # --share none: still one user namespace, but a network namespace of its own
    assert os.readlink(f"/proc/{infra}/ns/user") == os.readlink(f"/proc/{va}/ns/user")
    assert os.readlink(f"/proc/{infra}/ns/net") != os.readlink(f"/proc/{va}/ns/net")
    deadline = time.monotonic() + 5
    while "from-b" not in pyc.ok("pod", "logs", "v").out and time.monotonic() < deadline:
        time.sleep(0.1)
    logs = pyc.ok("pod", "logs", "v").out.splitlines()
    assert f"{a[:12]} from-a" in logs and len(logs) == 2
    assert pyc.ok("pod", "logs", "-c", "vb", "--names", "v").out == "vb from-b\n"
    top = pyc.ok("pod", "top", "v").out.splitlines()
    assert "PID" in top[0] and sum("sleep 300" in ln for ln in top) == 2
    pyc.ok("pod", "pause", "v")
    assert status(pyc, "v") == "Paused"
    pyc.ok("pod", "unpause", "v")
    assert status(pyc, "v") == "Running"
    pyc.ok("pod", "kill", "v")
    deadline = time.monotonic() + 10  # kill does not wait for the exits (as docker kill)
    while status(pyc, "v") != "Exited" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert status(pyc, "v") == "Exited"
    assert not alive(infra) and not alive(va)
    pyc.fail("pod", "rm", "nosuch")
    pyc.ok("pod", "rm", "-i", "nosuch")
    pod_id = str(inspect(pyc, "v")["Id"])
    pyc.ok("pod", "create", "--name", "busy")
    pyc.ok("run", "-d", "--pod", "busy", busybox, "sleep", "300")
    assert pyc.ok("pod", "prune", "-f").out.split() == [pod_id]
    pyc.ok("pod", "rm", "-f", "busy")
    assert pyc.ok("pod", "ps", "-q").out == ""
    assert pyc.ok("ps", "-aq").out == ""


def test_twenty_pods_created_and_removed_concurrently(pyc: Pyc) -> None:
    names = [f"cc{i}" for i in range(20)]
    with ThreadPoolExecutor(8) as ex:
        created = list(ex.map(lambda n: pyc("pod", "create", "--name", n), names))
    assert all(r.rc == 0 for r in created), [r.err for r in created if r.rc]
    ids = {r.out.strip() for r in created}
    assert len(ids) == 20
    listed = pyc.ok("pod", "ps", "-q", "--no-trunc").out.split()
    assert sorted(listed) == sorted(ids)
    with ThreadPoolExecutor(8) as ex:
        again = list(ex.map(lambda n: pyc("pod", "create", "--name", n), names[:8]))
    assert all(r.rc == 125 and "already in use" in r.err for r in again)
    with ThreadPoolExecutor(8) as ex:  # one name wanted by 8 creates at once: one wins
        same = list(ex.map(lambda _: pyc("pod", "create", "--name", "same"), range(8)))
    assert sorted(r.rc for r in same) == [0] + [125] * 7
    names.append("same")
    # start half of them (infra up), then remove all, in parallel
    with ThreadPoolExecutor(8) as ex:
        list(ex.map(lambda n: pyc.ok("pod", "start", n), names[:10]))
    pids = [infra_pid(pyc, n) for n in names[:10]]
    assert len(set(pids)) == 10
    assert all(alive(p) for p in pids)
    with ThreadPoolExecutor(8) as ex:
        removed = list(ex.map(lambda n: pyc("pod", "rm", "-f", n), names))
    assert all(r.rc == 0 for r in removed), [r.err for r in removed if r.rc]
    assert pyc.ok("pod", "ps", "-q").out == ""
    assert not any(alive(p) for p in pids)
    left = sorted(e.name for e in os.scandir(pyc.root / "pods"))
    assert left == ["names"]
    assert [n for n in os.listdir(pyc.root / "pods" / "names") if n != ".lock"] == []


def test_keep_id_and_no_infra_pods(pyc: Pyc, busybox: str) -> None:
    pyc.ok("pod", "create", "--name", "kid", "--userns", "keep-id")
    out = pyc.ok("run", "--rm", "--pod", "kid", busybox, "id", "-u").out.strip()
    assert out == str(os.getuid())
    infra = infra_pid(pyc, "kid")
    with open(f"/proc/{infra}/uid_map") as f:
        assert f"{os.getuid()}" in f.read().split()
    res = pyc.fail("run", "--rm", "--pod", "kid", "--userns", "host", busybox, "true")
    assert "--userns" in res.err
    pyc.ok("pod", "create", "--name", "bare", "--no-infra")
    assert inspect(pyc, "bare")["CreateInfra"] is False
    pyc.ok("run", "-d", "--name", "b1", "--pod", "bare", "-p", f"{free_port()}:80", busybox,
           "sleep", "300")
    assert status(pyc, "bare") == "Running"
    b1 = container_pid(pyc, "b1")
    assert os.readlink(f"/proc/{b1}/ns/net") != os.readlink("/proc/self/ns/net")
    assert pyc.ok("pod", "ps", "--filter", "name=bare", "--format", "{{.InfraID}}|"
                  "{{.NumberOfContainers}}").out == "|1\n"
    pyc.ok("pod", "stop", "bare")
    assert not alive(b1) and status(pyc, "bare") == "Exited"
    pyc.ok("pod", "rm", "-a")
    assert pyc.ok("pod", "ps", "-q").out == "" and pyc.ok("ps", "-aq").out == ""


def test_pod_logs_follow_restart_and_rm_refusal(pyc: Pyc, busybox: str) -> None:
    pyc.ok("pod", "create", "--name", "lf")
    pyc.ok("run", "-d", "--name", "l1", "--pod", "lf", busybox, "sleep", "300")
    res = pyc.fail("pod", "rm", "lf")
    assert "running" in res.err and pyc("pod", "exists", "lf").rc == 0
    infra = infra_pid(pyc, "lf")
    pyc.ok("pod", "restart", "-t", "0", "lf")
    assert not alive(infra) and alive(infra_pid(pyc, "lf"))
    assert status(pyc, "lf") == "Running"
    pyc.ok("rm", "-f", "l1")
    pyc.ok("run", "-d", "--name", "l2", "--pod", "lf", busybox, "sh", "-c",
           "echo one; sleep 1; echo two")
    pyc.ok("run", "-d", "--name", "l3", "--pod", "lf", busybox, "sh", "-c",
           "echo three; sleep 1")
    started = time.monotonic()
    followed = pyc.ok("pod", "logs", "-f", "--names", "lf", timeout=30)
    assert time.monotonic() - started < 20  # it ended with the containers
    assert sorted(followed.out.splitlines()) == ["l2 one", "l2 two", "l3 three"]
    assert pyc.ok("pod", "logs", "--tail", "1", "-c", "l2", "lf").out.endswith(" two\n")
    pyc.ok("pod", "rm", "lf")  # nothing runs but the infra: no -f needed
    assert pyc.ok("ps", "-aq").out == ""
