"""`logs --tail N` of a huge log reads from the end: its memory does not grow with the log
(a 220 MB log once took 470 MB), for the live file and for rotated ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

LINE = "a" * 96  # 97 bytes with its newline
LINES = 700_000  # ~68 MB of output, ~117 MB of json-file log
MAX_RSS_KB = 60 * 1024

# run pyc in a fresh process whose only child is pyc: its peak RSS is pyc's
MEASURE = """
import resource, subprocess, sys
res = subprocess.run(sys.argv[1:], capture_output=True)
sys.stdout.write(f"{res.returncode} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}\\n")
sys.stdout.flush()
sys.stdout.buffer.write(res.stdout)
"""


def _logs(pyc, *args: str) -> tuple[int, list[str]]:
    """(peak RSS in KiB, output lines) of `pyc logs ARGS`."""
    res = subprocess.run([sys.executable, "-c", MEASURE, *pyc.argv("logs", *args)],
                         capture_output=True, text=True, timeout=120, env=pyc.env)
    head, _, out = res.stdout.partition("\n")
    rc, rss = map(int, head.split())
    assert rc == 0, res.stderr
    return rss, out.splitlines()


@pytest.fixture
def big(pyc, fixture_refs):
    pyc.ok("pull", "-q", fixture_refs["busybox"])
    script = f"yes {LINE} | head -n {LINES - 1}; echo last-line"
    cid = pyc.ok("run", "-d", fixture_refs["busybox"], "sh", "-c", script).out.strip()
    assert pyc.ok("wait", cid, timeout=300).out.strip() == "0"
    path = pyc.ok("inspect", "-f", "{{.LogPath}}", cid).out.strip()
    assert os.path.getsize(path) > 100 * 1024 * 1024
    return cid, path


def test_tail_of_a_huge_log_reads_from_the_end(pyc, big):
    cid, path = big
    rss, lines = _logs(pyc, "--tail", "1", cid)
    assert lines == ["last-line"]
    assert rss < MAX_RSS_KB, f"logs --tail 1 of a {os.path.getsize(path) >> 20} MB log: {rss} KiB"
    rss, lines = _logs(pyc, "--tail", "3", cid)
    assert lines == [LINE, LINE, "last-line"]
    assert rss < MAX_RSS_KB


def test_tail_reaches_into_a_huge_rotated_file(pyc, big):
    cid, path = big
    # what a rotation leaves: the full file is .log.1, the live one has just begun
    os.rename(path, path + ".1")
    with open(path, "w") as f:
        f.write(json.dumps({"log": "newest\n", "stream": "stdout",
                            "time": "2030-01-01T00:00:00.000000000Z"}) + "\n")
    rss, lines = _logs(pyc, "--tail", "2", cid)
    assert lines == ["last-line", "newest"]
    assert rss < MAX_RSS_KB, f"logs --tail 2 over a rotated log: {rss} KiB"
