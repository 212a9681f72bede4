"""A container's processes start with every signal at its default and nothing blocked, as
with runc and Podman, whatever pyc itself inherited (`nohup`, a shell's background job)."""

from __future__ import annotations

import shlex
import subprocess

import pytest

STATUS = ["grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"]
ZERO = "0000000000000000"


def _masks(out: str) -> dict[str, str]:
    rows = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    return {k: rows[k].strip() for k in ("SigIgn", "SigBlk") if k in rows}


def _ignoring(pyc, *args: str) -> subprocess.CompletedProcess[str]:
    """pyc started as a shell's background job would be: SIGINT, SIGQUIT, SIGHUP ignored."""
    script = f'trap "" INT QUIT HUP; exec {shlex.join(pyc.argv(*args))}'
    return subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=120,
                          env=pyc.env, stdin=subprocess.DEVNULL)


@pytest.fixture
def image(pyc, fixture_refs):
    pyc.ok("pull", "-q", fixture_refs["busybox"])
    return fixture_refs["busybox"]


def test_run_starts_with_default_signals(pyc, image):
    res = pyc.ok("run", "--rm", image, *STATUS)
    assert _masks(res.out) == {"SigBlk": ZERO, "SigIgn": ZERO}


def test_run_from_a_background_job_starts_with_default_signals(pyc, image):
    res = _ignoring(pyc, "run", "--rm", image, *STATUS)
    assert res.returncode == 0, res.stderr
    assert _masks(res.stdout) == {"SigBlk": ZERO, "SigIgn": ZERO}
    # the detached container's first process too (started by a supervisor of its own)
    res = _ignoring(pyc, "run", "-d", image, "sleep", "60")
    assert res.returncode == 0, res.stderr
    cid = res.stdout.strip()
    status = pyc.ok("exec", cid, "cat", "/proc/1/status").out
    assert _masks(status) == {"SigBlk": ZERO, "SigIgn": ZERO}
    res = _ignoring(pyc, "exec", cid, *STATUS)
    assert res.returncode == 0, res.stderr
    assert _masks(res.stdout) == {"SigBlk": ZERO, "SigIgn": ZERO}
    pyc.ok("rm", "-f", cid)
