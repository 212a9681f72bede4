"""COPY sources and their content hash never follow a link out of the build context
(issue 10, section 4): a source named directly resolves *inside* the context, links below
a copied directory are hashed (and copied) as links."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pycontainer.build import copier
from pycontainer.build.copier import FsOp, HashCache
from pycontainer.errors import BuildError


@pytest.fixture
def ctx(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("outside\n")
    root = tmp_path / "ctx"
    (root / "real").mkdir(parents=True)
    (root / "real" / "f").write_text("inside\n")
    os.symlink(str(outside / "secret"), root / "abs")  # absolute, to outside
    os.symlink("../outside/secret", root / "up")  # relative, climbing out
    os.symlink(str(outside), root / "absdir")
    os.symlink("real", root / "dirlink")  # inside: followed when named
    return root


def _hash(root: Path, source: str, cache: HashCache) -> str:
    return copier.content_hash(FsOp("copy", "/x", [source], str(root)), cache)


@pytest.mark.parametrize("source", ["abs", "up", "absdir/secret", "a*/secret"])
def test_a_source_leading_out_of_the_context_is_not_found(ctx: Path, source: str,
                                                          tmp_path: Path) -> None:
    cache = HashCache(None)
    with pytest.raises(BuildError, match="file not found in build context"):
        _hash(ctx, source, cache)
    assert not any(p.startswith(str(tmp_path / "outside")) for p in cache.data)


def test_links_below_a_copied_directory_are_hashed_as_links(ctx: Path, tmp_path: Path) -> None:
    cache = HashCache(None)
    first = _hash(ctx, ".", cache)
    assert not any("outside" in p for p in cache.data)  # no outside file was read
    (tmp_path / "outside" / "secret").write_text("changed outside\n")
    assert _hash(ctx, ".", cache) == first


def test_a_named_link_to_a_context_directory_gives_its_files(ctx: Path) -> None:
    assert list(copier.walk_source(str(ctx), "dirlink", None)) == ["dirlink", "dirlink/f"]
    cache = HashCache(None)
    first = _hash(ctx, "dirlink", cache)
    (ctx / "real" / "f").write_text("changed\n")
    assert _hash(ctx, "dirlink", cache) != first


def test_a_long_link_chain_is_refused_not_left_to_the_kernel(tmp_path: Path) -> None:
    root = tmp_path / "ctx"
    root.mkdir()
    os.symlink(str(tmp_path / "outside"), root / "l41")
    for i in range(41):
        os.symlink(f"l{i + 1}", root / f"l{i}")
    with pytest.raises(BuildError, match="too many levels of symbolic links"):
        copier.scoped_path(str(root), "l0")
