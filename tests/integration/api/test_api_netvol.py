"""Networks and volumes over the API, driven by the real clients: both docker CLIs and
docker-py; what they make `pyc` sees, and bad input is refused with nothing made."""

from __future__ import annotations

import json
import socket
import subprocess

import docker
import pytest

from .conftest import Service


def dock(cli: str, env: dict[str, str], *args: str,
         ok: bool = True) -> subprocess.CompletedProcess[str]:
    res = subprocess.run([cli, *args], env=env, capture_output=True, text=True, timeout=120)
    if ok:
        assert res.returncode == 0, (cli, args, res.stdout, res.stderr)
    return res


def raw_post(api: Service, path: str, body: dict[str, object]) -> tuple[int, dict[str, object]]:
    """One POST with a JSON body, straight on the socket (no client's own checks)."""
    data = json.dumps(body).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(str(api.sock))
        s.sendall(f"POST {path} HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\n"
                  f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode() + data)
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    head, _, payload = reply.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(payload)


def test_docker_network_create_ls_inspect_rm_prune(api: Service, dockers: list[str],
                                                   docker_env: dict[str, str]) -> None:
    for cli in dockers:
        nid = dock(cli, docker_env, "network", "create", "--label", "k=v", "--subnet",
                   "10.77.3.0/24", "apinet").stdout.strip()
        pyc_id = api.pyc.ok("network", "inspect", "-f", "{{.Id}}", "apinet").out.strip()
        assert nid == pyc_id, cli
        listed = dock(cli, docker_env, "network", "ls", "--format",
                      "{{.Name}} {{.Driver}} {{.Scope}}").stdout.split("\n")
        assert "apinet bridge local" in listed and "bridge bridge local" in listed, listed
        only = dock(cli, docker_env, "network", "ls", "-q", "--filter", "label=k=v").stdout
        assert only.split() == [nid[:12]], cli
        info = json.loads(dock(cli, docker_env, "network", "inspect", "apinet").stdout)[0]
        assert info["Id"] == nid and info["Scope"] == "local" and info["Labels"] == {"k": "v"}
        assert info["IPAM"]["Config"] == [{"Subnet": "10.77.3.0/24", "Gateway": "10.77.3.1"}]
        taken = dock(cli, docker_env, "network", "create", "apinet", ok=False)
        assert taken.returncode == 1 and "already exists" in taken.stderr, taken.stderr
        bad = dock(cli, docker_env, "network", "create", "-d", "overlay", "nonet", ok=False)
        assert bad.returncode == 1 and "overlay" in bad.stderr, bad.stderr
        assert api.pyc("network", "inspect", "nonet").rc != 0  # nothing half-made
        dock(cli, docker_env, "network", "rm", "apinet")
        assert api.pyc("network", "inspect", "apinet").rc != 0
        dock(cli, docker_env, "network", "create", "apiprune")
        out = dock(cli, docker_env, "network", "prune", "-f").stdout
        assert "apiprune" in out, out
        assert api.pyc("network", "inspect", "apiprune").rc != 0


def test_docker_network_connect_resolves_names(api: Service, dockers: list[str],
                                               docker_env: dict[str, str],
                                               fixture_refs: dict[str, str]) -> None:
    bb = fixture_refs["busybox"]
    api.pyc.ok("pull", "-q", bb)
    cli = dockers[-1]
    dock(cli, docker_env, "network", "create", "apiconn1")
    dock(cli, docker_env, "network", "create", "apiconn2")
    api.pyc.ok("run", "-d", "--name", "srv", "--network", "apiconn1", bb, "sleep", "300")
    api.pyc.ok("run", "-d", "--name", "cli", "--network", "apiconn2", bb, "sleep", "300")
    assert api.pyc("exec", "cli", "ping", "-c1", "-W1", "srv").rc != 0
    dock(dockers[0], docker_env, "network", "connect", "--alias", "other", "apiconn1", "cli")
    assert "1 packets received" in api.pyc.ok("exec", "srv", "ping", "-c1", "-W2",
                                              "other").out
    assert "1 packets received" in api.pyc.ok("exec", "cli", "ping", "-c1", "-W2", "srv").out
    info = json.loads(dock(cli, docker_env, "network", "inspect", "apiconn1").stdout)[0]
    names = sorted(c["Name"] for c in info["Containers"].values())
    assert names == ["cli", "srv"], info["Containers"]
    nets = json.loads(dock(cli, docker_env, "inspect", "-f",
                           "{{json .NetworkSettings.Networks}}", "cli").stdout)
    assert nets["apiconn1"]["NetworkID"] == info["Id"]
    busy = dock(cli, docker_env, "network", "rm", "apiconn1", ok=False)
    assert busy.returncode == 1 and "active endpoints" in busy.stderr, busy.stderr
    dock(cli, docker_env, "network", "disconnect", "apiconn1", "cli")
    assert api.pyc("exec", "cli", "ping", "-c1", "-W1", "srv").rc != 0
    api.pyc.ok("rm", "-f", "srv", "cli")
    dock(cli, docker_env, "network", "rm", "apiconn1", "apiconn2")


def test_network_create_echoes_options_and_refuses_what_pyc_lacks(api: Service) -> None:
    opts = {"com.docker.network.bridge.enable_icc": "true", "x.custom": "1"}
    status, body = raw_post(api, "/v1.41/networks/create",
                            {"Name": "apiopts", "Options": opts, "CheckDuplicate": True,
                             "Attachable": True, "Labels": {"a": "b"}})
    assert status == 201 and body["Warning"] == "", body
    client = docker.DockerClient(base_url=api.url)
    net = client.networks.get("apiopts")
    assert net.id == body["Id"]
    assert net.attrs["Options"] == opts and net.attrs["Attachable"] is True
    status, body = raw_post(api, "/networks/create", {"Name": "apiopts"})
    assert status == 409 and "already exists" in str(body["message"]), body
    status, body = raw_post(api, "/networks/create", {"Name": "v6", "EnableIPv6": True})
    assert status == 400 and "EnableIPv6" in str(body["message"]), body
    status, body = raw_post(api, "/networks/create", {"Name": "nodrv", "Driver": "macvlan"})
    assert status == 400 and "macvlan" in str(body["message"]), body
    names = api.pyc.ok("network", "ls", "--format", "{{.Name}}").out.split()
    assert "v6" not in names and "nodrv" not in names
    status, body = raw_post(api, "/networks/nosuch/connect", {"Container": "x"})
    assert status == 404, body


def test_docker_py_networks_and_volumes(api: Service, fixture_refs: dict[str, str]) -> None:
    bb = fixture_refs["busybox"]
    api.pyc.ok("pull", "-q", bb)
    client = docker.DockerClient(base_url=api.url)
    net = client.networks.create("pynet", labels={"who": "py"})
    assert net.name == "pynet" and net.attrs["Driver"] == "bridge"
    assert [n.id for n in client.networks.list(names=["pynet"])] == [net.id]
    api.pyc.ok("create", "--name", "stopped", bb, "true")
    net.connect("stopped", aliases=["st"])
    nets = json.loads(api.pyc.ok("inspect", "-f", "{{json .NetworkSettings.Networks}}",
                                 "stopped").out)
    assert nets["pynet"]["NetworkID"] == net.id, nets
    with pytest.raises(docker.errors.APIError) as busy:
        net.remove()
    assert busy.value.status_code == 409
    net.disconnect("stopped")
    net.remove()
    with pytest.raises(docker.errors.NotFound):
        client.networks.get("pynet")
    vol = client.volumes.create("pyvol", labels={"who": "py"})
    assert vol.name == "pyvol" and vol.attrs["Driver"] == "local"
    assert api.pyc.ok("volume", "inspect", "-f", "{{.Labels.who}}", "pyvol").out.strip() == "py"
    assert [v.name for v in client.volumes.list(filters={"label": "who=py"})] == ["pyvol"]
    with pytest.raises(docker.errors.APIError) as bad:
        client.volumes.create("pybad", driver="nfs")
    assert bad.value.status_code == 400
    assert api.pyc("volume", "inspect", "pybad").rc != 0
    api.pyc.ok("create", "--name", "user", "-v", "pyvol:/data", bb, "true")
    with pytest.raises(docker.errors.APIError) as used:
        client.volumes.get("pyvol").remove()
    assert used.value.status_code == 409
    api.pyc.ok("rm", "user", "stopped")
    client.volumes.get("pyvol").remove()
    with pytest.raises(docker.errors.NotFound):
        client.volumes.get("pyvol")


def test_docker_volume_create_ls_inspect_rm_prune(api: Service, dockers: list[str],
                                                  docker_env: dict[str, str]) -> None:
    for cli in dockers:
        assert dock(cli, docker_env, "volume", "create", "--label", "k=v",
                    "apivol").stdout.strip() == "apivol"
        assert api.pyc.ok("volume", "ls", "-q").out.split() == ["apivol"]
        listed = dock(cli, docker_env, "volume", "ls", "--format",
                      "{{.Driver}} {{.Name}}").stdout.split("\n")
        assert "local apivol" in listed, listed
        info = json.loads(dock(cli, docker_env, "volume", "inspect", "apivol").stdout)[0]
        assert info["Name"] == "apivol" and info["Labels"] == {"k": "v"}
        assert info["Mountpoint"].endswith("/apivol/_data") and info["Scope"] == "local"
        missing = dock(cli, docker_env, "volume", "inspect", "novol", ok=False)
        assert missing.returncode == 1 and "No such volume" in missing.stderr
        dock(cli, docker_env, "volume", "rm", "apivol")
        assert api.pyc.ok("volume", "ls", "-q").out == ""
        dock(cli, docker_env, "volume", "create", "apiprune")
        out = dock(cli, docker_env, "volume", "prune", "-f").stdout
        assert "apiprune" in out, out
        assert api.pyc.ok("volume", "ls", "-q").out == ""
