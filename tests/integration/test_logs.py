"""`pyc logs`: Docker's json-file log and the reading options."""

from __future__ import annotations

import json
import os
import re
import time

import pytest


@pytest.fixture(scope="module")
def done(shared_pyc, fixture_refs):
    shared_pyc.ok("pull", "-q", fixture_refs["busybox"])
    shared_pyc.ok("run", "--name", "talker", fixture_refs["busybox"], "sh", "-c",
                  "echo one; sleep 0.1; echo err >&2; sleep 0.1; echo two; echo three")
    yield "talker"
    shared_pyc("rm", "-f", "talker")


def test_logs_split_stdout_and_stderr(shared_pyc, done):
    res = shared_pyc.ok("logs", done)
    assert res.out == "one\ntwo\nthree\n"
    assert res.err == "err\n"


def test_logs_tail(shared_pyc, done):
    assert shared_pyc.ok("logs", "--tail", "2", done).lines == ["two", "three"]
    assert shared_pyc.ok("logs", "--tail", "0", done).out == ""


def test_logs_timestamps(shared_pyc, done):
    first = shared_pyc.ok("logs", "-t", done).lines[0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z one", first)


def test_logs_since_and_until(shared_pyc, done):
    assert shared_pyc.ok("logs", "--since", "1h", done).lines == ["one", "two", "three"]
    assert shared_pyc.ok("logs", "--until", "1h", done).out == ""
    future = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    assert shared_pyc.ok("logs", "--since", future, done).out == ""


def test_the_log_file_is_docker_json(shared_pyc, done):
    path = shared_pyc.ok("inspect", "-f", "{{.LogPath}}", done).out.strip()
    with open(path) as f:
        records = [json.loads(line) for line in f]
    assert {"log": "one\n", "stream": "stdout"}.items() <= records[0].items()
    assert any(r["stream"] == "stderr" for r in records)


def test_k8s_file_log_driver(shared_pyc, fixture_refs):
    shared_pyc.ok("run", "--name", "k8s", "--log-driver", "k8s-file", fixture_refs["busybox"],
                  "echo", "hello")
    assert shared_pyc.ok("logs", "k8s").out == "hello\n"
    path = shared_pyc.ok("inspect", "-f", "{{.LogPath}}", "k8s").out.strip()
    with open(path) as f:
        assert re.fullmatch(r"\S+ stdout F hello\n", f.read())
    shared_pyc.ok("rm", "k8s")
    assert not os.path.exists(path)
