"""The dataclass code cache: hits give the same classes, bad or foreign files are ignored."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pycontainer import dccache


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(dccache, "_codes", {})
    monkeypatch.setattr(dccache, "_new", {})
    monkeypatch.setattr(dccache, "_path", "")
    yield
    if "exec" in vars(dataclasses):
        del dataclasses.exec  # type: ignore[attr-defined]


def make_point() -> type:
    @dataclasses.dataclass(frozen=True)
    class Point:
        x: int
        y: int = 2
        tags: tuple[str, ...] = dataclasses.field(default_factory=tuple)

    return Point


def restart(path: Path) -> None:
    """What a new process sees: nothing in memory, the file on disk."""
    dccache._codes.clear()
    dccache._new.clear()
    dccache.install(str(path))


def test_a_second_process_compiles_nothing_and_gets_the_same_class(fresh: None,
                                                                   tmp_path: Path) -> None:
    path = tmp_path / "cache" / "dc.bin"
    dccache.install(str(path))
    make_point()
    assert dccache._new, "the first process compiles"
    dccache.save()
    assert path.is_file() and not dccache._new
    assert os.stat(path.parent).st_mode & 0o777 == 0o700
    restart(path)
    point = make_point()
    assert dccache._new == {}
    p = point(1)
    assert (p.x, p.y, p.tags) == (1, 2, ())
    assert p == point(1, 2, ()) and p != point(1, 3)
    assert repr(p) == "make_point.<locals>.Point(x=1, y=2, tags=())"
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 5  # type: ignore[misc]
    assert hash(p) == hash(point(1, 2, ()))


def test_a_corrupt_cache_is_compiled_around_and_replaced(fresh: None, tmp_path: Path) -> None:
    path = tmp_path / "dc.bin"
    path.write_bytes(b"\x00garbage")
    path.chmod(0o600)
    tmp_path.chmod(0o700)
    dccache.install(str(path))
    assert make_point()(5).x == 5
    assert dccache._new
    dccache.save()
    restart(path)
    make_point()
    assert dccache._new == {}


def test_a_cache_others_may_write_is_not_loaded(fresh: None, tmp_path: Path) -> None:
    path = tmp_path / "dc.bin"
    tmp_path.chmod(0o700)
    dccache.install(str(path))
    make_point()
    dccache.save()
    path.chmod(0o666)
    restart(path)
    make_point()
    assert dccache._new, "a group/other-writable file must not be trusted"


def test_past_the_limit_the_cache_starts_over(fresh: None, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "dc.bin"
    tmp_path.chmod(0o700)
    dccache.install(str(path))
    dccache._codes.update({f"stale {i}": compile("pass", "<s>", "exec") for i in range(10)})
    monkeypatch.setattr(dccache, "MAX_ENTRIES", 12)
    make_point()
    dccache.save()
    restart(path)
    assert not any(k.startswith("stale") for k in dccache._codes)
    make_point()
    assert dccache._new == {}


def test_the_cache_lives_under_xdg_cache_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", "/somewhere")
    assert dccache.cache_file().startswith("/somewhere/pycontainer/dataclasses-")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")
    assert dccache.cache_file().startswith(os.path.expanduser("~/.cache/pycontainer/"))
