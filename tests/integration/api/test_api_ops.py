"""The service in operation: `DOCKER_HOST=ssh://` on demand, a service killed with SIGKILL,
bad input at the HTTP level (raw sockets), and the idle timeout with a `logs -f` open."""

from __future__ import annotations

import contextlib
import getpass
import io
import json
import os
import socket
import subprocess
import tarfile
import time
from pathlib import Path

import docker
import pytest
from helpers.runner import Pyc

from ..conftest import missing
from .conftest import Service, start_service, stop_service

# --- raw HTTP ----------------------------------------------------------------------------


def connect(path: Path, timeout: float = 20.0) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(str(path))
    return s


def read_head(s: socket.socket) -> tuple[bytes, bytes]:
    """The response head (status line and headers) and what came after it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def read_all(s: socket.socket) -> bytes:
    parts = []
    while chunk := s.recv(65536):
        parts.append(chunk)
    return b"".join(parts)


def exchange(path: Path, method: str, target: str, body: bytes = b"",
             extra: str = "") -> tuple[int, bytes]:
    """One request on a fresh connection: (status, body). The body is not de-chunked:
    error answers here are plain JSON with a Content-Length."""
    s = connect(path)
    try:
        s.sendall(f"{method} {target} HTTP/1.1\r\nHost: d\r\nConnection: close\r\n"
                  f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                  f"{extra}\r\n".encode() + body)
        head, rest = read_head(s)
        rest += read_all(s)
    finally:
        s.close()
    return int(head.split(b" ", 2)[1]), rest


def open_stream(path: Path, target: str) -> tuple[socket.socket, bytes]:
    s = connect(path)
    s.sendall(f"GET {target} HTTP/1.1\r\nHost: d\r\n\r\n".encode())
    head, rest = read_head(s)
    assert head.startswith(b"HTTP/1.1 200"), head
    return s, rest


def message(body: bytes) -> str:
    obj = json.loads(body)
    assert set(obj) == {"message"}, obj
    return str(obj["message"])


# --- the service's own resources -------------------------------------------------------


def usage(pid: int) -> tuple[int, int, list[str]]:
    """Threads, open fds and child processes of the service."""
    children: list[str] = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError):  # a thread that just ended
            children += Path(f"/proc/{pid}/task/{task}/children").read_text().split()
    return len(os.listdir(f"/proc/{pid}/task")), len(os.listdir(f"/proc/{pid}/fd")), children


def settles_to(pid: int, baseline: tuple[int, int, list[str]], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    now = usage(pid)
    while now != baseline and time.monotonic() < deadline:
        time.sleep(0.1)
        now = usage(pid)
    assert now == baseline, f"threads, fds, children: {now} (were {baseline})"


def at_rest(pid: int) -> tuple[int, int, list[str]]:
    """The service's usage once the connections just closed have ended (the same for 1 s)."""
    last, since = usage(pid), time.monotonic()
    deadline = since + 15
    while time.monotonic() - since < 1.0 and time.monotonic() < deadline:
        time.sleep(0.1)
        now = usage(pid)
        if now != last:
            last, since = now, time.monotonic()
    return last


def busybox(pyc: Pyc, fixture_refs: dict[str, str]) -> str:
    bb = fixture_refs["busybox"]
    pyc.ok("pull", "-q", bb)
    return bb


# --- DOCKER_HOST=ssh:// ----------------------------------------------------------------


def service_processes(pyc: Pyc) -> str:
    found = subprocess.run(["pgrep", "-af", f"{pyc.runroot}.*(system service|dial-stdio)"],
                           capture_output=True, text=True)
    return found.stdout


def test_docker_over_ssh_runs_pyc_on_demand_and_leaves_nothing(
        pyc: Pyc, dockers: list[str], fixture_refs: dict[str, str], tmp_path: Path) -> None:
    port = os.environ.get("PYC_TEST_SSH_PORT")
    if not port:
        missing("PYC_TEST_SSH_PORT is not set: scripts/test starts the tests' sshd")
    bb = busybox(pyc, fixture_refs)
    pyc.ok("create", "--name", "made-by-pyc", bb, "true")
    config = tmp_path / "docker-config"
    config.mkdir()
    # PYC_ROOT/PYC_RUNROOT travel over ssh (SendEnv): the remote pyc serves this store
    env = {**pyc.env, "DOCKER_HOST": f"ssh://{getpass.getuser()}@127.0.0.1:{port}",
           "DOCKER_CONFIG": str(config)}
    for cli in dockers:
        res = subprocess.run([cli, "ps", "-a", "--format", "{{.Names}} {{.Status}}"],
                             env=env, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, (cli, res.stderr)
        assert res.stdout == "made-by-pyc Created\n", (cli, res.stdout)
        res = subprocess.run([cli, "version", "--format", "{{.Server.APIVersion}}"],
                             env=env, capture_output=True, text=True, timeout=120)
        assert res.returncode == 0 and res.stdout == "1.41\n", (cli, res.stdout, res.stderr)
    # dial-stdio started the service on demand (it is still up, within its idle time)...
    assert (pyc.runroot / "pyc.sock").exists()
    # ...and after its idle timeout nothing is left
    deadline = time.monotonic() + 30
    while service_processes(pyc) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert service_processes(pyc) == "", "service processes left behind"
    assert not (pyc.runroot / "pyc.sock").exists()


# --- SIGKILL -----------------------------------------------------------------------------


def test_a_service_killed_mid_stream_loses_nothing_and_a_new_one_serves(
        pyc: Pyc, fixture_refs: dict[str, str]) -> None:
    bb = busybox(pyc, fixture_refs)
    pyc.ok("run", "-d", "--name", "ticker", bb, "sh", "-c",
           "while true; do echo tick; sleep 0.2; done")
    pyc.ok("create", "--name", "api-started", bb, "sleep", "300")
    service = start_service(pyc, "--time", "0")
    try:
        docker.DockerClient(base_url=service.url).api.start("api-started")
        logs, seen = open_stream(service.sock, "/v1.41/containers/ticker/logs?follow=1&stdout=1")
        events, _ = open_stream(service.sock, "/v1.41/events")
        while b"tick" not in seen:
            seen += logs.recv(65536)
        service.proc.kill()
        service.proc.wait(10)
        for s in (logs, events):  # the streams end with the service
            read_all(s)
            s.close()
        assert service.sock.exists()  # a killed service cannot remove its socket
        status = pyc.ok("inspect", "-f", "{{.Name}} {{.State.Status}}", "ticker",
                        "api-started").lines
        assert status == ["/ticker running", "/api-started running"]
        assert sorted(pyc.ok("ps", "--format", "{{.Names}}").lines) == ["api-started", "ticker"]
        # the stale socket does not block a new service, which serves the same containers
        again = start_service(pyc, "--time", "0")
        try:
            client = docker.DockerClient(base_url=again.url)
            listed = {c.name: c.status for c in client.containers.list()}
            assert listed == {"ticker": "running", "api-started": "running"}
            assert b"tick" in client.containers.get("ticker").logs(tail=2)
        finally:
            stop_service(again)
    finally:
        stop_service(service)


# --- bad input -----------------------------------------------------------------------------


def volume_names(pyc: Pyc) -> list[str]:
    return pyc.ok("volume", "ls", "-q").lines


def test_malformed_and_non_object_json_bodies_are_400_and_create_nothing(api: Service) -> None:
    for body in (b'{"Name": "half-made",', b'["Name", "half-made"]', b"\xff\xfe"):
        status, answer = exchange(api.sock, "POST", "/v1.41/volumes/create", body)
        assert status == 400, (body, answer)
        assert message(answer)
    assert volume_names(api.pyc) == []


def test_unknown_json_fields_are_ignored_as_docker_does(api: Service) -> None:
    status, answer = exchange(api.sock, "POST", "/v1.41/volumes/create",
                              b'{"Name": "known", "NoSuchField": {"x": 1}}')
    assert status == 201, answer
    assert json.loads(answer)["Name"] == "known"
    status, answer = exchange(api.sock, "POST", "/v1.41/networks/create",
                              b'{"Name": "net1", "NoSuchField": true}')
    assert status == 201, answer
    assert volume_names(api.pyc) == ["known"]
    assert "net1" in api.pyc.ok("network", "ls", "--format", "{{.Name}}").lines


def test_a_body_over_the_json_limit_is_413(api: Service) -> None:
    from pycontainer.api.wire import MAX_JSON_BODY

    body = b'{"Name": "huge", "Labels": {"x": "' + b"a" * MAX_JSON_BODY + b'"}}'
    status, answer = exchange(api.sock, "POST", "/v1.41/volumes/create", body)
    assert status == 413, answer
    assert str(MAX_JSON_BODY) in message(answer)
    assert volume_names(api.pyc) == []


def test_a_truncated_body_is_400_and_creates_nothing(api: Service) -> None:
    baseline = at_rest(api.proc.pid)
    s = connect(api.sock)
    s.sendall(b"POST /v1.41/volumes/create HTTP/1.1\r\nHost: d\r\nContent-Length: 100\r\n"
              b"Content-Type: application/json\r\n\r\n{\"Name\": \"trunc")
    s.shutdown(socket.SHUT_WR)
    head, rest = read_head(s)
    rest += read_all(s)
    s.close()
    assert head.startswith(b"HTTP/1.1 400"), head
    assert "ended early" in message(rest)
    assert volume_names(api.pyc) == []
    settles_to(api.proc.pid, baseline)


def tar_of(*entries: tuple[str, bytes | str]) -> bytes:
    """A tar of regular files (bytes) and symlinks (str targets)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, content in entries:
            info = tarfile.TarInfo(name)
            if isinstance(content, str):
                info.type, info.linkname = tarfile.SYMTYPE, content
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def test_archive_paths_cannot_leave_the_container(api: Service, fixture_refs: dict[str, str],
                                                  tmp_path: Path) -> None:
    """Entries climbing out with `..` or through a symlink are written inside or refused."""
    bb = busybox(api.pyc, fixture_refs)
    api.pyc.ok("create", "--name", "box", bb, "true")
    outside = tmp_path / "escaped"
    depth = "../" * 20
    body = tar_of((f"{depth}{str(outside).lstrip('/')}", b"out"), ("link", str(tmp_path)),
                  ("link/escaped", b"out"))
    status, answer = exchange(api.sock, "PUT", "/v1.41/containers/box/archive?path=/tmp", body,
                              "Content-Type: application/x-tar\r\n")
    assert not outside.exists(), "an archive entry was written outside the container"
    assert status == 200 or (400 <= status < 500 and message(answer)), (status, answer)
    # a path climbing out of the root: refused (400), never the host's file (Docker cleans
    # it lexically to the container's own /etc/passwd; pyc refuses it, see docs/api.md)
    status, answer = exchange(api.sock, "GET",
                              "/v1.41/containers/box/archive?path=/../../../../../etc/passwd")
    assert status == 400 and "climbs out" in message(answer), (status, answer[:200])
    assert getpass.getuser().encode() + b":" not in answer


def test_a_taken_name_is_409_and_changes_nothing(api: Service,
                                                 fixture_refs: dict[str, str]) -> None:
    bb = busybox(api.pyc, fixture_refs)
    api.pyc.ok("create", "--name", "first", bb, "true")
    api.pyc.ok("create", "--name", "second", bb, "true")
    status, answer = exchange(api.sock, "POST", "/v1.41/containers/second/rename?name=first")
    assert status == 409, answer
    assert "first" in message(answer)
    names = api.pyc.ok("ps", "-a", "--format", "{{.Names}}").lines
    assert sorted(names) == ["first", "second"]
    assert exchange(api.sock, "POST", "/v1.41/networks/create", b'{"Name": "n"}')[0] == 201
    status, answer = exchange(api.sock, "POST", "/v1.41/networks/create", b'{"Name": "n"}')
    assert status == 409, answer
    assert api.pyc.ok("network", "ls", "--format", "{{.Name}}").lines.count("n") == 1


@pytest.mark.parametrize("target", [
    "/v1.41/containers/quiet/logs?follow=1&stdout=1&stderr=1",
    "/v1.41/events",
    "/v1.41/containers/quiet/export",
])
def test_a_client_gone_mid_stream_leaks_nothing(api: Service, fixture_refs: dict[str, str],
                                                target: str) -> None:
    bb = busybox(api.pyc, fixture_refs)
    api.pyc.ok("run", "-d", "--name", "quiet", bb, "sleep", "300")
    # warm up: whatever the service loads or caches once is not a leak
    assert exchange(api.sock, "GET", "/v1.41/containers/quiet/logs?stdout=1")[0] == 200
    baseline = at_rest(api.proc.pid)
    s, _ = open_stream(api.sock, target)
    if target.endswith("/export"):
        assert s.recv(512)  # the tar has started flowing
    time.sleep(0.5)
    assert usage(api.proc.pid)[0] > baseline[0], "the stream has no thread serving it"
    s.close()
    settles_to(api.proc.pid, baseline)
    assert exchange(api.sock, "GET", "/_ping")[1].endswith(b"OK")


# --- the idle timeout ---------------------------------------------------------------------


def test_idle_timeout_waits_for_an_open_logs_stream(pyc: Pyc,
                                                    fixture_refs: dict[str, str]) -> None:
    bb = busybox(pyc, fixture_refs)
    pyc.ok("run", "-d", "--name", "silent", bb, "sleep", "300")
    service = start_service(pyc, "--time", "1")
    try:
        s, _ = open_stream(service.sock, "/v1.41/containers/silent/logs?follow=1&stdout=1")
        time.sleep(3.0)
        assert service.proc.poll() is None, "exited while a logs -f stream was open"
        s.close()
        closed = time.monotonic()
        service.proc.wait(10)
        took = time.monotonic() - closed
        assert took < 3.0, f"the service took {took:.1f}s to exit after its last stream closed"
        assert service.proc.returncode == 0
    finally:
        stop_service(service)
