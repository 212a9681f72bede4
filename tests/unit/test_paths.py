"""pycontainer.paths: which directories pyc picks, and the private-directory rules.

Pure logic against the environment and a temporary directory; the real /tmp fallback, other
users' directories and the CLI are covered in tests/integration/test_paths.py.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from pycontainer import paths
from pycontainer.errors import HostError

UID = os.getuid()
# As root pyc is rootful (/var/lib/pycontainer, /run/pycontainer); these cases are the user's.
user_mode = pytest.mark.skipif(UID == 0, reason="root gets the rootful paths")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for var in ("PYC_ROOT", "PYC_RUNROOT", "XDG_RUNTIME_DIR", "XDG_DATA_HOME",
                "XDG_CONFIG_HOME"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


@pytest.mark.parametrize("args, env, want_data, want_run", [
    (("/a/root", "/a/run"), {}, "/a/root", "/a/run"),
    ((None, None), {"PYC_ROOT": "/e/root", "PYC_RUNROOT": "/e/run"}, "/e/root", "/e/run"),
    (("/a/root", None), {"PYC_ROOT": "/e/root", "PYC_RUNROOT": "/e/run"}, "/a/root", "/e/run"),
    ((None, "/a/run"), {"PYC_ROOT": "", "PYC_RUNROOT": "/e/run"}, None, "/a/run"),
], ids=["options", "environment", "option-beats-environment", "empty-env-ignored"])
@user_mode
def test_resolve_overrides(clean_env: pytest.MonkeyPatch, tmp_path: Path,
                           args: tuple[str | None, str | None], env: dict[str, str],
                           want_data: str | None, want_run: str) -> None:
    clean_env.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    for key, value in env.items():
        clean_env.setenv(key, value)
    p = paths.resolve(*args)
    assert p.data == Path(want_data or tmp_path / "data" / "pycontainer")
    assert p.runtime == Path(want_run)
    assert p.runtime_reason == "set by --runroot/PYC_RUNROOT"


def test_relative_overrides_become_absolute(clean_env: pytest.MonkeyPatch, tmp_path: Path,
                                            ) -> None:
    clean_env.chdir(tmp_path)
    p = paths.resolve("r", "rr")
    assert p.data == tmp_path / "r"
    assert p.runtime == tmp_path / "rr"


def test_state_subdirectories_hang_off_data_and_runtime() -> None:
    p = paths.Paths(data=Path("/d"), runtime=Path("/r"), config=Path("/c"))
    assert (p.images, p.containers, p.volumes) == (Path("/d/images"), Path("/d/containers"),
                                                   Path("/d/volumes"))
    assert p.run_containers == Path("/r/containers")


def test_xdg_data_and_config_homes_are_used(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("XDG_DATA_HOME", "/xd")
    clean_env.setenv("XDG_CONFIG_HOME", "/xc")
    p = paths.resolve(None, "/run-here")
    if UID == 0:
        assert (p.data, p.config) == (Path("/var/lib/pycontainer"), Path("/etc/pycontainer"))
    else:
        assert (p.data, p.config) == (Path("/xd/pycontainer"), Path("/xc/pycontainer"))


def test_relative_xdg_data_home_is_ignored(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("XDG_DATA_HOME", "relative/dir")
    p = paths.resolve(None, "/r")
    assert p.data.is_absolute()
    assert "relative/dir" not in str(p.data)


def test_runtime_dir_for_root_is_under_run() -> None:
    assert paths.runtime_dir(0) == (Path("/run/pycontainer"), "root")


def test_rootful_paths(clean_env: pytest.MonkeyPatch) -> None:
    assert paths.runtime_dir(0) == (Path("/run/pycontainer"), "root")
    assert paths._data_dir(0) == Path("/var/lib/pycontainer")


def test_runtime_dir_falls_back_to_tmp_without_xdg(clean_env: pytest.MonkeyPatch) -> None:
    where, why = paths.runtime_dir(4242)
    assert where == Path("/tmp/pycontainer-4242")
    assert "unset" in why


@user_mode
def test_runtime_dir_uses_our_xdg_runtime_dir(clean_env: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    clean_env.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert paths.runtime_dir(UID) == (tmp_path / "pycontainer", "XDG_RUNTIME_DIR")


@pytest.mark.parametrize("make, problem", [
    (lambda p: p / "missing", "does not exist"),
    (lambda p: p, "belongs to another user"),
], ids=["missing", "other-owner"])
@user_mode
def test_runtime_dir_falls_back_when_xdg_runtime_dir_is_unusable(
        clean_env: pytest.MonkeyPatch, tmp_path: Path, make: Callable[[Path], Path],
        problem: str) -> None:
    xdg = make(tmp_path)
    clean_env.setenv("XDG_RUNTIME_DIR", str(xdg))
    # uid + 1 does not own tmp_path, which is how a directory inherited over `su` looks
    uid = UID + 1 if problem == "belongs to another user" else UID
    where, why = paths.runtime_dir(uid)
    assert where == Path(f"/tmp/pycontainer-{uid}")
    assert problem in why and str(xdg) in why


def test_ensure_private_dir_creates_0700_with_parents(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "run"
    assert paths.ensure_private_dir(target) == target
    st = os.lstat(target)
    assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o700


def test_ensure_private_dir_tightens_an_existing_dir(tmp_path: Path) -> None:
    target = tmp_path / "run"
    target.mkdir()
    os.chmod(target, 0o775)
    paths.ensure_private_dir(target)
    assert stat.S_IMODE(os.lstat(target).st_mode) == 0o700


def test_ensure_private_dir_refuses_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    link = tmp_path / "run"
    link.symlink_to(real)
    with pytest.raises(HostError, match="symbolic link"):
        paths.ensure_private_dir(link)


def test_ensure_private_dir_refuses_a_dangling_symlink(tmp_path: Path) -> None:
    link = tmp_path / "run"
    link.symlink_to(tmp_path / "nowhere")
    with pytest.raises(HostError, match="symbolic link"):
        paths.ensure_private_dir(link)
    assert not (tmp_path / "nowhere").exists(), "followed the symlink and created its target"


def test_ensure_private_dir_refuses_a_file(tmp_path: Path) -> None:
    target = tmp_path / "run"
    target.write_text("")
    with pytest.raises(HostError, match="not a directory"):
        paths.ensure_private_dir(target)


def test_refusals_are_host_errors_with_exit_125(tmp_path: Path) -> None:
    link = tmp_path / "run"
    link.symlink_to(tmp_path)
    with pytest.raises(HostError) as info:
        paths.ensure_private_dir(link)
    assert info.value.exit_code == 125
