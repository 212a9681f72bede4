"""Detached containers: run -d, logs -f, stop, kill, start, restart, wait, create, and the
supervisor outliving the CLI (issue 4 acceptance)."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import time

import pytest


@pytest.fixture(scope="module")
def bb(shared_pyc, fixture_refs) -> str:
    shared_pyc.ok("pull", "-q", fixture_refs["busybox"])
    return fixture_refs["busybox"]


def _pid(pyc, ref: str) -> int:
    return int(pyc.ok("inspect", "-f", "{{.State.Pid}}", ref).out)


def _status(pyc, ref: str) -> str:
    return pyc.ok("ps", "-a", "--filter", f"id={_id(pyc, ref)}", "--format",
                  "{{.Status}}").out.strip()


def _id(pyc, ref: str) -> str:
    return pyc.ok("inspect", "-f", "{{.Id}}", ref).out.strip()


def _wait_for(pred, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


def test_run_detached_prints_the_full_id_at_once(shared_pyc, bb):
    start = time.monotonic()
    res = shared_pyc.ok("run", "-d", bb, "sleep", "60")
    elapsed = time.monotonic() - start
    cid = res.out.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", cid)
    assert elapsed < 5
    assert _status(shared_pyc, cid).startswith("Up ")
    shared_pyc.ok("rm", "-f", cid)


def test_logs_follow_streams_and_ends_with_the_container(shared_pyc, bb):
    cid = shared_pyc.ok("run", "-d", bb, "sh", "-c",
                        "for i in 1 2 3 4 5; do echo line $i; sleep 0.3; done").out.strip()
    proc = subprocess.Popen(shared_pyc.argv("logs", "-f", cid), env=shared_pyc.env,
                            stdout=subprocess.PIPE, text=True)
    first = proc.stdout.readline()  # arrives while the container still runs
    assert first == "line 1\n"
    assert _status(shared_pyc, cid).startswith("Up ")
    rest = proc.stdout.read()
    assert proc.wait(timeout=20) == 0
    assert rest.splitlines()[-1] == "line 5"
    shared_pyc.ok("rm", cid)


def test_stop_returns_within_the_timeout(shared_pyc, bb):
    cid = shared_pyc.ok("run", "-d", bb, "sleep", "60").out.strip()  # PID 1 ignores TERM
    start = time.monotonic()
    shared_pyc.ok("stop", "-t", "1", cid)
    assert time.monotonic() - start < 5
    assert _status(shared_pyc, cid).startswith("Exited (137)")
    shared_pyc.ok("rm", cid)


def test_stop_with_a_handler_exits_cleanly(shared_pyc, bb):
    cid = shared_pyc.ok("run", "-d", bb, "sh", "-c",
                        "trap 'exit 0' TERM; while true; do sleep 0.1; done").out.strip()
    time.sleep(0.3)
    start = time.monotonic()
    shared_pyc.ok("stop", cid)
    assert time.monotonic() - start < 5
    assert shared_pyc.ok("inspect", "-f", "{{.State.ExitCode}}", cid).out.strip() == "0"
    shared_pyc.ok("rm", cid)


def test_kill_gives_exited_137(shared_pyc, bb):
    cid = shared_pyc.ok("run", "-d", bb, "sleep", "60").out.strip()
    shared_pyc.ok("kill", "-s", "KILL", cid)
    assert _wait_for(lambda: _status(shared_pyc, cid).startswith("Exited (137)"))
    assert shared_pyc.ok("wait", cid).out.strip() == "137"
    shared_pyc.ok("rm", cid)


def test_kill_of_a_stopped_container_fails(shared_pyc, bb):
    cid = shared_pyc.ok("run", "-d", bb, "true").out.strip()
    shared_pyc.ok("wait", cid)
    shared_pyc.fail("kill", cid, rc=1)
    shared_pyc.ok("rm", cid)


def test_sigkill_of_the_container_process_is_recorded(shared_pyc, bb):
    cid = shared_pyc.ok("run", "-d", bb, "sleep", "60").out.strip()
    os.kill(_pid(shared_pyc, cid), signal.SIGKILL)
    assert _wait_for(lambda: _status(shared_pyc, cid).startswith("Exited (137)"))
    assert shared_pyc.ok("inspect", "-f", "{{.State.ExitCode}}", cid).out.strip() == "137"
    shared_pyc.ok("rm", cid)


def test_killing_the_cli_leaves_the_container_running(shared_pyc, bb):
    proc = subprocess.Popen(
        shared_pyc.argv("run", "-d", "--name", "orphan", bb, "sh", "-c",
                        "while true; do echo tick; sleep 0.1; done"),
        env=shared_pyc.env, stdout=subprocess.PIPE, text=True)
    cid = proc.stdout.readline().strip()
    proc.kill()
    proc.wait()
    assert re.fullmatch(r"[0-9a-f]{64}", cid)
    log = os.path.join(str(shared_pyc.root), "containers", cid, "userdata", "ctr.log")
    first = os.path.getsize(log) if os.path.exists(log) else 0
    assert _wait_for(lambda: os.path.getsize(log) > first + 100)
    assert _status(shared_pyc, "orphan").startswith("Up ")
    shared_pyc.ok("rm", "-f", "orphan")


def test_create_then_start_and_wait(shared_pyc, bb):
    cid = shared_pyc.ok("create", "--name", "later", bb, "sh", "-c", "echo started; exit 4"
                        ).out.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", cid)
    assert _status(shared_pyc, cid) == "Created"
    assert shared_pyc.ok("inspect", "-f", "{{.State.Status}}", cid).out.strip() == "created"
    shared_pyc.ok("start", "later")
    assert shared_pyc.ok("wait", "later").out.strip() == "4"
    assert shared_pyc.ok("logs", "later").out == "started\n"
    shared_pyc.ok("rm", "later")


def test_start_attach_returns_the_exit_status(shared_pyc, bb):
    shared_pyc.ok("create", "--name", "att", bb, "sh", "-c", "echo out; exit 6")
    res = shared_pyc("start", "-a", "att")
    assert res.rc == 6 and res.out == "out\n"
    shared_pyc.ok("rm", "att")


def test_restart_runs_again(shared_pyc, bb):
    cid = shared_pyc.ok("run", "-d", bb, "sh", "-c", "echo run; sleep 60").out.strip()
    pid1 = _pid(shared_pyc, cid)
    shared_pyc.ok("restart", "-t", "0", cid)
    pid2 = _pid(shared_pyc, cid)
    assert pid1 != pid2 and pid2 > 0
    assert _wait_for(lambda: shared_pyc.ok("logs", cid).out == "run\nrun\n")
    shared_pyc.ok("rm", "-f", cid)


def test_name_conflict_is_125(shared_pyc, bb):
    shared_pyc.ok("create", "--name", "dup", bb, "true")
    res = shared_pyc.fail("create", "--name", "dup", bb, "true", rc=125)
    assert "already in use" in res.err
    shared_pyc.ok("rm", "dup")


def test_rm_of_a_running_container_needs_force(shared_pyc, bb):
    cid = shared_pyc.ok("run", "-d", bb, "sleep", "60").out.strip()
    res = shared_pyc.fail("rm", cid, rc=1)
    assert "cannot remove a running container" in res.err
    shared_pyc.ok("rm", "-f", cid)


def test_rename_and_exists(shared_pyc, bb):
    shared_pyc.ok("create", "--name", "old", bb, "true")
    shared_pyc.ok("rename", "old", "new")
    shared_pyc.fail("container", "exists", "old", rc=1)
    shared_pyc.ok("container", "exists", "new")
    shared_pyc.ok("rm", "new")


def test_top_lists_the_container_processes(shared_pyc, bb):
    cid = shared_pyc.ok("run", "-d", bb, "sleep", "61").out.strip()
    res = shared_pyc.ok("top", cid)
    assert "PID" in res.lines[0] and "sleep 61" in res.out
    shared_pyc.ok("rm", "-f", cid)


def test_detach_keys_leave_the_container_running(shared_pyc, bb):
    pid, fd = os.forkpty()
    if pid == 0:  # pragma: no cover
        os.execvpe(shared_pyc.argv()[0], shared_pyc.argv("run", "-it", "--name", "dk", bb,
                                                         "sh"), shared_pyc.env)
    assert b"# " in _read_until(fd, b"# ", 20)
    os.write(fd, b"\x10\x11")  # ctrl-p ctrl-q
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert _status(shared_pyc, "dk").startswith("Up ")
    shared_pyc.ok("rm", "-f", "dk")


def _read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    out = b""
    deadline = time.monotonic() + timeout
    while needle not in out and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            out += data
    return out


def test_attach_streams_output_and_returns_the_status(shared_pyc, bb):
    cid = shared_pyc.ok("run", "-d", bb, "sh", "-c", "sleep 1; echo later; exit 5").out.strip()
    res = shared_pyc("attach", cid)
    assert res.rc == 5 and res.out == "later\n"
    shared_pyc.ok("rm", cid)


def test_attach_with_stdin(shared_pyc, bb):
    cid = shared_pyc.ok("run", "-d", "-i", bb, "sh", "-c", "read line; echo got $line").out.strip()
    res = shared_pyc("attach", cid, input="hello\n")
    assert res.rc == 0 and res.out == "got hello\n"
    shared_pyc.ok("rm", cid)
