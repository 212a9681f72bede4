"""The service's record cache: a value is kept only while its file's stamps are unchanged."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pycontainer.ops import recordcache


def test_a_value_is_rebuilt_when_its_file_changes(tmp_path: Path) -> None:
    f = tmp_path / "config.json"
    f.write_text('{"name": "aaaa"}')
    builds: list[str] = []

    def build() -> str:
        builds.append(f.read_text())
        return f.read_text()

    assert recordcache.cached(str(f), build, str) == '{"name": "aaaa"}'
    assert recordcache.cached(str(f), build, str) == '{"name": "aaaa"}'
    assert len(builds) == 1
    # same size, rewritten in place (same inode): its ctime/mtime stamps differ
    with open(f, "r+") as out:
        out.write('{"name": "bbbb"}')
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    assert recordcache.cached(str(f), build, str) == '{"name": "bbbb"}'
    # replaced by rename, as pyc's records are
    new = tmp_path / "new"
    new.write_text('{"name": "cccc"}')
    os.replace(new, f)
    assert recordcache.cached(str(f), build, str) == '{"name": "cccc"}'
    assert len(builds) == 3


def test_a_removed_file_is_an_error_not_a_cached_value(tmp_path: Path) -> None:
    f = tmp_path / "config.json"
    f.write_text("{}")
    assert recordcache.cached(str(f), lambda: 1, int) == 1
    f.unlink()
    with pytest.raises(FileNotFoundError):
        recordcache.cached(str(f), lambda: 2, int)
