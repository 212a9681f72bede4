"""Attach as Docker records and serves it: Config.Attach*/StdinOnce are what the create
said (docker-py's, the docker CLI's, `pyc create/run`'s flags), and
`POST /containers/{id}/attach?logs=1` replays the log before the live output, with no line
lost or doubled between the two."""

from __future__ import annotations

import docker
import pytest

from .conftest import Service
from .test_api_containers import dock

KEYS = ("AttachStdin", "AttachStdout", "AttachStderr", "StdinOnce", "OpenStdin")


@pytest.fixture
def bb(api: Service, fixture_refs: dict[str, str]) -> str:
    ref = fixture_refs["busybox"]
    api.pyc.ok("pull", "-q", ref)
    return ref


def _fields(api: Service, ref: str) -> tuple[bool, ...]:
    client = docker.APIClient(base_url=api.url)
    config = client.inspect_container(ref)["Config"]
    return tuple(config[k] for k in KEYS)


def test_attach_fields_are_what_the_create_said(api: Service, bb: str, dockers: list[str],
                                                docker_env: dict[str, str]) -> None:
    client = docker.DockerClient(base_url=api.url)
    made = client.containers.create(bb, "true", name="py-fg")  # docker-py: not detached
    assert _fields(api, made.id) == (False, True, True, False, False)
    client.containers.run(bb, "sleep 30", name="py-bg", detach=True, stdin_open=True)
    assert _fields(api, "py-bg") == (False, False, False, False, True)
    cli = dockers[0]
    dock(cli, docker_env, "create", "-i", "--name", "cli-i", bb, "cat")
    assert _fields(api, "cli-i") == (True, True, True, True, True)
    dock(cli, docker_env, "run", "-d", "-i", "--name", "cli-d", bb, "sleep", "30")
    assert _fields(api, "cli-d") == (False, False, False, False, True)
    api.pyc.ok("create", "-i", "--name", "pyc-i", bb, "cat")
    assert _fields(api, "pyc-i") == (True, True, True, True, True)
    api.pyc.ok("create", "-a", "stdout", "--name", "pyc-a", bb, "true")
    assert _fields(api, "pyc-a") == (False, True, False, False, False)
    api.pyc.ok("run", "-d", "-i", "--name", "pyc-d", bb, "sleep", "30")
    assert _fields(api, "pyc-d") == (False, False, False, False, True)
    # `pyc inspect` shows the same record
    out = api.pyc.ok("inspect", "-f", "{{.Config.AttachStdin}} {{.Config.StdinOnce}}",
                     "pyc-i").out.split()
    assert out == ["true", "true"]
    api.pyc.ok("rm", "-f", "py-bg", "cli-d", "pyc-d")
