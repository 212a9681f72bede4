"""CPython-private names pyc leans on for speed or memory, each taken away: what uses it still
works (the supervisor's start-up: prctl, accept; the CLI's exit; the dataclass code cache)."""

from __future__ import annotations

import _socket
import atexit
import contextlib
import dataclasses
import os
import sys
import time
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from pycontainer import dccache
from pycontainer.cli import exits
from pycontainer.supervisor import main

PR_SET_CHILD_SUBREAPER = 36


def _orphan_parent() -> tuple[int, int]:
    """A forked child becomes a subreaper with `main._prctl` and orphans a grandchild:
    (the parent the orphan is given, the child's pid); equal when the prctl worked."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            main._prctl(PR_SET_CHILD_SUBREAPER, 1)
            ready_r, ready_w = os.pipe()
            middle = os.fork()
            if middle == 0:
                if os.fork() == 0:  # the grandchild: orphaned once its parent exits
                    first = os.getppid()
                    os.write(ready_w, b"x")
                    deadline = time.monotonic() + 5
                    while os.getppid() == first and time.monotonic() < deadline:
                        time.sleep(0.005)
                    os.write(w, str(os.getppid()).encode())
                    os._exit(0)
                os.read(ready_r, 1)  # exit only once the grandchild knows its parent
                os._exit(0)
            os.waitpid(middle, 0)
            with contextlib.suppress(ChildProcessError):
                os.wait()  # the orphan, if it came to us
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    got = os.read(r, 64)
    os.close(r)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return int(got or b"0"), pid


def test_prctl_without_the_bare_ctypes_names(monkeypatch: pytest.MonkeyPatch) -> None:
    import ctypes  # noqa: F401 - the public module keeps its own reference to _ctypes

    monkeypatch.setitem(sys.modules, "_ctypes", types.ModuleType("_ctypes"))
    parent, child = _orphan_parent()
    assert parent == child  # the orphan went to the subreaper, not to init


def test_prctl_with_them(monkeypatch: pytest.MonkeyPatch) -> None:
    parent, child = _orphan_parent()
    assert parent == child


class _NoPrivateAccept:
    """A listener as the supervisor sees it, minus CPython's private `_accept`."""

    def __init__(self, sock: _socket.socket) -> None:
        self.family, self.type, self._sock = sock.family, sock.type, sock

    def fileno(self) -> int:
        return self._sock.fileno()


@pytest.mark.parametrize("private", [True, False])
def test_accept_with_and_without_the_private_name(tmp_path: Path, private: bool) -> None:
    listener = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    listener.bind(str(tmp_path / "s"))
    listener.listen(1)
    client = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    client.connect(str(tmp_path / "s"))
    conn = main._accept(listener if private else _NoPrivateAccept(listener))  # type: ignore[arg-type]
    client.send(b"hello")
    assert conn.recv(5) == b"hello"
    conn.close()
    client.close()
    # the listener is still open and usable: its descriptor was only borrowed
    assert listener.fileno() >= 0 and listener.getsockname() == str(tmp_path / "s")
    listener.close()


def test_exit_now_without_atexit_ncallbacks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(atexit, "_ncallbacks")
    monkeypatch.setattr(dccache, "_new", {})
    quick: list[int] = []
    monkeypatch.setattr(os, "_exit", quick.append)
    with pytest.raises(SystemExit) as exc:
        exits.exit_now(3)
    assert exc.value.code == 3 and not quick  # the ordinary exit, handlers run


@pytest.fixture
def no_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(dccache, "_codes", {})
    monkeypatch.setattr(dccache, "_new", {})
    monkeypatch.setattr(dccache, "_path", "")
    yield
    if "exec" in vars(dataclasses):
        del dataclasses.exec  # type: ignore[attr-defined]


def _point() -> object:
    @dataclasses.dataclass(frozen=True)
    class Point:
        x: int
        y: int = 2

    return Point(1)


def test_code_cache_off_switch(no_cache: None, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYC_NO_CODE_CACHE", "1")
    dccache.install(str(tmp_path / "dc.bin"))
    assert "exec" not in vars(dataclasses)
    assert repr(_point()).endswith("Point(x=1, y=2)")
    dccache.save()
    assert not (tmp_path / "dc.bin").exists()


def test_code_cache_stands_aside_when_dataclasses_changed(no_cache: None, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("_create_fn", "_FuncBuilder"):
        if hasattr(dataclasses, name):
            monkeypatch.delattr(dataclasses, name)
    dccache.install(str(tmp_path / "dc.bin"))
    assert "exec" not in vars(dataclasses)
    dccache.save()
    assert not (tmp_path / "dc.bin").exists()


def test_code_cache_installs_on_this_python(no_cache: None, tmp_path: Path) -> None:
    # the check above must not switch the cache off where it works
    dccache.install(str(tmp_path / "dc.bin"))
    assert vars(dataclasses).get("exec") is dccache._exec
