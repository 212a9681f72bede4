"""`POST /containers/create` and `/wait` through the API: Docker's body reaches the same
CreateOptions as `pyc create`'s flags, inspect echoes what was sent, bad or unsupported
values are 400s naming them, a taken name a 409, a missing image Docker's 404; wait answers
its headers at once and the exit code survives AutoRemove."""

from __future__ import annotations

import http.client
import json
import socket
import time

import docker
import pytest

from .conftest import Service


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=30)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(self.path)


def call(api: Service, method: str, path: str, body: object = None) -> tuple[int, object]:
    conn = UnixHTTP(str(api.sock))
    data = None if body is None else json.dumps(body)
    conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
    res = conn.getresponse()
    raw = res.read()
    conn.close()
    return res.status, json.loads(raw) if raw.strip() else None


@pytest.fixture
def bb(api: Service, fixture_refs: dict[str, str]) -> str:
    ref = fixture_refs["busybox"]
    api.pyc.ok("pull", "-q", ref)
    return ref


def test_create_body_is_echoed_by_inspect(api: Service, bb: str) -> None:
    status, out = call(api, "POST", "/v1.41/containers/create?name=made", {
        "Image": bb, "Cmd": ["sleep", "30"], "Env": ["A=1"], "WorkingDir": "/tmp",
        "User": "1000", "Hostname": "hoster", "Labels": {"k": "v"}, "Tty": True,
        "OpenStdin": True, "StopSignal": "SIGUSR1", "StopTimeout": 3,
        "ExposedPorts": {"80/tcp": {}},
        "Healthcheck": {"Test": ["CMD-SHELL", "true"], "Interval": 2_000_000_000,
                        "Retries": 4},
        "HostConfig": {"Binds": [], "PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1",
                                                                 "HostPort": ""}]},
                       "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 2},
                       "CapAdd": ["NET_ADMIN"], "CapDrop": ["MKNOD"], "ReadonlyRootfs": True,
                       "Tmpfs": {"/scratch": "size=1m"}, "ShmSize": 8 << 20,
                       "Ulimits": [{"Name": "nofile", "Soft": 100, "Hard": 200}],
                       "Dns": ["9.9.9.9"], "ExtraHosts": ["db:10.0.0.9"], "Init": False,
                       "LogConfig": {"Type": "k8s-file", "Config": {}},
                       "Annotations": {"a": "b"}, "MemorySwappiness": -1},
    })
    assert status == 201, out
    assert isinstance(out, dict) and out["Warnings"] == []
    info = docker.DockerClient(base_url=api.url).api.inspect_container("made")
    cfg, host = info["Config"], info["HostConfig"]
    assert info["Id"] == out["Id"] and info["Name"] == "/made"
    assert cfg["Cmd"] == ["sleep", "30"] and "A=1" in cfg["Env"]
    assert (cfg["WorkingDir"], cfg["User"], cfg["Hostname"]) == ("/tmp", "1000", "hoster")
    assert cfg["Labels"]["k"] == "v" and cfg["Tty"] is True and cfg["OpenStdin"] is True
    assert (cfg["StopSignal"], cfg["StopTimeout"]) == ("SIGUSR1", 3)
    assert cfg["Healthcheck"]["Interval"] == 2_000_000_000 and cfg["Healthcheck"]["Retries"] == 4
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    assert host["CapAdd"] == ["NET_ADMIN"] and host["CapDrop"] == ["MKNOD"]
    assert host["ReadonlyRootfs"] is True and host["Tmpfs"] == {"/scratch": "size=1m"}
    assert host["ShmSize"] == 8 << 20 and host["Dns"] == ["9.9.9.9"]
    assert host["Ulimits"] == [{"Name": "nofile", "Soft": 100, "Hard": 200}]
    # the API says json-file for k8s-file (docker-py's run() wants it); pyc's own inspect not
    assert host["ExtraHosts"] == ["db:10.0.0.9"] and host["LogConfig"]["Type"] == "json-file"
    assert api.pyc.ok("inspect", "-f", "{{.HostConfig.LogConfig.Type}}",
                      info["Id"]).out.strip() == "k8s-file"
    assert host["PortBindings"]["80/tcp"][0]["HostIp"] == "127.0.0.1"
    assert host["Annotations"] == {"a": "b"}
    assert "made" in api.pyc.ok("ps", "-a", "--format", "{{.Names}}").out.split()


@pytest.mark.parametrize(("host", "word"), [
    ({"OomKillDisable": True}, "OomKillDisable"),
    ({"BlkioWeight": 300}, "BlkioWeight"),
    ({"LogConfig": {"Type": "syslog"}}, "syslog"),
    ({"IpcMode": "bogus"}, "bogus"),
    ({"Mounts": [{"Type": "bind", "Source": "/tmp", "Target": "/x",
                  "BindOptions": {"NonRecursive": True}}]}, "NonRecursive"),
])
def test_unsupported_or_bad_values_are_400s_naming_them(api: Service, bb: str,
                                                        host: dict[str, object],
                                                        word: str) -> None:
    status, out = call(api, "POST", "/containers/create",
                       {"Image": bb, "Cmd": ["true"], "HostConfig": host})
    assert status == 400, out
    assert isinstance(out, dict) and word in out["message"]
    assert api.pyc.ok("ps", "-aq").out.strip() == ""


def test_missing_image_taken_name_and_empty_body(api: Service, bb: str) -> None:
    status, out = call(api, "POST", "/containers/create", {"Image": "nosuch:1"})
    assert status == 404 and isinstance(out, dict)
    assert out["message"].startswith("No such image: nosuch")
    assert call(api, "POST", "/containers/create?name=one", {"Image": bb})[0] == 201
    status, out = call(api, "POST", "/containers/create?name=one", {"Image": bb})
    assert status == 409 and isinstance(out, dict) and "one" in out["message"]
    assert call(api, "POST", "/containers/create", {"Cmd": ["x"]})[0] == 400


def test_wait_conditions_and_auto_remove(api: Service, bb: str) -> None:
    client = docker.DockerClient(base_url=api.url)
    c = client.containers.run(bb, ["sh", "-c", "sleep 0.5; exit 7"], detach=True)
    assert c.wait()["StatusCode"] == 7
    assert c.wait()["StatusCode"] == 7  # not-running: at once, from the record
    c.remove()
    # the CLI's order: wait (removed) before start, the headers at once
    cid = client.api.create_container(bb, ["sh", "-c", "exit 5"],
                                      host_config=client.api.create_host_config(
                                          auto_remove=True))["Id"]
    conn = UnixHTTP(str(api.sock))
    conn.request("POST", f"/containers/{cid}/wait?condition=removed")
    res = conn.getresponse()
    assert res.status == 200  # before the start: headers do not wait for the exit
    client.api.start(cid)
    assert json.loads(res.read()) == {"StatusCode": 5, "Error": None}
    conn.close()
    deadline = time.monotonic() + 10
    while api.pyc.ok("ps", "-aq").out.strip() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert api.pyc.ok("ps", "-aq").out.strip() == ""
    with pytest.raises(docker.errors.NotFound):
        client.api.wait("nosuch")


def test_console_size_is_the_terminals_size_before_any_resize(api: Service,
                                                               fixture_refs: dict[str, str]
                                                               ) -> None:
    bb = fixture_refs["busybox"]
    api.pyc.ok("pull", "-q", bb)
    client = docker.DockerClient(base_url=api.url)
    body = {"Image": bb, "Cmd": ["stty", "size"], "Tty": True, "AttachStdout": True,
            "HostConfig": {"ConsoleSize": [33, 111]}}
    res = client.api._post_json(client.api._url("/containers/create"), data=body)
    cid = client.api._result(res, json=True)["Id"]
    sock = client.api.attach_socket(cid, params={"stdout": 1, "stream": 1})
    client.api.start(cid)
    raw = sock._sock
    out = b""
    while chunk := raw.recv(4096):
        out += chunk
    raw.close()
    assert out.strip() == b"33 111"
    bad = client.api._post_json(client.api._url("/containers/create"),
                                data={**body, "HostConfig": {"ConsoleSize": "big"}})
    assert bad.status_code == 400 and "ConsoleSize" in bad.json()["message"]
