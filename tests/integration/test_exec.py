"""`pyc exec`: same namespaces as the container, exit codes, options."""

from __future__ import annotations

import os
import select
import struct
import time

import pytest


@pytest.fixture(scope="module")
def ctr(shared_pyc, fixture_refs):
    shared_pyc.ok("pull", "-q", fixture_refs["busybox"])
    cid = shared_pyc.ok("run", "-d", "--name", "ex", "-e", "BASE=1", "-w", "/tmp",
                        fixture_refs["busybox"], "sleep", "300").out.strip()
    yield cid
    shared_pyc("rm", "-f", cid)


def test_exec_sees_the_container_pid_namespace(shared_pyc, ctr):
    res = shared_pyc.ok("exec", "ex", "cat", "/proc/1/cmdline")
    assert res.out.split("\0")[:2] == ["sleep", "300"]


def test_exec_exit_codes(shared_pyc, ctr):
    assert shared_pyc("exec", "ex", "sh", "-c", "exit 9").rc == 9
    assert shared_pyc("exec", "ex", "nosuchcommand").rc == 127
    assert shared_pyc("exec", "ex", "/etc").rc == 126


def test_exec_env_workdir_user(shared_pyc, ctr):
    res = shared_pyc.ok("exec", "-e", "X=2", "-u", "1000", "ex", "sh", "-c",
                        'echo "$BASE $X"; pwd; id -u; hostname')
    assert res.lines[:3] == ["1 2", "/tmp", "1000"]
    assert shared_pyc.ok("exec", "-w", "/etc", "ex", "pwd").out == "/etc\n"


def test_exec_stdin(shared_pyc, ctr):
    assert shared_pyc.ok("exec", "-i", "ex", "cat", input="abc").out == "abc"


def test_exec_detached(shared_pyc, ctr):
    shared_pyc.ok("exec", "-d", "ex", "sh", "-c", "echo bg > /tmp/bg")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if shared_pyc("exec", "ex", "cat", "/tmp/bg").out == "bg\n":
            return
        time.sleep(0.1)
    pytest.fail("the detached exec did not run")


def test_exec_tty(shared_pyc, ctr):
    pid, fd = os.forkpty()
    if pid == 0:  # pragma: no cover
        os.execvpe(shared_pyc.argv()[0], shared_pyc.argv("exec", "-it", "ex", "sh"),
                   shared_pyc.env)
    import fcntl
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
    os.write(fd, b"stty size; tty; exit 3\n")
    out = b""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            out += data
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 3
    assert b"40 100" in out and b"/dev/pts/" in out


def test_exec_in_a_stopped_container_fails(shared_pyc, fixture_refs):
    shared_pyc.ok("create", "--name", "notrunning", fixture_refs["busybox"], "true")
    res = shared_pyc.fail("exec", "notrunning", "true", rc=125)
    assert "is not running" in res.err
    shared_pyc.ok("rm", "notrunning")
