"""`pyc compose up/down/ps/logs/run` as the unprivileged user with the local fixture images: a
three-service project (a busybox httpd publishing a port, a db with a healthcheck and a named
volume, a worker built from a local Dockerfile), recreation, scaling, name resolution on the
project network, an attached up's exit code, external resources, a dependency cycle, and the
zipapp."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.runner import DEBIAN_USER_PATH, Pyc, Result

BB = "127.0.0.1:5000/fixtures/busybox:latest"
REPO = Path(__file__).resolve().parents[2]


def compose(pyc: Pyc, cwd: Path, *args: str, timeout: float = 120) -> Result:
    proc = subprocess.run(pyc.argv("compose", *args), cwd=cwd, env=pyc.env, text=True,
                          capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def ok(pyc: Pyc, cwd: Path, *args: str, timeout: float = 120) -> Result:
    res = compose(pyc, cwd, *args, timeout=timeout)
    assert res.rc == 0, f"compose {' '.join(args)}: rc {res.rc}\n{res.out}\n{res.err}"
    return res


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def project(d: Path, port: int, worker_mode: str = "one") -> None:
    (d / "worker").mkdir(exist_ok=True)
    (d / "www").mkdir(exist_ok=True)
    (d / "www" / "index.html").write_text("hello from web\n")
    (d / "worker" / "Dockerfile").write_text(
        f"FROM {BB} AS worker\nARG GREETING=none\nLABEL greeting=$GREETING\n"
        "CMD [\"sh\", \"-c\", \"echo worker $MODE; exec sleep 3600\"]\n"
        f"FROM {BB} AS other\nLABEL stage=other\n")
    (d / "compose.yaml").write_text(f"""
name: proj
services:
  web:
    image: {BB}
    command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
    ports: ["127.0.0.1:{port}:8080"]
    volumes: ["./www:/www:ro"]
    init: true
    depends_on:
      db: {{condition: service_healthy}}
  db:
    image: {BB}
    command: ["sh", "-c", "echo db starting; sleep 2; touch /data/ready; exec sleep 3600"]
    init: true
    volumes: ["data:/data"]
    healthcheck:
      test: ["CMD", "test", "-f", "/data/ready"]
      interval: 1s
      retries: 10
    networks:
      default:
        aliases: [database]
  worker:
    build:
      context: ./worker
      target: worker
      args: {{GREETING: hi}}
      labels: {{built.by: compose}}
    init: true
    volumes: ["/cache"]
    environment:
      MODE: {worker_mode}
    depends_on:
      db: {{condition: service_healthy}}
volumes:
  data: {{}}
""")


def ps_json(pyc: Pyc, d: Path, *args: str) -> list[dict[str, Any]]:
    out = ok(pyc, d, "ps", "--format", "json", *args).out
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def ids(pyc: Pyc, d: Path) -> dict[str, str]:
    return {row["Name"]: row["ID"] for row in ps_json(pyc, d, "-a")}


def test_three_service_project(pyc: Pyc, tmp_path: Path) -> None:
    d = tmp_path / "proj"
    d.mkdir()
    port = free_port()
    project(d, port)
    pyc.ok("volume", "create", "unrelated")
    pyc.ok("pull", "-q", BB)
    pyc.ok("create", "--name", "bystander", BB, "true")

    ok(pyc, d, "up", "-d", "--wait", timeout=300)
    db = json.loads(pyc.ok("inspect", "proj-db-1").out)[0]
    assert db["State"]["Health"]["Status"] == "healthy"  # --wait returned only then
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=10) as r:
        assert r.read() == b"hello from web\n"

    rows = {r["Service"]: r for r in ps_json(pyc, d)}
    assert sorted(rows) == ["db", "web", "worker"]
    assert {r["State"] for r in rows.values()} == {"running"}
    assert rows["web"]["Name"] == "proj-web-1" and rows["web"]["Project"] == "proj"
    assert {"URL": "127.0.0.1", "TargetPort": 8080, "PublishedPort": port,
            "Protocol": "tcp"} in rows["web"]["Publishers"]
    assert rows["db"]["Health"] == "healthy" and rows["worker"]["Image"] == "proj-worker"
    built = json.loads(pyc.ok("image", "inspect", "proj-worker").out)[0]["Config"]["Labels"]
    assert (built["greeting"], built["built.by"]) == ("hi", "compose")  # args, labels
    assert "stage" not in built  # the target stage, not the last one
    labels = json.loads(pyc.ok("inspect", "proj-worker-1").out)[0]["Config"]["Labels"]
    assert labels["com.docker.compose.project"] == "proj"
    assert labels["com.docker.compose.service"] == "worker"
    assert labels["com.docker.compose.container-number"] == "1"
    assert labels["com.docker.compose.oneoff"] == "False"
    assert labels["com.docker.compose.depends_on"] == "db:service_healthy:false"
    assert len(labels["com.docker.compose.config-hash"]) == 64

    logs = ok(pyc, d, "logs", "--no-color").out.splitlines()
    assert any(line.startswith("db-1") and line.endswith("| db starting") for line in logs)
    assert any(line.startswith("worker-1") and line.endswith("| worker one") for line in logs)
    assert ok(pyc, d, "logs", "--no-log-prefix", "worker").out == "worker one\n"

    before = ids(pyc, d)
    ok(pyc, d, "up", "-d")
    assert ids(pyc, d) == before  # nothing changed: nothing recreated

    pyc.ok("exec", "proj-worker-1", "sh", "-c", "echo kept > /cache/f")
    project(d, port, worker_mode="two")
    ok(pyc, d, "up", "-d")
    # recreated, with its anonymous volume's data (Compose reuses it)
    assert pyc.ok("exec", "proj-worker-1", "cat", "/cache/f").out == "kept\n"
    after = ids(pyc, d)
    assert after["proj-db-1"] == before["proj-db-1"]
    assert after["proj-web-1"] == before["proj-web-1"]
    assert after["proj-worker-1"] != before["proj-worker-1"]

    ok(pyc, d, "up", "-d", "--scale", "worker=3")
    workers = sorted(r["Name"] for r in ps_json(pyc, d, "worker"))
    assert workers == ["proj-worker-1", "proj-worker-2", "proj-worker-3"]
    ok(pyc, d, "up", "-d", "--scale", "worker=2")
    workers = sorted(r["Name"] for r in ps_json(pyc, d, "-a", "worker"))
    assert workers == ["proj-worker-1", "proj-worker-2"]

    # the service name and the alias resolve on the project network
    res = ok(pyc, d, "run", "--rm", "worker", "sh", "-c",
             "echo mode=$MODE; nslookup database; nslookup web; ping -c1 -W2 db")
    assert "mode=two" in res.out
    db_ip = db["NetworkSettings"]["Networks"]["proj_default"]["IPAddress"]
    assert f"Address: {db_ip}" in res.out
    assert "1 packets received" in res.out
    assert compose(pyc, d, "run", "--rm", "--no-deps", "worker", "sh", "-c", "exit 3").rc == 3
    names = pyc.ok("ps", "-a", "--format", "{{.Names}}").out.split()
    assert not [n for n in names if "-run-" in n]  # --rm removed the one-off containers

    ok(pyc, d, "down", "-v", "-t", "1")
    assert pyc.ok("ps", "-a", "--format", "{{.Names}}").out.split() == ["bystander"]
    assert "proj_default" not in pyc.ok("network", "ls", "--format", "{{.Name}}").out
    assert pyc.ok("volume", "ls", "-q").out.split() == ["unrelated"]


def test_attached_exit_code_externals_and_cycle(pyc: Pyc, tmp_path: Path) -> None:
    d = tmp_path / "att"
    d.mkdir()
    (d / "compose.yaml").write_text(f"""
services:
  app:
    image: {BB}
    command: ["sh", "-c", "echo app up; exec sleep 60"]
    init: true
    networks: [outside]
    volumes: ["shared:/shared"]
  worker:
    image: {BB}
    command: ["sh", "-c", "echo working; sleep 1; exit 7"]
networks:
  outside:
    external: true
    name: extnet
volumes:
  shared:
    external: true
    name: extvol
""")
    res = compose(pyc, d, "up", "-d")
    assert res.rc == 1 and "network extnet declared as external, but could not be found" \
        in res.err
    pyc.ok("network", "create", "extnet")
    pyc.ok("volume", "create", "extvol")

    res = compose(pyc, d, "up", "--abort-on-container-exit", "--exit-code-from", "worker",
                  "-t", "1", timeout=180)
    assert res.rc == 7, res.err
    lines = res.out.splitlines()
    assert any(line.startswith("app-1") and line.endswith("| app up") for line in lines)
    assert any(line.startswith("worker-1") and line.endswith("| working") for line in lines)
    assert "worker-1 exited with code 7" in lines
    app = json.loads(pyc.ok("inspect", "att-app-1").out)[0]
    assert app["State"]["Running"] is False  # the abort stopped it
    assert list(app["NetworkSettings"]["Networks"]) == ["extnet"]
    assert "att_outside" not in pyc.ok("network", "ls", "--format", "{{.Name}}").out

    ok(pyc, d, "down", "-v", "-t", "1")
    assert pyc.ok("ps", "-aq").out == ""
    assert "extnet" in pyc.ok("network", "ls", "--format", "{{.Name}}").out.split()
    assert pyc.ok("volume", "ls", "-q").out.split() == ["extvol"]

    sick = tmp_path / "sick"
    sick.mkdir()
    (sick / "compose.yaml").write_text(f"""
services:
  db:
    image: {BB}
    command: ["sleep", "60"]
    init: true
    healthcheck: {{test: ["CMD", "false"], interval: 1s, retries: 1}}
  app:
    image: {BB}
    command: ["sleep", "60"]
    depends_on: {{db: {{condition: service_healthy}}}}
""")
    res = compose(pyc, sick, "up", "-d")
    assert res.rc == 1 and "container sick-db-1 is unhealthy" in res.err, res.err
    assert [r["Service"] for r in ps_json(pyc, sick, "-a")] == ["db"]  # app never started
    ok(pyc, sick, "down", "-t", "1")

    (d / "compose.yaml").write_text(f"""
services:
  a: {{image: {BB}, depends_on: [b]}}
  b: {{image: {BB}, depends_on: [a]}}
""")
    res = compose(pyc, d, "up", "-d")
    assert res.rc == 1 and "dependency cycle detected" in res.err
    assert pyc.ok("ps", "-aq").out == ""

    # a key pyc cannot honour is refused by name before anything is made
    (d / "compose.yaml").write_text(f"""
services:
  ok: {{image: {BB}, command: ["true"]}}
  bad: {{image: {BB}, deploy: {{restart_policy: {{condition: any}}}}}}
""")
    res = compose(pyc, d, "up", "-d")
    assert res.rc == 1 and "deploy.restart_policy is not supported by pyc" in res.err
    assert pyc.ok("ps", "-aq").out == ""
    assert "att_default" not in pyc.ok("network", "ls", "--format", "{{.Name}}").out


@pytest.fixture(scope="module")
def pyz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    built = os.environ.get("PYC_TEST_ZIPAPP")
    if built and Path(built).is_file():
        return Path(built)
    out = tmp_path_factory.mktemp("zipapp") / "pyc.pyz"
    subprocess.run([sys.executable, str(REPO / "packaging" / "zipapp" / "build.py"),
                    "--out", str(out)], check=True, capture_output=True, timeout=600)
    return out


def test_zipapp_compose_up_down(pyc: Pyc, pyz: Path, tmp_path: Path) -> None:
    d = tmp_path / "zip"
    d.mkdir()
    (d / "compose.yaml").write_text(f"""
services:
  one:
    image: {BB}
    command: ["sleep", "60"]
    init: true
""")
    env = {"PATH": DEBIAN_USER_PATH, "HOME": str(tmp_path / "home"), "LANG": "C.UTF-8"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["/usr/bin/python3", "-S", str(pyz), "--root", str(pyc.root),
                               "--runroot", str(pyc.runroot), "compose", *args], cwd=d,
                              env=env, capture_output=True, text=True, timeout=180,
                              stdin=subprocess.DEVNULL)

    up = run("up", "-d")
    assert up.returncode == 0, up.stderr
    state = pyc.ok("ps", "--format", "{{.Names}} {{.State}}").out.split()
    assert state == ["zip-one-1", "running"]
    down = run("down", "-t", "1")
    assert down.returncode == 0, down.stderr
    assert pyc.ok("ps", "-aq").out == ""
    assert "zip_default" not in pyc.ok("network", "ls", "--format", "{{.Name}}").out


def test_lifecycle_verbs_and_completed_dependency(pyc: Pyc, tmp_path: Path) -> None:
    d = tmp_path / "life"
    d.mkdir()
    (d / "compose.yaml").write_text(f"""
services:
  a:
    image: {BB}
    command: ["sleep", "60"]
    init: true
  job:
    image: {BB}
    command: ["sh", "-c", "echo job done"]
  b:
    image: {BB}
    command: ["sleep", "60"]
    init: true
    depends_on:
      a: {{condition: service_started}}
      job: {{condition: service_completed_successfully}}
""")
    ok(pyc, d, "up", "-d")
    states = {r["Service"]: (r["State"], r["ExitCode"]) for r in ps_json(pyc, d, "-a")}
    assert states == {"a": ("running", 0), "b": ("running", 0), "job": ("exited", 0)}
    assert ok(pyc, d, "ps", "--services").out.split() == ["a", "b"]
    job_id = ps_json(pyc, d, "-a", "job")[0]["ID"]
    assert ok(pyc, d, "ps", "-q", "--status", "exited").out.strip().startswith(job_id)
    assert ok(pyc, d, "logs", "-t", "--tail", "1", "job").out.split("|", 1)[1].split()[1:] \
        == ["job", "done"]

    ok(pyc, d, "pause", "a")
    assert [r["Service"] for r in ps_json(pyc, d, "--filter", "status=paused")] == ["a"]
    ok(pyc, d, "unpause", "a")
    ok(pyc, d, "stop", "-t", "1")
    assert {r["State"] for r in ps_json(pyc, d, "-a")} == {"exited"}
    ok(pyc, d, "start")
    assert sorted(r["Service"] for r in ps_json(pyc, d)) == ["a", "b"]
    ok(pyc, d, "kill", "-s", "KILL", "b")
    b = ps_json(pyc, d, "-a", "b")[0]
    assert (b["State"], b["ExitCode"]) == ("exited", 137)
    ok(pyc, d, "rm", "-f", "b")
    assert sorted(r["Service"] for r in ps_json(pyc, d, "-a")) == ["a", "job"]

    name = ok(pyc, d, "run", "-d", "--no-deps", "--name", "adhoc", "a").out.strip()
    assert name == "adhoc"
    labels = json.loads(pyc.ok("inspect", "adhoc").out)[0]["Config"]["Labels"]
    assert labels["com.docker.compose.oneoff"] == "True"
    # without a compose file, -p NAME: the project as its containers' labels describe it
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    rows = ok(pyc, elsewhere, "-p", "life", "ps", "-a", "--format", "json").out.splitlines()
    assert sorted(json.loads(r)["Service"] for r in rows) == ["a", "job"]
    ok(pyc, elsewhere, "-p", "life", "down", "-t", "1")
    assert pyc.ok("ps", "-aq").out == ""
    assert "life_default" not in pyc.ok("network", "ls", "--format", "{{.Name}}").out


def test_ctrl_c_stops_an_attached_up(pyc: Pyc, tmp_path: Path) -> None:
    import signal
    import time

    d = tmp_path / "ctrlc"
    d.mkdir()
    (d / "compose.yaml").write_text(f"""
services:
  app:
    image: {BB}
    command: ["sh", "-c", "echo app up; exec sleep 60"]
    init: true
""")
    proc = subprocess.Popen(pyc.argv("compose", "up", "-t", "2"), cwd=d, env=pyc.env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert proc.stdout is not None
    first = ""
    deadline = time.monotonic() + 60
    while "app up" not in first and time.monotonic() < deadline:
        first += proc.stdout.readline()
    assert "app-1  | app up" in first
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Gracefully stopping..." in out
    row = ps_json(pyc, d, "-a")[0]
    assert row["State"] == "exited"  # stopped, not left running
    ok(pyc, d, "down")
