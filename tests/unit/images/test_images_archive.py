"""Layer unpacking with in-memory tars: whiteouts, links, and archives that try to escape."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import tarfile
from pathlib import Path

import pytest

from pycontainer.errors import IntegrityError, UnsafeArchive
from pycontainer.images import archive, compression


def _tar(*members: tuple[str, str, bytes | str]) -> bytes:
    """(name, kind, data-or-link) with kind in file, dir, sym, link."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, data in members:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1_700_000_000
            if kind == "file":
                raw = data if isinstance(data, bytes) else data.encode()
                ti.size = len(raw)
                t.addfile(ti, io.BytesIO(raw))
                continue
            if kind == "dir":
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
            elif kind == "sym":
                ti.type, ti.linkname = tarfile.SYMTYPE, str(data)
            elif kind == "link":
                ti.type, ti.linkname = tarfile.LNKTYPE, str(data)
            elif kind == "chr":
                ti.type, ti.devmajor, ti.devminor = tarfile.CHRTYPE, 1, 3
            t.addfile(ti)
    return buf.getvalue()


def _unpack(tmp_path: Path, raw: bytes) -> Path:
    root = tmp_path / "layer"
    root.mkdir()
    archive.unpack(io.BytesIO(raw), str(root), chown=False)
    return root


def _outside(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in tmp_path.iterdir() if p.name != "layer")


def test_files_dirs_symlinks_and_hardlinks(tmp_path: Path) -> None:
    root = _unpack(tmp_path, _tar(("etc", "dir", b""), ("etc/a", "file", "A"),
                                  ("etc/b", "link", "etc/a"), ("etc/c", "sym", "/etc/a")))
    assert (root / "etc/a").read_text() == "A"
    assert os.stat(root / "etc/b").st_ino == os.stat(root / "etc/a").st_ino
    assert os.readlink(root / "etc/c") == "/etc/a"  # kept verbatim: resolved in the container


def test_whiteout_becomes_a_0_0_char_device(tmp_path: Path) -> None:
    try:
        root = _unpack(tmp_path, _tar(("etc/.wh.gone", "file", b"")))
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"mknod not permitted here: {exc}")
    st = os.lstat(root / "etc/gone")
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(0, 0)
    assert not (root / "etc/.wh.gone").exists()


def test_opaque_dir_gets_the_user_overlay_xattr(tmp_path: Path) -> None:
    try:
        root = _unpack(tmp_path, _tar(("opt/x/.wh..wh..opq", "file", b""),
                                      ("opt/x/new", "file", "n")))
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"user xattrs not supported here: {exc}")
    assert os.getxattr(root / "opt/x", "user.overlay.opaque") == b"y"
    assert sorted(os.listdir(root / "opt/x")) == ["new"]


@pytest.mark.parametrize("members", [
    [("../../etc/passwd", "file", "pwned")],
    [("a/../../escape", "file", "x")],
    [("evil", "sym", "/"), ("evil/etc/passwd", "file", "x")],
    [("evil", "sym", "../.."), ("evil/escape", "file", "x")],
    [("d", "dir", b""), ("d/l", "sym", "/tmp"), ("d/l/x", "file", "x")],
    [("h", "link", "/etc/passwd")],
    [("h", "link", "../outside")],
], ids=["dotdot", "inner-dotdot", "abs-symlink-parent", "rel-symlink-parent",
        "nested-symlink-parent", "hardlink-absolute-outside", "hardlink-dotdot"])
def test_escapes_are_refused_and_nothing_lands_outside(tmp_path: Path,
                                                       members: list[tuple[str, str, str]]) -> None:
    (tmp_path / "outside").write_text("keep")
    before = _outside(tmp_path)
    with pytest.raises(UnsafeArchive):
        _unpack(tmp_path, _tar(*members))
    assert _outside(tmp_path) == before
    assert (tmp_path / "outside").read_text() == "keep"


def test_absolute_member_names_are_made_relative(tmp_path: Path) -> None:
    root = _unpack(tmp_path, _tar(("/abs/file", "file", "x")))
    assert (root / "abs/file").read_text() == "x"


def test_device_nodes_are_skipped(tmp_path: Path) -> None:
    root = _unpack(tmp_path, _tar(("dev/null", "chr", b""), ("ok", "file", "y")))
    assert not (root / "dev/null").exists()
    assert (root / "ok").read_text() == "y"


def test_later_member_replaces_earlier_without_following_links(tmp_path: Path) -> None:
    target = tmp_path / "victim"
    target.write_text("orig")
    root = _unpack(tmp_path, _tar(("f", "sym", str(target)), ("f", "file", "new")))
    assert target.read_text() == "orig"
    assert (root / "f").read_text() == "new" and not (root / "f").is_symlink()


@pytest.mark.parametrize("compress", ["none", "gzip", "zstd"])
def test_decompression_and_diff_id(tmp_path: Path, compress: str) -> None:
    raw = _tar(("a", "file", "x" * 5000))
    blob = raw
    if compress == "gzip":
        blob = gzip.compress(raw)
    elif compress == "zstd":
        zstandard = pytest.importorskip("zstandard")
        blob = zstandard.ZstdCompressor().compress(raw)
    root = tmp_path / "layer"
    root.mkdir()
    diff_id, tar_size, size = archive.unpack(io.BytesIO(blob), str(root), chown=False)
    assert diff_id == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert tar_size == len(raw) and size == 5000


@pytest.mark.parametrize("isal", ["isal", "zlib"])
def test_gzip_with_either_inflater_and_concatenated_members(
        tmp_path: Path, isal: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if isal == "isal":
        pytest.importorskip("isal")
    else:
        monkeypatch.setenv("PYC_NO_ISAL", "1")
    raw = _tar(*[(f"f{i}", "file", os.urandom(3000).hex()) for i in range(300)])
    blob = gzip.compress(raw[:70001]) + gzip.compress(raw[70001:])  # as pigz may write
    root = tmp_path / "layer"
    root.mkdir()
    diff_id, tar_size, _ = archive.unpack(io.BytesIO(blob), str(root), chown=False)
    assert (diff_id, tar_size) == ("sha256:" + hashlib.sha256(raw).hexdigest(), len(raw))
    assert len(os.listdir(root)) == 300
    bad = blob[:20] + bytes(b ^ 0xFF for b in blob[20:40]) + blob[40:]
    (tmp_path / "bad").mkdir()
    with pytest.raises(IntegrityError):
        archive.unpack(io.BytesIO(bad), str(tmp_path / "bad"), chown=False)


def test_corrupt_gzip_is_an_integrity_error(tmp_path: Path) -> None:
    blob = gzip.compress(_tar(("a", "file", "x")))
    bad = blob[:20] + bytes(b ^ 0xFF for b in blob[20:40]) + blob[40:]
    with pytest.raises(IntegrityError):
        _unpack(tmp_path, bad)


def test_zstd_without_the_module_uses_the_program(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil as sh

    zstandard = pytest.importorskip("zstandard")
    if not sh.which("zstd"):
        pytest.skip("no zstd program")

    def no_module() -> None:
        raise ImportError("zstandard")
    monkeypatch.setattr(compression, "_Zstd", no_module)
    raw = _tar(*[(f"f{i}", "file", "y" * 70000) for i in range(40)])
    root = tmp_path / "layer"
    root.mkdir()
    diff_id, _, size = archive.unpack(io.BytesIO(zstandard.ZstdCompressor().compress(raw)),
                                      str(root), chown=False)
    assert diff_id == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert size == 40 * 70000
