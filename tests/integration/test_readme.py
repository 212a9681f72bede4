"""The README's first set-up command works as written (all but the apt-get line, which the
harness has already done): install pyc into a fresh venv from a copy of the source tree, make
an image from the host's busybox with `pyc import`, and run a container from it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def readme_install_command() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Install and run a container", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "README has no install command block"
    return block.group(1)


def without_apt(command: str) -> str:
    lines = command.replace("\\\n", " ").split("&&")
    kept = [part.strip() for part in lines if "apt-get" not in part]
    return " && ".join(kept)


def test_readme_install_command_runs_a_container(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", "dist", "build", "*.egg-info", "__pycache__", ".pytest_cache", ".mypy_cache"))
    home = tmp_path / "home"
    home.mkdir()
    bb = tmp_path / "bb"
    command = without_apt(readme_install_command()).replace("/tmp/bb", str(bb))
    assert "pyc run --rm busybox echo hello" in command
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "PYC_ROOT": str(tmp_path / "root"),
           "PYC_RUNROOT": f"/tmp/pyct-readme-{os.getpid()}"}
    try:
        proc = subprocess.run(["bash", "-c", f"set -e; {command}"], cwd=src, env=env,
                              capture_output=True, text=True, timeout=600)
    finally:
        subprocess.run(["bash", "-c", f"{home}/.local/pyc/bin/pyc unshare rm -rf "
                        f"{tmp_path / 'root'} {env['PYC_RUNROOT']}"], env=env,
                       capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.splitlines()[-1] == "hello"
