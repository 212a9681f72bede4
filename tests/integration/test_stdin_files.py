"""`run -i` / `exec -i` with a stdin epoll cannot watch (/dev/null, a regular file):
Docker reads those to EOF like any other stdin."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest


def _run(pyc, args: list[str], stdin_path: str) -> subprocess.CompletedProcess[str]:
    with open(stdin_path, "rb") as stdin:
        return subprocess.run(pyc.argv(*args), stdin=stdin, capture_output=True, text=True,
                              timeout=60, env=pyc.env)


@pytest.fixture(scope="module")
def image(shared_pyc, fixture_refs) -> str:
    shared_pyc.ok("pull", "-q", fixture_refs["busybox"])
    return fixture_refs["busybox"]


@pytest.fixture(scope="module")
def ctr(shared_pyc, image):
    shared_pyc.ok("run", "-d", "--name", "stdinfiles", image, "sleep", "300")
    yield "stdinfiles"
    shared_pyc("rm", "-f", "stdinfiles")


def test_run_i_dev_null_sees_eof(shared_pyc, image):
    res = _run(shared_pyc, ["run", "--rm", "-i", image, "sh", "-c", "cat; echo done $?"],
               "/dev/null")
    assert (res.returncode, res.stdout) == (0, "done 0\n"), res.stderr


def test_run_i_regular_file_is_forwarded(shared_pyc, image, tmp_path: Path):
    data = "".join(f"line {i}\n" for i in range(500))
    src = tmp_path / "input.txt"
    src.write_text(data)
    res = _run(shared_pyc, ["run", "--rm", "-i", image, "cat"], str(src))
    assert res.returncode == 0, res.stderr
    assert res.stdout == data


def test_run_i_file_exit_code_kept(shared_pyc, image, tmp_path: Path):
    src = tmp_path / "input.txt"
    src.write_text("exit 7\n")
    res = _run(shared_pyc, ["run", "--rm", "-i", image, "sh"], str(src))
    assert res.returncode == 7, res.stderr


def test_exec_i_regular_file(shared_pyc, ctr, tmp_path: Path):
    src = tmp_path / "input.txt"
    src.write_text("from a file\n")
    res = _run(shared_pyc, ["exec", "-i", ctr, "cat"], str(src))
    assert (res.returncode, res.stdout) == (0, "from a file\n"), res.stderr
    res = _run(shared_pyc, ["exec", "-i", ctr, "sh", "-c", "cat; echo eof"], "/dev/null")
    assert (res.returncode, res.stdout) == (0, "eof\n"), res.stderr
