"""pyc build never reads a file outside the build context through a symlink (issue 10,
section 4): links in the context are copied as links, a COPY source or bind-mount source
that leads out of the context is not found, and a huge file behind such a link costs
nothing (hashing it was what took 44 s for 16 GB)."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

import pytest
from helpers.runner import Pyc

HUGE = 8 << 30  # sparse: no disk, but reading and hashing it would take many seconds


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    d = tmp_path / "outside"
    d.mkdir()
    (d / "secret.txt").write_text("outside-secret\n")
    with open(d / "huge.img", "wb") as f:
        f.truncate(HUGE)
    return d


def _context(root: Path, dockerfile: str, outside: Path) -> Path:
    root.mkdir()
    (root / "Dockerfile").write_text(dockerfile)
    (root / "real.txt").write_text("inside\n")
    os.symlink(str(outside / "huge.img"), root / "huge")
    os.symlink(str(outside / "secret.txt"), root / "abs")
    os.symlink("../outside/secret.txt", root / "up")
    os.symlink("real.txt", root / "inner")
    return root


def _tag() -> str:
    return f"pycsym-{secrets.token_hex(4)}"


def test_context_links_are_copied_as_links(shared_pyc: Pyc, fixture_refs: dict[str, str],
                                           tmp_path: Path, outside: Path) -> None:
    ctx = _context(tmp_path / "ctx", f"FROM {fixture_refs['busybox']}\nCOPY . /app/\n"
                   "COPY inner /inner.txt\n", outside)
    name = _tag()
    started = time.monotonic()
    shared_pyc.ok("build", "-t", name, str(ctx))
    assert time.monotonic() - started < 30
    out = shared_pyc.ok("run", "--rm", name, "sh", "-c",
                        "for f in huge abs up; do readlink /app/$f; done; cat /inner.txt").lines
    assert out == [str(outside / "huge.img"), str(outside / "secret.txt"),
                   "../outside/secret.txt", "inside"]


@pytest.mark.parametrize("source", ["huge", "abs", "up"])
def test_copy_of_a_link_out_of_the_context_is_not_found_and_not_read(
        shared_pyc: Pyc, fixture_refs: dict[str, str], tmp_path: Path, outside: Path,
        source: str) -> None:
    ctx = _context(tmp_path / "ctx", f"FROM {fixture_refs['busybox']}\n"
                   f"COPY {source} /copied\n", outside)
    started = time.monotonic()
    res = shared_pyc("build", "-t", _tag(), str(ctx))
    elapsed = time.monotonic() - started
    assert res.rc != 0
    assert "file not found in build context" in res.err, res.err
    assert "Errno" not in res.err and "Traceback" not in res.err
    assert elapsed < 20, f"the build took {elapsed:.1f}s: it read the file behind the link"


@pytest.mark.parametrize("source", ["up", "abs", "../outside/secret.txt"])
def test_a_bind_mount_from_the_context_stays_in_the_context(
        shared_pyc: Pyc, fixture_refs: dict[str, str], tmp_path: Path, outside: Path,
        source: str) -> None:
    ctx = _context(tmp_path / "ctx", f"FROM {fixture_refs['busybox']}\n"
                   f"RUN --mount=type=bind,source={source},target=/m cat /m\n", outside)
    res = shared_pyc("build", "-t", _tag(), str(ctx))
    assert "outside-secret" not in res.out + res.err
    assert res.rc != 0 and "Traceback" not in res.err
