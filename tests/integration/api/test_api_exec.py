"""exec through the API: docker-py's exec_run (output, exit code, demux, stdin through the
socket), the docker CLI's `exec` with piped stdin and `exec -d`."""

from __future__ import annotations

import socket
import subprocess

import docker
import pytest

from .conftest import Service
from .test_api_containers import dock


@pytest.fixture
def box(api: Service, fixture_refs: dict[str, str]) -> str:
    bb = fixture_refs["busybox"]
    api.pyc.ok("pull", "-q", bb)
    return api.pyc.ok("run", "-d", "--name", "box", bb, "sleep", "600").out.strip()


def test_exec_run_output_and_exit_code(api: Service, box: str) -> None:
    c = docker.DockerClient(base_url=api.url).containers.get("box")
    res = c.exec_run(["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert res.exit_code == 3
    assert sorted(res.output.splitlines()) == [b"err", b"out"]
    res = c.exec_run(["sh", "-c", "echo out; echo err >&2"], demux=True)
    assert res.exit_code == 0 and res.output == (b"out\n", b"err\n")
    res = c.exec_run("hostname")
    assert res.output.strip() == box[:12].encode()
    res = c.exec_run(["sh", "-c", "echo $FOO in $(pwd)"], environment={"FOO": "bar"},
                     workdir="/tmp", user="1000")
    assert res.output == b"bar in /tmp\n"
    res = c.exec_run("nosuchcommand")
    assert res.exit_code == 127 and b"nosuchcommand" in res.output


def test_exec_with_a_tty(api: Service, box: str) -> None:
    c = docker.DockerClient(base_url=api.url).containers.get("box")
    res = c.exec_run(["sh", "-c", "tty; echo done"], tty=True)
    assert res.exit_code == 0
    assert res.output.replace(b"\r\n", b"\n").splitlines()[1] == b"done"
    assert res.output.startswith(b"/dev/pts/")


def test_exec_stdin_is_closed_by_the_clients_half_close(api: Service, box: str) -> None:
    client = docker.DockerClient(base_url=api.url)
    exec_id = client.api.exec_create("box", ["sh", "-c", "wc -c; echo bye >&2"],
                                     stdin=True)["Id"]
    sock = client.api.exec_start(exec_id, socket=True)
    raw = sock._sock
    raw.sendall(b"12345")
    raw.shutdown(socket.SHUT_WR)
    data = b""
    while chunk := raw.recv(65536):
        data += chunk
    raw.close()
    assert b"5\n" in data and b"bye\n" in data
    info = client.api.exec_inspect(exec_id)
    assert info["ExitCode"] == 0 and info["Running"] is False


def test_docker_cli_exec(api: Service, box: str, dockers: list[str],
                         docker_env: dict[str, str]) -> None:
    for cli in dockers:
        res = subprocess.run([cli, "exec", "-i", "box", "tr", "a-z", "A-Z"], input="hello\n",
                             env=docker_env, capture_output=True, text=True, timeout=60)
        assert res.returncode == 0 and res.stdout == "HELLO\n", (cli, res.stderr)
        res = dock(cli, docker_env, "exec", "box", "sh", "-c", "exit 7", ok=False)
        assert res.returncode == 7, (cli, res.stderr)
        dock(cli, docker_env, "exec", "-d", "box", "sh", "-c", "echo detached > /tmp/d")
    out = api.pyc.ok("exec", "box", "sh", "-c", "sleep 0.5; cat /tmp/d").out
    assert out == "detached\n"


def test_exec_in_a_stopped_container_is_a_409(api: Service, box: str) -> None:
    api.pyc.ok("stop", "-t", "0", "box")
    client = docker.DockerClient(base_url=api.url)
    with pytest.raises(docker.errors.APIError) as exc:
        client.api.exec_create("box", ["true"])
    assert exc.value.status_code == 409 and "is not running" in str(exc.value)
    with pytest.raises(docker.errors.NotFound):
        client.api.exec_inspect("0" * 64)
