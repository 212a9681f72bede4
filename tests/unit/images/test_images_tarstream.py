"""The streaming tar reader against what `tarfile` writes, and the modes and times the
extractor gives entries (created with their final modes, umask 0, no chmod when not needed)."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from pathlib import Path

import pytest

from pycontainer.errors import IntegrityError
from pycontainer.images import archive, tarstream

MTIME = 1_700_000_123


def _tar(fmt: int, members: list[tuple[tarfile.TarInfo, bytes]],
         global_pax: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt, pax_headers=global_pax) as t:
        for ti, data in members:
            t.addfile(ti, io.BytesIO(data) if data else None)
    return buf.getvalue()


def _info(name: str, type_: bytes = tarfile.REGTYPE, size: int = 0, mode: int = 0o644,
          uid: int = 0, gid: int = 0, link: str = "") -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type, ti.size, ti.mode, ti.uid, ti.gid, ti.linkname = type_, size, mode, uid, gid, link
    ti.mtime = MTIME
    return ti


def _chunks(raw: bytes, size: int) -> list[bytes]:
    return [raw[i:i + size] for i in range(0, len(raw), size)] + [b""]


def _read(raw: bytes, chunk: int = 7) -> list[tuple[tarstream.Member, bytes]]:
    """Members and contents, fed in small odd chunks so headers and data straddle them."""
    pieces = iter(_chunks(raw, chunk))
    reader = tarstream.TarReader(lambda: next(pieces, b""))
    return [(m, b"".join(bytes(p) for p in reader.data(m))) for m in reader]


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_long_names_links_and_big_ids_as_tarfile_reads_them(fmt: int) -> None:
    long = "d/" + "n" * 150 + "/file"
    raw = _tar(fmt, [(_info(long, size=3, uid=70_000_000, gid=9), b"abc"),
                     (_info("l", tarfile.SYMTYPE, link="/" + "t" * 120), b""),
                     (_info("dir/", tarfile.DIRTYPE, mode=0o2755), b"")])
    got = _read(raw)
    with tarfile.open(fileobj=io.BytesIO(raw)) as tf:
        want = list(tf)
    assert [m.name for m, _ in got] == [w.name for w in want]
    assert [(m.uid, m.gid, m.mode, m.linkname) for m, _ in got] == \
        [(w.uid, w.gid, w.mode, w.linkname) for w in want]
    assert got[0][1] == b"abc" and got[0][0].mtime_ns == MTIME * 10**9
    assert got[2][0].type == tarstream.DIR


def test_ustar_prefix_and_pax_records_global_and_local() -> None:
    name = "p" * 90 + "/" + "q" * 90
    raw = _tar(tarfile.USTAR_FORMAT, [(_info(name, size=1), b"z")])
    assert [m.name for m, _ in _read(raw)] == [name]
    ti = _info("x", size=2)
    ti.pax_headers = {"SCHILY.xattr.user.k": "v\udcff", "mtime": "1700000000.5",
                      "path": "renamed/ü"}
    raw = _tar(tarfile.PAX_FORMAT, [(ti, b"hi"), (_info("y"), b"")],
               global_pax={"uid": "4242"})
    (m, data), (m2, _) = _read(raw, chunk=513)
    assert (m.name, data, m.mtime_ns, m.uid) == ("renamed/ü", b"hi", 1_700_000_000_500_000_000,
                                                4242)
    assert dict(m.xattrs()) == {"user.k": "v\udcff".encode("utf-8", "surrogateescape")}
    assert m2.uid == 4242  # the global record applies to every later member


def test_unknown_types_are_skipped_with_their_data() -> None:
    odd = _info("odd", b"V", size=5)  # e.g. a GNU volume label with a body
    raw = _tar(tarfile.GNU_FORMAT, [(odd, b"12345"), (_info("f", size=1), b"F")])
    got = _read(raw)
    assert [(m.name, d) for m, d in got][-1] == ("f", b"F")


@pytest.mark.parametrize("damage", ["checksum", "truncated-data", "truncated-header",
                                    "sparse"])
def test_damaged_archives_are_integrity_errors(damage: str) -> None:
    raw = bytearray(_tar(tarfile.PAX_FORMAT, [(_info("f", size=600), b"x" * 600)]))
    if damage == "checksum":
        raw[0] ^= 1
    elif damage == "truncated-data":
        raw = raw[:512 + 100]
    elif damage == "truncated-header":
        raw = raw[:300]
    else:
        raw[156] = ord("S")
        pos = 148
        raw[pos:pos + 8] = b" " * 8
        raw[pos:pos + 7] = f"{sum(raw[:512]):06o}\0".encode()
    with pytest.raises(IntegrityError):
        _read(bytes(raw))


def test_modes_times_and_setid_bits_are_exact(tmp_path: Path) -> None:
    raw = _tar(tarfile.PAX_FORMAT, [
        (_info("d", tarfile.DIRTYPE, mode=0o711), b""),
        (_info("d/f", size=1, mode=0o640), b"f"),
        (_info("d/none", mode=0o000), b""),
        (_info("s", size=2, mode=0o2755), b"#!"),
        (_info("fifo", tarfile.FIFOTYPE, mode=0o620), b""),
        (_info("ln", tarfile.SYMTYPE, link="d/f"), b"")])
    root = tmp_path / "layer"
    root.mkdir()
    before = os.umask(0o077)
    try:
        archive.unpack(io.BytesIO(raw), str(root), chown=False)
        assert os.umask(before) == 0o077  # restored
    finally:
        os.umask(before)
    modes = {n: stat.S_IMODE(os.lstat(root / n).st_mode)
             for n in ("d", "d/f", "d/none", "s", "fifo")}
    assert modes == {"d": 0o711, "d/f": 0o640, "d/none": 0, "s": 0o2755, "fifo": 0o620}
    assert {os.lstat(root / n).st_mtime for n in ("d", "d/f", "s", "ln")} == {MTIME}
