"""Acceptance with the clients programs use: testcontainers 4 (a container waited for by a
log line and reached through its published port) and Debian's docker-compose 1.29 (up of a
two-service project with a network and a named volume, ps, logs, down -v leaving nothing)."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from pathlib import Path

import docker
import pytest

from .conftest import Service

COMPOSE = "/usr/bin/docker-compose"


@pytest.fixture
def bb(api: Service, fixture_refs: dict[str, str]) -> str:
    ref = fixture_refs["busybox"]
    api.pyc.ok("pull", "-q", ref)
    return ref


def test_testcontainers_container_with_an_exposed_port(api: Service, bb: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", api.url)
    monkeypatch.setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
    from testcontainers.core.config import ConnectionMode, testcontainers_config
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.waiting_utils import wait_for_logs

    # this host has a /.dockerenv, which makes testcontainers look for a gateway: the
    # service's ports are published on this host, so its own address is the one to use
    monkeypatch.setattr(testcontainers_config, "_ryuk_disabled", True)
    monkeypatch.setattr(testcontainers_config, "tc_host_override", "127.0.0.1")
    monkeypatch.setattr(testcontainers_config, "connection_mode_override",
                        ConnectionMode.docker_host)

    container = DockerContainer(bb).with_exposed_ports(80).with_command(
        ["sh", "-c", "echo serving; exec httpd -f -p 80 -h /etc"])
    with container:
        wait_for_logs(container, "serving", timeout=30)
        host = container.get_container_host_ip()
        port = container.get_exposed_port(80)
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(f"http://{host}:{port}/passwd", timeout=5) as r:
                    assert b"root:" in r.read()
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    deadline = time.monotonic() + 10
    while api.pyc.ok("ps", "-aq").out.strip() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert api.pyc.ok("ps", "-aq").out.strip() == ""


COMPOSE_FILE = """\
version: "3.7"
services:
  web:
    image: {image}
    command: ["sh", "-c", "echo web up; echo hello > /data/f; exec httpd -f -p 80 -h /data"]
    volumes: ["store:/data"]
    networks: [back]
  probe:
    image: {image}
    command: ["sh", "-c", "echo probe up; exec sleep 600"]
    networks: [back]
networks:
  back: {{}}
volumes:
  store: {{}}
"""


def _compose(env: dict[str, str], project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    res = subprocess.run([COMPOSE, "-p", "pj", *args], cwd=project, env=env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, (args, res.stdout, res.stderr)
    return res


def test_docker_compose_up_ps_logs_down(api: Service, bb: str, tmp_path: Path) -> None:
    if not os.access(COMPOSE, os.X_OK):
        pytest.fail("Debian's docker-compose is not installed: scripts/test installs it",
                    pytrace=False)
    (tmp_path / "docker-compose.yml").write_text(COMPOSE_FILE.format(image=bb))
    env = {**os.environ, "DOCKER_HOST": api.url, "COMPOSE_DOCKER_CLI_BUILD": "0",
           "DOCKER_CONFIG": str(tmp_path)}
    _compose(env, tmp_path, "up", "-d")
    ps = _compose(env, tmp_path, "ps").stdout
    assert "pj_web_1" in ps and "pj_probe_1" in ps and ps.count(" Up ") == 2, ps
    deadline = time.monotonic() + 10
    while True:
        logs = _compose(env, tmp_path, "logs", "--no-color").stdout
        if ("web up" in logs and "probe up" in logs) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert "web up" in logs and "probe up" in logs, logs
    # the network resolves the other service by name
    got = api.pyc.ok("exec", "pj_probe_1", "wget", "-qO-", "http://web/f").out
    assert got == "hello\n"
    _compose(env, tmp_path, "down", "-v")
    assert api.pyc.ok("ps", "-aq").out.strip() == ""
    assert "pj_" not in api.pyc.ok("network", "ls").out
    assert "pj_" not in api.pyc.ok("volume", "ls").out


# What testcontainers' Ryuk does: a container that has the API socket bind-mounted talks to
# the service from inside (perl-base's IO::Socket::UNIX is in the Debian fixture).
REAPER = r"""
use IO::Socket::UNIX;
sub call {
    my ($method, $path) = @_;
    my $s = IO::Socket::UNIX->new(Peer => "/var/run/docker.sock") or die "connect: $!";
    print $s "$method $path HTTP/1.0\r\nHost: docker\r\n\r\n";
    local $/; my $reply = <$s>; return $reply;
}
my $list = call("GET", '/v1.41/containers/json?filters={"label":["reap=yes"]}');
$list =~ m{^HTTP/1\.[01] 200} or die "list: $list";
my @ids = $list =~ /"Id":"([0-9a-f]{64})"/g;
print scalar(@ids), " to reap\n";
for my $id (@ids) {
    my $r = call("DELETE", "/v1.41/containers/$id?force=1");
    $r =~ m{^HTTP/1\.[01] 204} or die "delete $id: $r";
}
"""


def test_a_container_with_the_socket_bind_mounted_uses_the_api(
        api: Service, bb: str, fixture_refs: dict[str, str]) -> None:
    debian = fixture_refs["debian"]
    client = docker.DockerClient(base_url=api.url)
    victim = client.containers.run(bb, "sleep 600", detach=True, labels={"reap": "yes"})
    keep = client.containers.run(bb, "sleep 600", detach=True)
    out = client.containers.run(debian, ["perl", "-e", REAPER], remove=True,
                                volumes={str(api.sock): {"bind": "/var/run/docker.sock",
                                                         "mode": "rw"}})
    assert out == b"1 to reap\n"
    ids = api.pyc.ok("ps", "-aq", "--no-trunc").out.split()
    assert victim.id not in ids and keep.id in ids
