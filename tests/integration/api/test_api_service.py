"""`pyc system service`: the socket, versions, errors, the idle timeout, dial-stdio, socket
activation, and that the CLI's own start-up never imports the service."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import docker
from helpers.runner import Pyc

from .conftest import Service, start_service, stop_service, wait_for_socket


def raw_request(path: Path, data: bytes, timeout: float = 10.0) -> bytes:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(str(path))
    try:
        s.sendall(data)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        s.close()


def get(path: Path, target: str, method: str = "GET") -> tuple[str, dict[str, str], bytes]:
    raw = raw_request(path, f"{method} {target} HTTP/1.1\r\nHost: d\r\n"
                            "Connection: close\r\n\r\n".encode())
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return lines[0], headers, body


def test_ping_answers_docker_headers_versioned_or_not(api: Service) -> None:
    for target in ("/_ping", "/v1.41/_ping", "/v1.24/_ping"):
        status, headers, body = get(api.sock, target)
        assert status == "HTTP/1.1 200 OK", status
        assert body == b"OK"
        assert headers["api-version"] == "1.41"
        assert headers["builder-version"] == "1"
        assert headers["ostype"] == "linux"
    status, headers, body = get(api.sock, "/_ping", "HEAD")
    assert status == "HTTP/1.1 200 OK" and body == b"" and headers["api-version"] == "1.41"


def test_the_socket_is_private(api: Service) -> None:
    assert stat.S_IMODE(os.stat(api.sock).st_mode) == 0o600
    default = subprocess.run(api.pyc.argv("system", "service", "--time", "0.3"),
                             env=api.pyc.env, capture_output=True, text=True, timeout=30)
    assert default.returncode == 0, default.stderr
    assert stat.S_IMODE(os.stat(api.pyc.runroot).st_mode) == 0o700


def test_docker_py_negotiates_and_reads_version_and_info(api: Service) -> None:
    client = docker.DockerClient(base_url=api.url)
    assert client.ping() is True
    assert client.api.api_version == "1.41"
    version = client.version()
    assert version["MinAPIVersion"] == "1.24"
    assert "podman" not in json.dumps(version).lower()  # testcontainers keys off this
    info = client.info()
    assert info["Swarm"]["LocalNodeState"] == "inactive"
    assert info["OSType"] == "linux"


def test_docker_cli_version_and_info(api: Service, dockers: list[str],
                                     docker_env: dict[str, str]) -> None:
    for cli in dockers:
        res = subprocess.run([cli, "version", "--format", "{{.Server.APIVersion}}"],
                             env=docker_env, capture_output=True, text=True, timeout=60)
        assert res.returncode == 0 and res.stdout.strip() == "1.41", (cli, res.stderr)
        res = subprocess.run([cli, "info", "--format", "{{.Swarm.LocalNodeState}} {{.OSType}}"],
                             env=docker_env, capture_output=True, text=True, timeout=60)
        assert res.returncode == 0 and res.stdout.strip() == "inactive linux", (cli, res.stderr)


def test_errors_are_docker_shaped(api: Service) -> None:
    status, headers, body = get(api.sock, "/v1.41/no/such/route")
    assert status.startswith("HTTP/1.1 404") and json.loads(body) == {"message": "page not found"}
    status, _, body = get(api.sock, "/v1.41/swarm")
    assert status.startswith("HTTP/1.1 503")
    assert "not a swarm manager" in json.loads(body)["message"]
    status, _, body = get(api.sock, "/v1.41/version", "DELETE")
    assert status.startswith("HTTP/1.1 405")
    raw = raw_request(api.sock, b"NOT HTTP AT ALL\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 400"), raw[:80]
    # the service still serves after all that
    assert get(api.sock, "/_ping")[2] == b"OK"


def test_a_client_that_disconnects_mid_request_leaves_the_service_serving(api: Service) -> None:
    for partial in (b"GET /_pi", b"POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\n"
                    b"Content-Length: 100\r\n\r\n{\"Ima"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(str(api.sock))
        s.sendall(partial)
        s.close()
    assert get(api.sock, "/_ping")[2] == b"OK"


def test_non_loopback_tcp_is_refused(pyc: Pyc) -> None:
    res = pyc("system", "service", "--time", "1", "tcp://0.0.0.0:2375")
    assert res.rc == 125 and "not a loopback address" in res.err, res
    assert res.err.count("\n") == 1


def test_tcp_on_loopback(pyc: Pyc) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(pyc.argv("system", "service", "--time", "0",
                                     f"tcp://127.0.0.1:{port}"), env=pyc.env,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                client = docker.DockerClient(base_url=f"tcp://127.0.0.1:{port}")
                assert client.ping() is True
                break
            except Exception:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(10)


def test_idle_timeout_exits_soon_after_the_last_connection(pyc: Pyc) -> None:
    service = start_service(pyc, "--time", "1")
    try:
        # a connection that is sending its request keeps the service up
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(str(service.sock))
        s.sendall(b"GET /_ping HTTP/1.1\r\n")
        time.sleep(2.0)
        assert service.proc.poll() is None, "exited while a request was coming in"
        s.sendall(b"Host: d\r\nConnection: close\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 200")
        s.close()
        closed = time.monotonic()
        service.proc.wait(10)
        took = time.monotonic() - closed
        assert took < 2.5, f"the service took {took:.1f}s to exit after going idle"
        assert service.proc.returncode == 0
        assert not service.sock.exists(), "the socket file was left behind"
    finally:
        stop_service(service)


def test_dial_stdio_starts_a_service_on_demand_and_nothing_is_left(pyc: Pyc) -> None:
    request = b"GET /v1.41/_ping HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n"
    res = subprocess.run(pyc.argv("system", "dial-stdio"), input=request, env=pyc.env,
                         capture_output=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(b"HTTP/1.1 200 OK") and res.stdout.endswith(b"OK"), res.stdout
    sock = pyc.runroot / "pyc.sock"
    # a second dial finds the running service
    res = subprocess.run(pyc.argv("system", "dial-stdio"), input=request, env=pyc.env,
                         capture_output=True, timeout=60)
    assert res.stdout.endswith(b"OK")
    deadline = time.monotonic() + 15
    while sock.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not sock.exists(), "the on-demand service did not go away when idle"
    left = subprocess.run(["pgrep", "-f", f"{pyc.runroot}.*system service"],
                          capture_output=True, text=True)
    assert left.stdout == "", f"service processes left: {left.stdout}"


# what systemd does before it execs a socket-activated service: the socket becomes fd 3
ACTIVATE = ("import os, sys; fd = int(sys.argv[1]); os.dup2(fd, 3); os.close(fd); "
            "os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS='1'); "
            "os.execvp(sys.argv[2], sys.argv[2:])")


def test_socket_activation_serves_the_inherited_socket(pyc: Pyc) -> None:
    path = pyc.runroot / "activated.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(8)
    fd = listener.fileno()
    proc = subprocess.Popen([sys.executable, "-c", ACTIVATE, str(fd),
                             *pyc.argv("system", "service", "--time", "0")],
                            env=pyc.env, pass_fds=(fd,), stderr=subprocess.PIPE)
    listener.close()
    try:
        wait_for_socket(path, proc)
        client = docker.DockerClient(base_url=f"unix://{path}")
        assert client.ping() is True
        assert client.version()["ApiVersion"] == "1.41"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
    assert path.exists(), "the service removed a socket it did not create"


def test_the_cli_never_imports_the_service(pyc: Pyc, fixture_refs: dict[str, str]) -> None:
    bb = fixture_refs["busybox"]
    pyc.ok("pull", "-q", bb)
    argv = pyc.argv("run", "--rm", bb, "true")
    exe = argv[0]
    if not exe.endswith((".py", ".pyz")) and Path(exe).read_bytes()[:2] == b"#!":
        argv = [sys.executable, "-X", "importtime", *argv]
    else:
        argv = [argv[0], "-X", "importtime", *argv[1:]]
    res = subprocess.run(argv, env=pyc.env, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in res.stderr.splitlines()
                if line.startswith("import time:")}
    assert "pycontainer.cli.entry" in imported or "pycontainer" in imported, res.stderr[:500]
    unwanted = {m for m in imported if m.split(".")[0] in ("h11", "http", "yaml")
                or m.startswith(("pycontainer.api", "pycontainer.compose"))}
    assert not unwanted, f"pyc run imported {sorted(unwanted)}"


def test_install_writes_a_socket_and_a_service_unit(pyc: Pyc, tmp_path: Path) -> None:
    config = tmp_path / "xdg-config"
    res = subprocess.run(pyc.argv("system", "service", "--install", "--time", "7"),
                         env={**pyc.env, "XDG_CONFIG_HOME": str(config)},
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    units = config / "systemd" / "user"
    socket_unit = (units / "pyc.socket").read_text()
    service_unit = (units / "pyc.service").read_text()
    assert res.stdout.split() == [str(units / "pyc.socket"), str(units / "pyc.service")]
    assert "ListenStream=%t/pycontainer/pyc.sock" in socket_unit
    assert "SocketMode=0600" in socket_unit
    exec_start = next(line for line in service_unit.splitlines()
                      if line.startswith("ExecStart="))
    assert exec_start.endswith("system service --time 7")
    assert "systemctl --user enable --now pyc.socket" in res.stderr
