"""The one helper-program lookup: configured dirs, then PATH, then sbin and Podman's dirs."""

from __future__ import annotations

from pathlib import Path

import pytest

from pycontainer import binaries
from pycontainer.config import parse_engine
from pycontainer.errors import HostError, UsageError


def _exe(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    d = {name: tmp_path / name for name in ("conf", "path1", "path2", "sbin")}
    for p in d.values():
        p.mkdir()
    monkeypatch.setenv("PATH", f"{d['path1']}:{d['path2']}")
    monkeypatch.setattr(binaries, "FALLBACK_DIRS", (str(d["sbin"]),))
    monkeypatch.setattr(binaries, "configured_dirs", lambda: (str(d["conf"]),))
    return d


def test_configured_dirs_come_first_then_path_then_fallbacks(dirs: dict[str, Path]) -> None:
    _exe(dirs["sbin"] / "tool")
    assert binaries.find("tool") == str(dirs["sbin"] / "tool")
    _exe(dirs["path2"] / "tool")
    assert binaries.find("tool") == str(dirs["path2"] / "tool")
    _exe(dirs["conf"] / "tool")
    assert binaries.find("tool") == str(dirs["conf"] / "tool")


def test_a_file_that_is_not_executable_is_passed_over(dirs: dict[str, Path]) -> None:
    (dirs["path1"] / "tool").write_text("data\n")
    _exe(dirs["sbin"] / "tool")
    assert binaries.find("tool") == str(dirs["sbin"] / "tool")
    (dirs["path2"] / "sub").mkdir()
    assert binaries.find("sub") is None


def test_an_explicit_path_is_taken_as_it_is(dirs: dict[str, Path]) -> None:
    tool = _exe(dirs["conf"] / "x" / "runc")
    assert binaries.find(str(tool)) == str(tool)
    assert binaries.find(str(dirs["conf"] / "missing")) is None


def test_search_dirs_have_no_duplicates(dirs: dict[str, Path],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{dirs['sbin']}:{dirs['path1']}:{dirs['sbin']}")
    assert binaries.search_dirs() == [str(dirs["conf"]), str(dirs["sbin"]), str(dirs["path1"])]


def test_a_missing_helper_names_where_it_looked_and_the_package(dirs: dict[str, Path]) -> None:
    with pytest.raises(HostError) as exc:
        binaries.require("nft", "user-defined networks")
    assert "nft is not installed (user-defined networks)" in exc.value.message
    assert str(dirs["sbin"]) in exc.value.message
    assert exc.value.hint == "sudo apt-get install nftables"


def test_the_default_fallbacks_are_sbin_then_podmans_helper_dirs() -> None:
    assert binaries.FALLBACK_DIRS == ("/usr/local/sbin", "/usr/sbin", "/sbin",
                                      "/usr/libexec/podman", "/usr/lib/podman")


def test_containers_conf_helper_binaries_dir() -> None:
    conf = parse_engine('[engine]\nhelper_binaries_dir = ["/opt/a", "/opt/b"]\n')
    assert conf.helper_binaries_dir == ("/opt/a", "/opt/b")
    assert parse_engine("").helper_binaries_dir == ()
    for bad in ('"/opt/a"', '["relative"]', "[1]"):
        with pytest.raises(UsageError, match="helper_binaries_dir"):
            parse_engine(f"[engine]\nhelper_binaries_dir = {bad}\n")
