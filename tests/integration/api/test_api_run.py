"""The `docker run` flows through the API with the real clients, as the unprivileged user:
both docker CLIs (create, attach, wait, start), a pty for `run -it`, docker-py's run,
logs, wait and attach."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import termios
import time
import urllib.request

import docker
import pytest

from .conftest import Service
from .test_api_containers import dock


@pytest.fixture
def bb(api: Service, fixture_refs: dict[str, str]) -> str:
    ref = fixture_refs["busybox"]
    api.pyc.ok("pull", "-q", ref)
    return ref


def _left(api: Service) -> str:
    return api.pyc.ok("ps", "-aq").out.strip()


def test_run_rm_output_and_exit_code(api: Service, bb: str, dockers: list[str],
                                     docker_env: dict[str, str]) -> None:
    for cli in dockers:
        res = dock(cli, docker_env, "run", "--rm", bb, "sh", "-c", "echo hi; echo err >&2; "
                   "exit 3", ok=False)
        assert (res.returncode, res.stdout) == (3, "hi\n"), (cli, res.stderr)
        assert "err" in res.stderr
    deadline = time.monotonic() + 10
    while _left(api) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _left(api) == ""


def test_run_detached_then_logs_follow(api: Service, bb: str, dockers: list[str],
                                       docker_env: dict[str, str]) -> None:
    for cli in dockers:
        cid = dock(cli, docker_env, "run", "-d", bb, "sh", "-c",
                   "echo one; sleep 1; echo two").stdout.strip()
        started = time.monotonic()
        res = dock(cli, docker_env, "logs", "-f", cid)
        assert res.stdout == "one\ntwo\n"
        assert time.monotonic() - started > 0.5  # it followed until the exit
        assert dock(cli, docker_env, "wait", cid).stdout.strip() == "0"


def test_run_interactive_with_piped_stdin(api: Service, bb: str, dockers: list[str],
                                          docker_env: dict[str, str]) -> None:
    for cli in dockers:
        res = subprocess.run([cli, "run", "-i", "--rm", bb, "sh", "-c", "wc -l; exit 4"],
                             input="a\nb\nc\n", env=docker_env, capture_output=True,
                             text=True, timeout=60)
        assert (res.returncode, res.stdout.strip()) == (4, "3"), (cli, res.stderr)


def test_run_name_taken_is_125(api: Service, bb: str, dockers: list[str],
                               docker_env: dict[str, str]) -> None:
    for cli in dockers:
        dock(cli, docker_env, "run", "--name", "x", bb, "true")
        res = dock(cli, docker_env, "run", "--name", "x", bb, "true", ok=False)
        assert res.returncode == 125 and "x" in res.stderr and "in use" in res.stderr
        dock(cli, docker_env, "rm", "x")


def test_published_port_is_reachable(api: Service, bb: str, dockers: list[str],
                                     docker_env: dict[str, str]) -> None:
    for cli in dockers:
        cid = dock(cli, docker_env, "run", "-d", "-p", "127.0.0.1::80", bb, "httpd", "-f",
                   "-p", "80", "-h", "/etc").stdout.strip()
        addr = dock(cli, docker_env, "port", cid, "80").stdout.split()[0]
        assert addr.startswith("127.0.0.1:"), (cli, addr)
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(f"http://{addr}/hostname", timeout=5) as r:
                    assert r.read().decode().strip() == cid[:12]
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        dock(cli, docker_env, "rm", "-f", cid)


def _read_until(fd: int, want: bytes, timeout: float = 20) -> bytes:
    out = b""
    deadline = time.monotonic() + timeout
    while want not in out:
        left = deadline - time.monotonic()
        assert left > 0, f"no {want!r} in {out!r}"
        if select.select([fd], [], [], left)[0]:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            out += data
    return out


def test_run_it_under_a_pty(api: Service, bb: str, dockers: list[str],
                            docker_env: dict[str, str]) -> None:
    for cli in dockers:
        pid, master = pty.fork()
        if pid == 0:  # pragma: no cover - the docker CLI on the pty
            os.execve(cli, [cli, "run", "-it", "--rm", bb, "sh"], docker_env)
        try:
            fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
            _read_until(master, b"# ")
            os.write(master, b"echo $((6*7))\n")
            out = _read_until(master, b"42\r\n")
            assert b"echo $((6*7))" in out  # the terminal echoes what was typed
            fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 111, 0, 0))
            time.sleep(0.5)  # the CLI's SIGWINCH -> /resize -> the supervisor's pty
            os.write(master, b"stty size\n")
            assert b"33 111" in _read_until(master, b"33 111")
            os.write(master, b"exit 6\n")
            _read_until(master, b"exit 6")
        finally:
            _, status = os.waitpid(pid, 0)
            os.close(master)
        assert os.waitstatus_to_exitcode(status) == 6, cli


def test_docker_py_run_logs_wait_attach(api: Service, bb: str) -> None:
    client = docker.DockerClient(base_url=api.url)
    assert client.containers.run(bb, "echo hi", remove=True) == b"hi\n"
    c = client.containers.run(bb, ["sh", "-c", "echo a; sleep 0.5; echo b; exit 2"],
                              detach=True)
    assert b"".join(c.logs(stream=True)) == b"a\nb\n"
    assert c.wait()["StatusCode"] == 2
    c.remove()
    c = client.containers.create(bb, ["sh", "-c", "sleep 1; echo out; echo err >&2"])
    c.start()
    got = b"".join(c.attach(stream=True, stdout=True, stderr=True))
    assert sorted(got.splitlines()) == [b"err", b"out"]
    assert c.wait()["StatusCode"] == 0
    c.remove()
    assert _left(api) == ""


def test_a_k8s_file_container_still_returns_its_output(api: Service, bb: str) -> None:
    client = docker.DockerClient(base_url=api.url)
    out = client.containers.run(bb, "echo k8s", remove=True,
                                log_config={"Type": "k8s-file", "Config": {}})
    assert out == b"k8s\n"


def _zombie_children(pid: int) -> list[str]:
    out = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            for child in f.read().split():
                try:
                    with open(f"/proc/{child}/stat") as st:
                        fields = st.read().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if fields[0] == "Z":
                    out.append(child)
    return out


def test_the_service_leaves_no_zombies_of_finished_containers(api: Service, bb: str) -> None:
    client = docker.DockerClient(base_url=api.url)
    for _ in range(4):  # each has a supervisor and a slirp4netns started by the service
        client.containers.run(bb, "sleep 0.3", detach=True)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        running = [c for c in client.containers.list()]
        if not running and not _zombie_children(api.proc.pid):
            break
        time.sleep(0.3)
    assert not _zombie_children(api.proc.pid), "the service keeps zombie children"
