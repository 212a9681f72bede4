"""Fixtures for the Engine API tests: a real `pyc system service` and the real clients.

    api        (function) a service on a unix socket for the test's own `pyc` store:
                          api.sock (path), api.url ("unix://..."), api.pyc (the Pyc runner
                          of the same store), api.proc; stopped (SIGTERM) at teardown
    dockers    (session)  the docker CLIs to test with: Debian's 20.10 (/usr/bin/docker)
                          and a newer one in /usr/local/bin when there is one
    docker_env (function) an environment for a docker CLI talking to `api`
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers.runner import Pyc

DOCKER_CLIS = ("/usr/bin/docker", "/usr/local/bin/docker")


@dataclass
class Service:
    sock: Path
    pyc: Pyc
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"unix://{self.sock}"


def wait_for_socket(path: Path, proc: subprocess.Popen[bytes] | None = None,
                    timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise AssertionError(f"the service exited with {proc.returncode}: {err}")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(str(path))
            return
        except OSError:
            time.sleep(0.05)
        finally:
            s.close()
    raise AssertionError(f"nothing answered on {path} within {timeout}s")


def start_service(pyc: Pyc, *args: str, sock: Path | None = None) -> Service:
    sock = sock or pyc.runroot / "api.sock"
    proc = subprocess.Popen(pyc.argv("system", "service", *args, f"unix://{sock}"),
                            env=pyc.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    wait_for_socket(sock, proc)
    return Service(sock, pyc, proc)


def stop_service(service: Service) -> None:
    if service.proc.poll() is None:
        service.proc.send_signal(signal.SIGTERM)
        try:
            service.proc.wait(10)
        except subprocess.TimeoutExpired:
            service.proc.kill()
            service.proc.wait()


@pytest.fixture
def api(pyc: Pyc) -> Iterator[Service]:
    service = start_service(pyc, "--time", "0")
    yield service
    stop_service(service)


@pytest.fixture(scope="session")
def dockers() -> list[str]:
    found = [p for p in DOCKER_CLIS if os.access(p, os.X_OK)]
    if DOCKER_CLIS[0] not in found:
        pytest.fail("Debian's docker CLI (docker.io) is not installed: scripts/test installs it",
                    pytrace=False)
    return found


@pytest.fixture
def docker_env(api: Service, tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "docker-config"
    config.mkdir()
    return {**os.environ, "DOCKER_HOST": api.url, "DOCKER_CONFIG": str(config),
            "DOCKER_BUILDKIT": "0"}
