"""The store root is made 0700 (created so, or tightened once with a notice), credentials files
0600, and `system check` says whether other users can reach the store.

Other users themselves are in tests/integration/test_store_privacy.py.
"""

from __future__ import annotations

import json
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pycontainer import paths
from pycontainer.ops import system
from pycontainer.registry import auth


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A 0755 dir in /tmp, so that every directory above it lets others search it."""
    d = Path(tempfile.mkdtemp(prefix="pyct-unit-", dir="/tmp"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_a_missing_store_is_created_0700_with_its_parents(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str],
                                                          ) -> None:
    store = tmp_path / "a" / "b" / "store"
    paths.private_store(store)
    assert store.is_dir() and mode(store) == 0o700
    assert capsys.readouterr().err == ""


def test_an_exposed_store_is_tightened_once_with_a_notice(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store"
    (store / "images").mkdir(parents=True)
    store.chmod(0o755)
    paths.private_store(store)
    assert mode(store) == 0o700
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(store) in err and "0755" in err and "0700" in err
    paths.private_store(store)
    assert capsys.readouterr().err == ""


def test_an_empty_open_store_is_tightened_silently(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "store"
    store.mkdir(mode=0o755)
    store.chmod(0o755)  # past the umask
    paths.resolve(str(store), str(tmp_path / "run"))
    assert mode(store) == 0o700
    assert capsys.readouterr().err == ""


def test_check_store_passes_a_private_store(open_dir: Path) -> None:
    store = open_dir / "store"
    paths.private_store(store)
    check = system.check_store(paths.Paths(store, open_dir / "run", open_dir / "cfg"))
    assert check.status == system.PASS, check


def test_check_store_warns_with_the_fix_when_others_can_reach_it(open_dir: Path) -> None:
    store = open_dir / "store"
    store.mkdir()
    store.chmod(0o750)
    check = system.check_store(paths.Paths(store, open_dir / "run", open_dir / "cfg"))
    assert check.status == system.WARN, check
    assert check.fix == f"chmod 700 {store}"


def test_check_store_passes_when_a_parent_blocks_traversal(open_dir: Path) -> None:
    store = open_dir / "home" / "store"
    store.mkdir(parents=True)
    store.chmod(0o755)
    (open_dir / "home").chmod(0o700)
    check = system.check_store(paths.Paths(store, open_dir / "run", open_dir / "cfg"))
    assert check.status == system.PASS, check
    assert str(open_dir / "home") in check.detail


def test_a_readable_credentials_file_is_tightened_on_lookup(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "auth.json"
    file.write_text(json.dumps({"auths": {"reg.example": {"auth": "dXNlcjpwYXNz"}}}))
    file.chmod(0o644)
    creds = auth.lookup("reg.example", file)
    assert creds == auth.Credentials("user", "pass")
    assert mode(file) == 0o600
    assert "credentials file" in capsys.readouterr().err

