"""The tar-split: a layer's exact tar stream rebuilt from its unpacked files (no compressed
copy kept), and the layers it cannot rebuild (an entry replaced within the stream)."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
import threading
import zlib
from pathlib import Path

from pycontainer.images import archive, tarsplit


def _tar(fmt: int = tarfile.PAX_FORMAT, trailing: bytes = b"") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        def add(name: str, kind: bytes, data: bytes = b"", link: str = "",
                pax: dict[str, str] | None = None) -> None:
            ti = tarfile.TarInfo(name)
            ti.type, ti.mtime, ti.linkname = kind, 1_700_000_000, link
            ti.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
            if pax:
                ti.pax_headers = pax
            ti.size = len(data) if kind == tarfile.REGTYPE else 0
            t.addfile(ti, io.BytesIO(data) if kind == tarfile.REGTYPE else None)

        add("etc", tarfile.DIRTYPE)
        add("etc/a", tarfile.REGTYPE, b"A" * 1000)
        add("etc/empty", tarfile.REGTYPE)
        add("etc/b", tarfile.LNKTYPE, link="etc/a")
        add("etc/c", tarfile.SYMTYPE, link="/etc/a")
        add("usr/share/" + "long-name-" * 20, tarfile.REGTYPE, os.urandom(70_000))
        add("x", tarfile.REGTYPE, b"xattr", pax={"SCHILY.xattr.user.k": "v"})
        add("etc/.wh.gone", tarfile.REGTYPE)
        add("big", tarfile.REGTYPE, os.urandom(3 << 20))
    return buf.getvalue() + trailing


def _unpack(tmp_path: Path, raw: bytes) -> tuple[Path, Path, bool, str]:
    root = tmp_path / "layer"
    root.mkdir()
    split = tmp_path / "split"
    diff_id, _, _, ok = archive.unpack_split(io.BytesIO(gzip.compress(raw)), str(root),
                                             chown=False, split_path=str(split))
    return root, split, ok, diff_id


def _rebuild(root: Path, split: Path) -> bytes:
    r, w = os.pipe()
    out: list[bytes] = []

    def drain() -> None:
        with open(r, "rb") as f:
            out.append(f.read())

    t = threading.Thread(target=drain)
    t.start()
    try:
        with open(split, "rb") as f:
            tarsplit.write_stream(f, str(root), w)
    finally:
        os.close(w)
    t.join()
    return out[0]


def test_the_stream_is_rebuilt_byte_for_byte(tmp_path: Path) -> None:
    raw = _tar(trailing=b"\0" * 4096)
    root, split, ok, diff_id = _unpack(tmp_path, raw)
    assert ok and split.is_file()
    assert diff_id == "sha256:" + hashlib.sha256(raw).hexdigest()
    rebuilt = _rebuild(root, split)
    assert rebuilt == raw
    # the split holds headers, not contents: far smaller than the layer
    assert split.stat().st_size < len(raw) // 20


def test_gnu_format_with_long_names(tmp_path: Path) -> None:
    raw = _tar(fmt=tarfile.GNU_FORMAT)
    root, split, ok, _ = _unpack(tmp_path, raw)
    assert ok
    assert _rebuild(root, split) == raw


def test_a_replaced_entry_makes_no_split(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for data in (b"first", b"second"):
            ti = tarfile.TarInfo("f")
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    root, split, ok, _ = _unpack(tmp_path, buf.getvalue())
    assert not ok and not split.exists()
    assert (root / "f").read_bytes() == b"second"


def test_a_changed_file_is_detected_by_size(tmp_path: Path) -> None:
    raw = _tar()
    root, split, ok, _ = _unpack(tmp_path, raw)
    assert ok
    (root / "big").write_bytes(b"short")
    try:
        _rebuild(root, split)
    except Exception as exc:  # noqa: BLE001 - the type is what is checked
        assert "shorter than its tar entry" in str(exc)
    else:
        raise AssertionError("a truncated file was not noticed")


def test_a_split_made_from_the_compressed_tar_alone(tmp_path: Path) -> None:
    raw = _tar(trailing=b"\0" * 1024)
    root, _, _, diff_id = _unpack(tmp_path, raw)
    other = tmp_path / "from-blob"
    got, ok = tarsplit.from_stream(io.BytesIO(gzip.compress(raw)), str(other))
    assert got == diff_id and ok
    assert _rebuild(root, other) == raw
    other.unlink()
    # a whiteout of a name the layer itself wrote: the extractor replaced it, so no split
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name in ("d/f", "d/.wh.f"):
            t.addfile(tarfile.TarInfo(name), io.BytesIO(b""))
    got, ok = tarsplit.from_stream(io.BytesIO(gzip.compress(buf.getvalue())), str(other))
    assert not ok and not other.exists()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        root_dir = tarfile.TarInfo("./")
        root_dir.type, root_dir.mode = tarfile.DIRTYPE, 0o755
        t.addfile(root_dir)  # the layer root listed, as some builders write it
        for name, data in (("a", b"A" * 3000), ("d/b", b"B"), ("./d/c", b"")):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    plain = buf.getvalue()
    (tmp_path / "p").mkdir()
    root, split, ok, _ = _unpack(tmp_path / "p", plain)
    got, ok = tarsplit.from_stream(io.BytesIO(gzip.compress(plain)), str(other))
    assert ok and got == "sha256:" + hashlib.sha256(plain).hexdigest()
    assert _rebuild(root, other) == plain


def test_parallel_gzip_is_valid_and_deterministic() -> None:
    from pycontainer.images import layertar

    data = os.urandom(20_000) * 150 + b"tail" * 100_000  # several blocks, repeats across them
    for payload in (data, b"", b"x"):
        one = b"".join(layertar.gzip_blocks(io.BytesIO(payload)))
        two = b"".join(layertar.gzip_blocks(io.BytesIO(payload)))
        assert one == two
        assert gzip.decompress(one) == payload
        assert one[:10] == layertar.GZIP_HEADER  # mtime 0, no name
    # blocks cost little: about what one zlib stream at the same level gives
    single = zlib.compressobj(layertar.PUSH_GZIP_LEVEL, zlib.DEFLATED, 31)
    alone = len(single.compress(data) + single.flush())
    assert len(b"".join(layertar.gzip_blocks(io.BytesIO(data)))) < alone * 1.05 + 1000
