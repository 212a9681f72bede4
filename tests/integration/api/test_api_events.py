"""`GET /events`: docker-py following while the CLI starts a container; the docker CLI's
`events --since --until --filter`; a follower whose client leaves does not keep the
service busy."""

from __future__ import annotations

import subprocess
import threading
import time

import docker

from .conftest import Service, start_service, stop_service
from .test_api_containers import dock


def test_docker_py_follows_events_while_a_container_runs(api: Service,
                                                         fixture_refs: dict[str, str]) -> None:
    bb = fixture_refs["busybox"]
    api.pyc.ok("pull", "-q", bb)
    client = docker.DockerClient(base_url=api.url)
    seen: list[dict[str, object]] = []
    stream = client.events(decode=True, filters={"type": "container"})

    def collect() -> None:
        for event in stream:
            seen.append(event)
            if event.get("Action") == "destroy":
                return

    reader = threading.Thread(target=collect, daemon=True)
    reader.start()
    time.sleep(0.5)
    assert api.pyc("run", "--rm", "--name", "evt", bb, "sh", "-c", "exit 3").rc == 3
    reader.join(20)
    stream.close()
    actions = [e["Action"] for e in seen]
    assert actions == ["create", "attach", "start", "die", "destroy"], seen
    die = seen[3]
    assert die["Type"] == "container" and die["status"] == "die" and die["from"] == bb
    assert die["Actor"]["Attributes"]["exitCode"] == "3"  # type: ignore[index]
    assert die["Actor"]["Attributes"]["name"] == "evt"  # type: ignore[index]
    assert isinstance(die["timeNano"], int) and die["time"] == die["timeNano"] // 10**9


def test_docker_cli_events_window_and_filters(api: Service, fixture_refs: dict[str, str],
                                              dockers: list[str],
                                              docker_env: dict[str, str]) -> None:
    bb = fixture_refs["busybox"]
    api.pyc.ok("pull", "-q", bb)
    assert api.pyc("run", "--rm", bb, "sh", "-c", "exit 5").rc == 5
    # the docker CLI sends `--until 0s` as now in whole seconds (timetypes.GetTimestamp), so
    # what happened in the current second comes after it, as with dockerd
    time.sleep(1.1)
    for cli in dockers:
        out = dock(cli, docker_env, "events", "--since", "1m", "--until", "0s",
                   "--filter", "type=container", "--filter", "event=die",
                   "--format", "{{.Actor.Attributes.exitCode}}").stdout
        assert out.split() == ["5"], (cli, out)
        out = dock(cli, docker_env, "events", "--since", "1m", "--until", "0s",
                   "--filter", "type=image").stdout
        assert " image pull " in out, (cli, out)


def test_a_follower_that_leaves_lets_the_service_go_idle(pyc) -> None:
    service = start_service(pyc, "--time", "1")
    try:
        env_sock = str(service.sock)
        proc = subprocess.Popen(["curl", "-sN", "--unix-socket", env_sock, "http://d/events"],
                                stdout=subprocess.PIPE)
        time.sleep(2.0)
        assert service.proc.poll() is None, "the service exited while a follower was there"
        proc.kill()
        proc.wait()
        service.proc.wait(10)
        assert service.proc.returncode == 0
    finally:
        stop_service(service)
