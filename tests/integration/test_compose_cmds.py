"""`pyc compose` commands on an existing project as the user: exec, top, port, images, cp,
events, ls, version, wait, pull, push. The project's containers are made as any Compose
implementation makes them: `pyc run` with Compose's labels, beside the project's file."""

from __future__ import annotations

import json
import os
import secrets
import select
import subprocess
import time
from pathlib import Path

from helpers import registry as reg
from helpers.runner import Pyc, Result

COMPOSE = """
services:
  web:
    image: {bb}
  job:
    image: {bb}
  built:
    build: .
    image: {built}
  missing:
    image: {registry}/pyctest/no-such-image:1
"""


def compose(pyc: Pyc, cwd: Path, *args: str, timeout: float = 60) -> Result:
    proc = subprocess.run(pyc.argv("compose", *args), cwd=cwd, env=pyc.env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def ok(pyc: Pyc, cwd: Path, *args: str) -> Result:
    res = compose(pyc, cwd, *args)
    assert res.rc == 0, (args, res)
    return res


def member(pyc: Pyc, proj: Path, service: str, n: int, *cmd: str, opts: tuple[str, ...] = ()
           ) -> str:
    labels = {"project": proj.name, "service": service, "container-number": str(n),
              "oneoff": "False", "config-hash": "x" * 64,
              "project.config_files": str(proj / "compose.yaml"),
              "project.working_dir": str(proj)}
    flags = [f"--label=com.docker.compose.{k}={v}" for k, v in labels.items()]
    return pyc.ok("run", "-d", "--name", f"{proj.name}-{service}-{n}", *flags, *opts,
                  *cmd).out.strip()


def test_commands_on_a_project(pyc: Pyc, tmp_path: Path, fixture_refs: dict[str, str],
                               registry: str) -> None:
    bb = fixture_refs["busybox"]
    proj = tmp_path / "proj"
    proj.mkdir()
    built = f"{registry}/pyctest/compose-built-{secrets.token_hex(3)}:t1"
    (proj / "compose.yaml").write_text(COMPOSE.format(bb=bb, built=built, registry=registry))
    (proj / "Dockerfile").write_text(f"FROM {bb}\n")
    events = subprocess.Popen(pyc.argv("compose", "events", "--json"), cwd=proj, env=pyc.env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        web1 = member(pyc, proj, "web", 1, bb, "sleep", "300", opts=("-e", "N=1", "-p", "8080"))
        member(pyc, proj, "web", 2, bb, "sleep", "300", opts=("-e", "N=2"))
        job = member(pyc, proj, "job", 1, bb, "sh", "-c",
                     "while [ ! -f /tmp/go ]; do sleep 0.1; done; exit 3")
        _exec(pyc, proj)
        _top_port_images(pyc, proj, bb, web1)
        _cp(pyc, proj)
        _ls_and_wait(pyc, proj, job)
    finally:
        events.terminate()
        out, _ = events.communicate(timeout=30)
    seen = [json.loads(line) for line in out.splitlines() if line.strip()]
    starts = [e for e in seen if e["action"] == "start" and e["id"] == job]
    assert starts and starts[0]["service"] == "job" and starts[0]["type"] == "container"
    assert starts[0]["attributes"]["name"] == "proj-job-1"
    assert not any(k.startswith("com.docker.compose.") for k in starts[0]["attributes"])
    assert any(e["action"] == "die" and e["id"] == job for e in seen)
    _pull_push(pyc, proj, bb, built, registry)
    _wait_down_project(pyc, proj)


def _exec(pyc: Pyc, proj: Path) -> None:
    res = ok(pyc, proj, "exec", "-e", "FOO=bar", "-w", "/tmp", "-u", "1000", "web",
             "sh", "-c", "echo $FOO; pwd; id -u; echo $N")
    assert res.out.split() == ["bar", "/tmp", "1000", "1"]
    assert ok(pyc, proj, "exec", "--index", "2", "-T", "web", "sh", "-c", "echo $N").out == "2\n"
    assert compose(pyc, proj, "exec", "web", "sh", "-c", "exit 7").rc == 7
    res = compose(pyc, proj, "exec", "--index", "5", "web", "true")
    assert res.rc == 1 and 'service "web" is not running container #5' in res.err
    res = compose(pyc, proj, "exec", "built", "true")
    assert res.rc == 1 and 'service "built" is not running' in res.err
    assert ok(pyc, proj, "exec", "-d", "web", "touch", "/tmp/detached").out == ""
    # a pty of the exec's own sets TERM (Docker's); without one the command gets pyc's stdio
    probe = ("sh", "-c", "echo ${TERM:-no-tty}")
    assert _on_terminal(pyc, proj, "exec", "web", *probe) == "xterm"
    assert _on_terminal(pyc, proj, "exec", "-T", "web", *probe) == "no-tty"
    assert ok(pyc, proj, "exec", "web", *probe).out == "no-tty\n"  # not on a terminal
    deadline = time.monotonic() + 10
    while compose(pyc, proj, "exec", "web", "test", "-f", "/tmp/detached").rc != 0:
        assert time.monotonic() < deadline, "exec -d never ran its command"
        time.sleep(0.2)


def _on_terminal(pyc: Pyc, proj: Path, *args: str) -> str:
    """`pyc compose ARGS` with a pty as stdin, stdout and stderr: what it printed."""
    master, slave = os.openpty()
    proc = subprocess.Popen(pyc.argv("compose", *args), cwd=proj, env=pyc.env, stdin=slave,
                            stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    out, deadline = b"", time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            if select.select([master], [], [], 1)[0]:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: every writer has closed the pty
                    break
                if not chunk:
                    break
                out += chunk
            elif proc.poll() is not None:
                break
        assert proc.wait(timeout=10) == 0, out
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return out.decode().strip()


def _top_port_images(pyc: Pyc, proj: Path, bb: str, web1: str) -> None:
    top = ok(pyc, proj, "top", "web").out
    blocks = top.split("\n\n")
    assert [b.splitlines()[0] for b in blocks if b.strip()] == ["proj-web-1", "proj-web-2"]
    assert blocks[0].splitlines()[1].split()[:2] == ["UID", "PID"]
    assert "sleep 300" in blocks[0]
    expected = pyc.ok("port", web1, "8080/tcp").out.splitlines()[0]
    assert ok(pyc, proj, "port", "web", "8080").out == expected + "\n"
    res = compose(pyc, proj, "port", "web", "81")
    assert res.rc == 1 and "no port 81/tcp for container proj-web-1: " in res.err
    image_id = pyc.ok("image", "inspect", "-f", "{{.Id}}", bb).out.strip()
    rows = ok(pyc, proj, "images").out.splitlines()
    assert rows[0].split() == ["CONTAINER", "REPOSITORY", "TAG", "IMAGE", "ID", "SIZE"]
    repo, tag = bb.rsplit(":", 1)
    assert [r.split()[:4] for r in rows[1:]] == [
        [name, repo, tag, image_id.removeprefix("sha256:")[:12]]
        for name in ("proj-job-1", "proj-web-1", "proj-web-2")]
    assert ok(pyc, proj, "images", "-q").out == image_id.removeprefix("sha256:") + "\n"
    listed = json.loads(ok(pyc, proj, "images", "--format", "json", "web").out)
    assert [(i["ContainerName"], i["ID"]) for i in listed] == [
        ("proj-web-1", image_id), ("proj-web-2", image_id)]


def _cp(pyc: Pyc, proj: Path) -> None:
    (proj / "in.txt").write_text("to every web\n")
    ok(pyc, proj, "cp", "in.txt", "web:/tmp/in.txt")
    for index in ("1", "2"):  # every container of the service gets it
        assert ok(pyc, proj, "exec", "--index", index, "web", "cat", "/tmp/in.txt").out == \
            "to every web\n"
    ok(pyc, proj, "exec", "--index", "2", "web", "sh", "-c", "echo two > /tmp/which")
    ok(pyc, proj, "exec", "web", "sh", "-c", "echo one > /tmp/which")
    ok(pyc, proj, "cp", "web:/tmp/which", str(proj / "first.txt"))
    assert (proj / "first.txt").read_text() == "one\n"
    ok(pyc, proj, "cp", "--index", "2", "web:/tmp/which", str(proj / "second.txt"))
    assert (proj / "second.txt").read_text() == "two\n"
    res = compose(pyc, proj, "cp", "--all", "web:/tmp/which", "x")
    assert res.rc == 1 and "cannot use the --all flag when copying from a service" in res.err


def _ls_and_wait(pyc: Pyc, proj: Path, job: str) -> None:
    files = str(proj / "compose.yaml")
    assert ok(pyc, proj, "ls").out.splitlines()[1].split() == ["proj", "running(3)", files]
    waiting = subprocess.Popen(pyc.argv("compose", "wait", "job"), cwd=proj, env=pyc.env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1)
    ok(pyc, proj, "exec", "job", "touch", "/tmp/go")
    out, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 3, err
    assert out == f'container "{job}" exited with status code 3\n'
    assert json.loads(ok(pyc, proj, "ls", "--format", "json").out) == [
        {"Name": "proj", "Status": "running(2)", "ConfigFiles": files}]
    assert ok(pyc, proj, "ls", "-a", "-q").out == "proj\n"
    assert ok(pyc, proj, "ls", "-a").out.splitlines()[1].split()[:3] == \
        ["proj", "exited(1),", "running(2)"]
    assert ok(pyc, proj, "ls", "--filter", "name=other").out.splitlines()[1:] == []
    res = compose(pyc, proj, "ls", "--filter", "status=running")
    assert res.rc == 1 and "invalid filter 'status'" in res.err
    assert ok(pyc, proj, "version", "--short").out.strip().count(".") == 2


def _pull_push(pyc: Pyc, proj: Path, bb: str, built: str, registry: str) -> None:
    res = ok(pyc, proj, "pull", "web")
    assert " web Pulling \n" in res.err and " web Pulled \n" in res.err
    res = compose(pyc, proj, "pull", "missing")
    assert res.rc != 0 and " missing Error \n" in res.err
    res = ok(pyc, proj, "pull", "--ignore-pull-failures", "-q", "missing", "web")
    assert res.err == ""
    res = compose(pyc, proj, "pull", "built")  # buildable: a warning, still a failure
    assert res.rc != 0 and " built Warning \n" in res.err
    assert "must be built from source by running:\n    docker compose build built" in res.err
    pyc.ok("tag", bb, built)
    res = ok(pyc, proj, "push")
    assert " web Skipped \n" in res.err and f" {built} Pushed \n" in res.err
    _, repo, tag = reg.split_ref(built)
    assert reg.manifest(registry, repo, tag) is not None
    assert " built Pulled \n" in ok(pyc, proj, "pull", "built").err


def _wait_down_project(pyc: Pyc, proj: Path) -> None:
    pyc.ok("network", "create", "--label", "com.docker.compose.project=proj", "proj_default")
    pyc.ok("network", "create", "other")
    waiting = subprocess.Popen(pyc.argv("compose", "wait", "--down-project", "web"), cwd=proj,
                               env=pyc.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    time.sleep(1)
    pyc.ok("kill", "proj-web-1", "proj-web-2")
    out, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 137, err
    assert out.count("exited with status code 137") == 2
    assert pyc.ok("ps", "-aq").out == ""  # the exited job container went too
    names = pyc.ok("network", "ls", "--format", "{{.Name}}").out.split()
    assert "proj_default" not in names and "other" in names
