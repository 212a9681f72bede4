"""Where pyc puts its runtime state when XDG_RUNTIME_DIR is missing (after su, sudo, cron).

These tests use the real fallback /tmp/pycontainer-<uid>, not --runroot: that path is the
point. Whatever was there before is moved aside and put back afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.runner import Pyc

NOSUB_USER = os.environ.get("PYC_TEST_NOSUB_USER", "pycnosub")
SUDO_NOSUB = ["sudo", "-n", "-u", NOSUB_USER, "--"]


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        if path.stat().st_uid == os.getuid():
            shutil.rmtree(path)
        else:
            subprocess.run([*SUDO_NOSUB, "rm", "-rf", str(path)], check=True)


@pytest.fixture
def fallback_dir() -> Iterator[Path]:
    """The real /tmp/pycontainer-<uid>, empty for the test and restored after it."""
    path = Path(f"/tmp/pycontainer-{os.getuid()}")
    aside = path.with_name(f"{path.name}.aside-{os.getpid()}")
    had = os.path.lexists(path)
    if had:
        path.rename(aside)
    try:
        yield path
    finally:
        if os.path.lexists(path):
            _remove(path)
        if had:
            aside.rename(path)


def no_runroot_env(pyc: Pyc, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in pyc.env.items() if k not in ("PYC_RUNROOT", "XDG_RUNTIME_DIR")}
    env.update(extra)
    return env


def run_without_runroot(pyc: Pyc, *args: str,
                        env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*pyc.exe, "--root", str(pyc.root), *args], env=env,
                          capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)


def test_info_uses_a_private_tmp_dir_when_xdg_runtime_dir_is_unset(
        pyc: Pyc, fallback_dir: Path) -> None:
    res = run_without_runroot(pyc, "info", "--format", "json", env=no_runroot_env(pyc))
    assert res.returncode == 0, res.stderr
    store = json.loads(res.stdout)["store"]
    assert store["runRoot"] == str(fallback_dir)
    assert "XDG_RUNTIME_DIR is unset" in store["runRootReason"]
    st = os.lstat(fallback_dir)
    assert stat.S_ISDIR(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o700
    assert st.st_uid == os.getuid()


def test_info_tightens_a_loose_fallback_dir_of_our_own(pyc: Pyc, fallback_dir: Path) -> None:
    fallback_dir.mkdir(mode=0o755)
    os.chmod(fallback_dir, 0o755)
    res = run_without_runroot(pyc, "info", "--format", "json", env=no_runroot_env(pyc))
    assert res.returncode == 0, res.stderr
    assert stat.S_IMODE(os.lstat(fallback_dir).st_mode) == 0o700


def test_info_refuses_a_symlink_at_the_fallback(pyc: Pyc, fallback_dir: Path,
                                                tmp_path: Path) -> None:
    target = tmp_path / "planted"
    target.mkdir()
    fallback_dir.symlink_to(target)
    res = run_without_runroot(pyc, "info", env=no_runroot_env(pyc))
    assert res.returncode == 125, res.stdout + res.stderr
    assert "symbolic link" in res.stderr
    assert str(fallback_dir) in res.stderr
    assert list(target.iterdir()) == [], "pyc wrote through the planted symlink"
    assert "Traceback" not in res.stderr


def test_info_refuses_a_fallback_dir_owned_by_someone_else(pyc: Pyc,
                                                           fallback_dir: Path) -> None:
    made = subprocess.run([*SUDO_NOSUB, "mkdir", "-m", "0777", str(fallback_dir)],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.fail(f"cannot create {fallback_dir} as {NOSUB_USER}: {made.stderr}")
    other_uid = fallback_dir.stat().st_uid
    assert other_uid != os.getuid()
    res = run_without_runroot(pyc, "info", env=no_runroot_env(pyc))
    assert res.returncode == 125, res.stdout + res.stderr
    assert f"belongs to uid {other_uid}" in res.stderr
    assert "Traceback" not in res.stderr
    # and pyc left nothing of its own in the other user's directory
    assert list(fallback_dir.iterdir()) == []


def test_system_check_fails_on_a_foreign_fallback_dir(pyc: Pyc, fallback_dir: Path) -> None:
    subprocess.run([*SUDO_NOSUB, "mkdir", "-m", "0755", str(fallback_dir)], check=True)
    res = run_without_runroot(pyc, "system", "check", env=no_runroot_env(pyc))
    assert res.returncode != 0
    line = next((ln for ln in res.stdout.splitlines() if "runtime dir" in ln), "")
    assert line.startswith("FAIL"), res.stdout


def test_info_uses_xdg_runtime_dir_when_it_is_ours(pyc: Pyc, fallback_dir: Path,
                                                   tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    xdg.mkdir(mode=0o700)
    res = run_without_runroot(pyc, "info", "--format", "json",
                              env=no_runroot_env(pyc, XDG_RUNTIME_DIR=str(xdg)))
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["store"]["runRoot"] == str(xdg / "pycontainer")
    assert (xdg / "pycontainer").is_dir()
    assert not os.path.lexists(fallback_dir)


def test_info_falls_back_when_xdg_runtime_dir_is_not_ours(pyc: Pyc,
                                                          fallback_dir: Path) -> None:
    # /run belongs to root: an XDG_RUNTIME_DIR inherited across `su` looks like this
    res = run_without_runroot(pyc, "info", "--format", "json",
                              env=no_runroot_env(pyc, XDG_RUNTIME_DIR="/run"))
    assert res.returncode == 0, res.stderr
    store = json.loads(res.stdout)["store"]
    assert store["runRoot"] == str(fallback_dir)
    assert "belongs to another user" in store["runRootReason"]


def test_root_and_runroot_options_override_everything(pyc: Pyc) -> None:
    res = pyc.ok("info", "--format", "json",
                 env={"XDG_RUNTIME_DIR": "/nonexistent", "XDG_DATA_HOME": "/nonexistent"})
    store = json.loads(res.out)["store"]
    assert store["graphRoot"] == str(pyc.root)
    assert store["runRoot"] == str(pyc.runroot)
    assert stat.S_IMODE(os.stat(pyc.runroot).st_mode) == 0o700
