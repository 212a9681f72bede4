"""The zipapp runs containers too: foreground (forked supervisor), detached (the supervisor
re-executed from the extracted zipapp) and --rm's exit command."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.runner import DEBIAN_USER_PATH

REPO = Path(__file__).resolve().parents[2]
SYSTEM_PYTHON = "/usr/bin/python3"


@pytest.fixture(scope="module")
def pyz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    built = os.environ.get("PYC_TEST_ZIPAPP")
    if built and Path(built).is_file():
        return Path(built)
    out = tmp_path_factory.mktemp("zipapp") / "pyc.pyz"
    subprocess.run([sys.executable, str(REPO / "packaging" / "zipapp" / "build.py"),
                    "--out", str(out)], check=True, capture_output=True, timeout=600)
    return out


@pytest.fixture
def zpyc(pyz: Path, pyc, tmp_path: Path):
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": DEBIAN_USER_PATH, "HOME": str(home)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [SYSTEM_PYTHON, "-S", str(pyz), "--root", str(pyc.root), "--runroot",
                str(pyc.runroot), *args]
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)

    return run


def test_zipapp_runs_containers(zpyc, fixture_refs):
    bb = fixture_refs["busybox"]
    assert zpyc("pull", "-q", bb).returncode == 0
    res = zpyc("run", "--rm", bb, "echo", "hi from the zipapp")
    assert (res.returncode, res.stdout) == (0, "hi from the zipapp\n"), res.stderr
    assert zpyc("run", "--rm", bb, "sh", "-c", "exit 3").returncode == 3
    cid = zpyc("run", "-d", bb, "sleep", "60").stdout.strip()
    assert len(cid) == 64
    assert zpyc("exec", cid, "true").returncode == 0
    assert zpyc("rm", "-f", cid).returncode == 0


def test_zipapp_detached_rm_runs_the_exit_command(zpyc, fixture_refs):
    bb = fixture_refs["busybox"]
    assert zpyc("pull", "-q", bb).returncode == 0
    assert zpyc("run", "-d", "--rm", bb, "true").returncode == 0
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and zpyc("ps", "-aq").stdout:
        time.sleep(0.2)
    assert zpyc("ps", "-aq").stdout == ""
