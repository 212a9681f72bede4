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


#: numbered lines in bursts (the replay and the live stream must meet inside a burst), each
#: line written in two pieces (the log holds a partial line back until its newline: the
#: MARK must hand that piece over live)
BURSTS, BURST = 250, 40
COUNTER = (f"j=0; while [ $j -lt {BURSTS} ]; do k=0; while [ $k -lt {BURST} ]; do "
           "printf '%s' $j.$k; printf ' x\\n'; k=$((k+1)); done; j=$((j+1)); sleep 0.01; "
           "done")
EXPECTED = [f"{j}.{k} x" for j in range(BURSTS) for k in range(BURST)]
COUNT = len(EXPECTED)


def _lines(chunks: object) -> list[str]:
    data = chunks if isinstance(chunks, bytes) else b"".join(chunks)  # type: ignore[arg-type]
    return data.decode().splitlines()


def test_attach_logs_replays_then_streams_without_gap_or_repeat(api: Service,
                                                                bb: str) -> None:
    import threading
    import time

    client = docker.DockerClient(base_url=api.url)
    c = client.containers.run(bb, ["sh", "-c", COUNTER], detach=True)
    results: dict[float, list[str]] = {}

    def attach_at(delay: float) -> None:
        time.sleep(delay)
        results[delay] = _lines(c.attach(logs=True, stream=True, stdout=True, stderr=True))

    threads = [threading.Thread(target=attach_at, args=(d,)) for d in (0.3, 0.9, 1.5)]
    for t in threads:
        t.start()
    time.sleep(0.6)
    # logs=1&stream=0 while it runs: the log so far, and the stream ends at once
    begin = time.monotonic()
    so_far = _lines(c.attach(logs=True, stream=False, stdout=True, stderr=True))
    assert time.monotonic() - begin < 2
    assert 0 < len(so_far) < COUNT and so_far == EXPECTED[:len(so_far)]
    for t in threads:
        t.join(60)
    assert c.wait()["StatusCode"] == 0
    for delay, got in sorted(results.items()):
        assert got == EXPECTED, (delay, len(got))
    # stopped: the whole log; stderr alone: nothing of stdout
    assert _lines(c.attach(logs=True, stream=False, stdout=True, stderr=True)) == EXPECTED
    assert c.attach(logs=True, stream=False, stdout=False, stderr=True) == b""
    c.remove()


def test_attach_logs_before_a_start_gets_the_old_log_then_the_new_run(
        api: Service, bb: str, dockers: list[str], docker_env: dict[str, str]) -> None:
    client = docker.DockerClient(base_url=api.url)
    c = client.containers.create(bb, ["sh", "-c", "echo run; echo err >&2"])
    c.start()
    assert c.wait()["StatusCode"] == 0
    stream = c.attach(logs=True, stream=True, stdout=True, stderr=False)
    c.start()
    assert _lines(stream) == ["run", "run"]
    # the docker CLI's `start -a` asks for no logs: the new run's output, once
    res = dock(dockers[0], docker_env, "start", "-a", c.id)
    assert (res.stdout, res.stderr) == ("run\n", "err\n")
    assert _lines(c.logs(stdout=True, stderr=False)) == ["run", "run", "run"]
    c.remove()
