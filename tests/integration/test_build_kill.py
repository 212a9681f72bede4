"""SIGKILL of `pyc build` during a RUN step leaves nothing running and nothing behind: the
step's container, its mounts and the build's scratch directory go with it (Podman 4.3
leaves the RUN's process running)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time

import pytest


def _pids_running(argv: list[str]) -> list[int]:
    want = "\0".join(argv).encode() + b"\0"
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                if f.read() != want:
                    continue
            with open(f"/proc/{name}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    continue
        except OSError:
            continue
        found.append(int(name))
    return found


def _until(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@pytest.mark.parametrize("network", ["default", "none"])
def test_sigkill_of_build_during_run_kills_the_step(pyc, fixture_refs, tmp_path, network):
    pyc.ok("pull", "-q", fixture_refs["busybox"])
    sleeper = ["sleep", str(random.randrange(100_000, 999_999))]  # ours alone on this host
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(f"FROM {fixture_refs['busybox']}\n"
                                    f"RUN --network={network} {' '.join(sleeper)}\n")
    build = subprocess.Popen(pyc.argv("build", "-t", "killed", str(ctx)), env=pyc.env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        assert _until(lambda: _pids_running(sleeper), 60), "the RUN step never started"
        os.kill(build.pid, signal.SIGKILL)
        assert build.wait(10) == -signal.SIGKILL
    finally:
        if build.poll() is None:
            build.kill()
            build.wait()
    assert _until(lambda: not _pids_running(sleeper), 5), \
        f"the RUN step's process outlived the build: {_pids_running(sleeper)}"
    scratch = pyc.root / "build"
    assert _until(lambda: not any(p.name.startswith("tmp-") for p in scratch.iterdir()), 5), \
        f"the build left its scratch space: {list(scratch.iterdir())}"
    with open("/proc/self/mountinfo") as f:
        assert str(pyc.root) not in f.read()
    assert pyc("image", "inspect", "killed").rc != 0
