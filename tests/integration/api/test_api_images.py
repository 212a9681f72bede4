"""Images pyc pulled, listed, tagged and removed through the API by the docker CLI and
docker-py."""

from __future__ import annotations

import docker
import pytest

from .conftest import Service
from .test_api_containers import dock


@pytest.fixture
def bb(api: Service, fixture_refs: dict[str, str]) -> str:
    api.pyc.ok("pull", "-q", fixture_refs["busybox"])
    return fixture_refs["busybox"]


def test_docker_images_inspect_history(api: Service, bb: str, dockers: list[str],
                                       docker_env: dict[str, str]) -> None:
    pyc_id = api.pyc.ok("images", "-q", "--no-trunc").out.strip()
    for cli in dockers:
        ids = dock(cli, docker_env, "images", "-q", "--no-trunc").stdout.split()
        assert ids == [pyc_id], cli
        table = dock(cli, docker_env, "images").stdout.splitlines()
        assert table[0].split()[:4] == ["REPOSITORY", "TAG", "IMAGE", "ID"], table
        assert table[1].split()[:2] == ["127.0.0.1:5000/fixtures/busybox", "latest"], table
        fmt = dock(cli, docker_env, "image", "inspect", "-f", "{{.Id}} {{.Os}}", bb).stdout
        assert fmt.strip() == f"{pyc_id} linux"
        hist = dock(cli, docker_env, "history", "-q", bb).stdout.split()
        assert hist[0] == pyc_id.split(":")[1][:12]


def test_tag_and_remove(api: Service, bb: str, dockers: list[str],
                        docker_env: dict[str, str]) -> None:
    cli = dockers[0]
    dock(cli, docker_env, "tag", bb, "mine:1")
    assert "mine:1" in api.pyc.ok("images", "--format", "{{.Repository}}:{{.Tag}}").out
    out = dock(cli, docker_env, "rmi", "mine:1").stdout
    assert out.strip() == "Untagged: mine:1"
    res = dock(cli, docker_env, "rmi", "nosuch:1", ok=False)
    assert res.returncode == 1 and "No such image" in res.stderr
    api.pyc.ok("create", "--name", "user", bb, "true")
    res = dock(cli, docker_env, "rmi", bb, ok=False)
    assert res.returncode == 1 and "conflict" in res.stderr
    api.pyc.ok("rm", "user")
    out = dock(cli, docker_env, "rmi", bb).stdout
    assert "Deleted: sha256:" in out
    assert api.pyc.ok("images", "-q").out == ""


def test_docker_py_images(api: Service, bb: str) -> None:
    client = docker.DockerClient(base_url=api.url)
    [image] = client.images.list()
    assert image.tags == [bb]
    assert client.images.get(bb).id == image.id
    assert image.tag("pyimg", "v2") is True
    assert "pyimg:v2" in client.images.get(image.id).tags
    assert image.history()[0]["Id"] == image.id
    client.images.remove("pyimg:v2")
    with pytest.raises(docker.errors.ImageNotFound):
        client.images.get("pyimg:v2")
