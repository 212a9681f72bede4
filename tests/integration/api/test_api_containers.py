"""Containers made by `pyc` seen and driven through the API by the real clients: the
docker CLI (both versions) and docker-py, so `docker ps` and `pyc ps` agree."""

from __future__ import annotations

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


@pytest.fixture
def web(api: Service, fixture_refs: dict[str, str]) -> str:
    bb = fixture_refs["busybox"]
    api.pyc.ok("pull", "-q", bb)
    return api.pyc.ok("run", "-d", "--name", "web", "--label", "tier=front", "-p",
                      "127.0.0.1::80", bb, "sh", "-c",
                      "echo out; echo err >&2; exec httpd -f -p 80 -h /etc").out.strip()


def test_docker_ps_and_inspect_agree_with_pyc(api: Service, web: str, dockers: list[str],
                                              docker_env: dict[str, str],
                                              fixture_refs: dict[str, str]) -> None:
    api.pyc.ok("create", "--name", "idle", fixture_refs["busybox"], "true")
    pyc_ids = sorted(api.pyc.ok("ps", "-aq", "--no-trunc").out.split())
    for cli in dockers:
        ids = sorted(dock(cli, docker_env, "ps", "-aq", "--no-trunc").stdout.split())
        assert ids == pyc_ids, cli
        running = dock(cli, docker_env, "ps", "--format", "{{.Names}} {{.State}}").stdout
        assert running.split("\n")[0] == "web running", (cli, running)
        table = dock(cli, docker_env, "ps", "-a").stdout.splitlines()
        assert table[0].split() == ["CONTAINER", "ID", "IMAGE", "COMMAND", "CREATED", "STATUS",
                                    "PORTS", "NAMES"], table[0]
        assert any("Up " in line and "->80/tcp" in line and line.endswith("web")
                   for line in table), table
        assert any("Created" in line and line.endswith("idle") for line in table), table
        fmt = dock(cli, docker_env, "inspect", "-f",
                   "{{.Name}} {{.State.Status}} {{.Config.Labels.tier}}", "web").stdout
        assert fmt.strip() == "/web running front"
        labelled = dock(cli, docker_env, "ps", "-q", "--filter", "label=tier=front").stdout
        assert labelled.split() == [web[:12]]


def test_docker_py_list_get_logs(api: Service, web: str) -> None:
    client = docker.DockerClient(base_url=api.url)
    listed = client.containers.list()
    assert [c.id for c in listed] == [web]
    c = client.containers.get("web")
    assert c.name == "web" and c.status == "running" and c.labels == {"tier": "front"}
    port = c.ports["80/tcp"][0]
    assert port["HostIp"] == "127.0.0.1" and int(port["HostPort"]) > 0
    summary = client.api.containers(filters={"id": web})[0]
    assert summary["Names"] == ["/web"] and summary["State"] == "running"
    assert summary["Ports"][0]["PrivatePort"] == 80
    assert summary["Status"].startswith("Up ")
    assert c.logs(stdout=True, stderr=False) == b"out\n"
    assert c.logs(stdout=False, stderr=True) == b"err\n"
    assert c.logs(timestamps=True).count(b"Z ") == 2
    top = c.top()
    assert any("httpd" in " ".join(p) for p in top["Processes"]), top


def test_lifecycle_verbs_over_the_api(api: Service, web: str, dockers: list[str],
                                      docker_env: dict[str, str]) -> None:
    cli = dockers[0]
    dock(cli, docker_env, "stop", "-t", "1", "web")
    assert api.pyc.ok("inspect", "-f", "{{.State.Status}}", "web").out.strip() == "exited"
    dock(cli, docker_env, "start", "web")
    assert api.pyc.ok("inspect", "-f", "{{.State.Status}}", "web").out.strip() == "running"
    dock(cli, docker_env, "restart", "-t", "1", "web")
    dock(cli, docker_env, "rename", "web", "web2")
    res = dock(cli, docker_env, "rm", "web2", ok=False)
    assert res.returncode == 1 and "cannot remove a running container" in res.stderr
    dock(cli, docker_env, "kill", "web2")
    assert api.pyc.ok("inspect", "-f", "{{.State.Status}}", "web2").out.strip() == "exited"
    res = dock(cli, docker_env, "kill", "web2", ok=False)
    assert res.returncode == 1 and "is not running" in res.stderr
    dock(cli, docker_env, "rm", "web2")
    assert api.pyc.ok("ps", "-aq").out == ""
    res = dock(cli, docker_env, "inspect", "web2", ok=False)
    assert res.returncode == 1 and "No such" in res.stderr


def test_missing_container_is_a_404_with_docker_wording(api: Service) -> None:
    client = docker.DockerClient(base_url=api.url)
    with pytest.raises(docker.errors.NotFound) as exc:
        client.containers.get("nosuch")
    assert "No such container" in str(exc.value)


def test_the_list_agrees_with_inspect(api: Service, web: str) -> None:
    client = docker.DockerClient(base_url=api.url)
    [summary] = client.api.containers(all=True)
    info = client.api.inspect_container(web)
    assert summary["ImageID"] == info["Image"]
    assert summary["HostConfig"]["NetworkMode"] == info["HostConfig"]["NetworkMode"]
    assert summary["NetworkSettings"]["Networks"] == info["NetworkSettings"]["Networks"]
    assert summary["Mounts"] == info["Mounts"]
    ports = info["NetworkSettings"]["Ports"]["80/tcp"][0]
    assert summary["Ports"] == [{"IP": ports["HostIp"], "PrivatePort": 80,
                                 "PublicPort": int(ports["HostPort"]), "Type": "tcp"}]


def test_changes_made_by_pyc_show_at_once_through_the_service(
        api: Service, fixture_refs: dict[str, str]) -> None:
    """The service keeps parsed records between requests: a rename, stop or rm by `pyc`
    between two docker-py calls must show in the next answer."""
    bb = fixture_refs["busybox"]
    api.pyc.ok("pull", "-q", bb)
    cid = api.pyc.ok("run", "-d", "--name", "first", bb, "sleep", "300").out.strip()
    client = docker.DockerClient(base_url=api.url)
    assert client.containers.get(cid).name == "first"
    assert [c.name for c in client.containers.list()] == ["first"]
    api.pyc.ok("rename", "first", "other")  # same length: a config.json of the same size
    assert client.containers.get(cid).name == "other"
    assert [c.name for c in client.containers.list()] == ["other"]
    assert client.containers.get("other").id == cid
    api.pyc.ok("stop", "-t", "0", "other")
    got = client.containers.get(cid)
    assert got.status == "exited" and got.attrs["State"]["Running"] is False
    assert client.containers.list() == []
    assert [c.status for c in client.containers.list(all=True)] == ["exited"]
    api.pyc.ok("rm", "other")
    with pytest.raises(docker.errors.NotFound):
        client.containers.get(cid)
    assert client.containers.list(all=True) == []
