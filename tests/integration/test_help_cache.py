"""`pyc ... --help` a second time prints what typer printed the first time, from the user's
cache (cli/helpcache.py), and only while it is still typer's text."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.runner import Pyc

HELPS = [["--help"], ["run", "--help"], ["network", "--help"], ["network", "ls", "--help"],
         ["image", "inspect", "--help"], ["logs", "--help"]]


def _env(cache: Path, columns: int = 90) -> dict[str, str]:
    return {"XDG_CACHE_HOME": str(cache), "COLUMNS": str(columns)}


def _help_file(cache: Path) -> Path:
    found = list((cache / "pycontainer").glob("help-*.bin"))
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("args", HELPS, ids=" ".join)
def test_the_second_help_is_the_first(pyc: Pyc, tmp_path: Path, args: list[str]) -> None:
    uncached = pyc.ok(*args, env={**_env(tmp_path), "PYC_NO_CODE_CACHE": "1"}).out
    assert "Usage: pyc" in uncached
    assert not (tmp_path / "pycontainer").exists()  # off: nothing kept
    first = pyc.ok(*args, env=_env(tmp_path)).out
    stored = _help_file(tmp_path).stat().st_mtime_ns
    second = pyc.ok(*args, env=_env(tmp_path)).out
    assert first == second == uncached
    assert _help_file(tmp_path).stat().st_mtime_ns == stored  # printed from the cache


def test_another_width_is_typers_text_for_it(pyc: Pyc, tmp_path: Path) -> None:
    pyc.ok("pull", "--help", env=_env(tmp_path, 100))
    narrow = pyc.ok("pull", "--help", env=_env(tmp_path, 50)).out
    assert narrow == pyc.ok("pull", "--help",
                            env={**_env(tmp_path, 50), "PYC_NO_CODE_CACHE": "1"}).out
    assert narrow != pyc.ok("pull", "--help", env=_env(tmp_path, 100)).out


def test_a_damaged_or_foreign_cache_is_not_used(pyc: Pyc, tmp_path: Path) -> None:
    want = pyc.ok("ps", "--help", env=_env(tmp_path)).out
    path = _help_file(tmp_path)
    path.write_bytes(b"\x00garbage")
    assert pyc.ok("ps", "--help", env=_env(tmp_path)).out == want
    pyc.ok("ps", "--help", env=_env(tmp_path))
    path.chmod(0o666)  # others could have written it
    assert pyc.ok("ps", "--help", env=_env(tmp_path)).out == want


def test_not_a_help_request_is_not_cached(pyc: Pyc, tmp_path: Path) -> None:
    res = pyc("no-such-command", "--help", env=_env(tmp_path))
    assert res.rc != 0
    pyc.ok("version", env=_env(tmp_path))
    assert not list((tmp_path / "pycontainer").glob("help-*.bin"))


def test_a_containers_own_help_is_never_kept(pyc: Pyc, tmp_path: Path,
                                             fixture_refs: dict[str, str]) -> None:
    image = fixture_refs["busybox"]
    pyc.ok("pull", "-q", image)
    first = pyc("run", "--rm", image, "--help", env=_env(tmp_path))
    second = pyc("run", "--rm", image, "--help", env=_env(tmp_path))
    assert first.rc == second.rc != 0  # the container ran `--help`, both times
    assert not list((tmp_path / "pycontainer").glob("help-*.bin"))
