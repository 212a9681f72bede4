"""ops.logs reads --tail from the end of each file: complete lines only, across blocks,
into rotated (and compressed) files, the live file's unfinished line kept for following."""

from __future__ import annotations

import gzip

from pycontainer.ops import logs


def _live(tmp_path, text: bytes):
    path = tmp_path / "ctr.log"
    path.write_bytes(text)
    return str(path), logs._Follower(str(path))


def test_tail_crosses_block_boundaries(tmp_path, monkeypatch):
    lines = [b"%06d" % i for i in range(50_000)]  # ~350 kB: several 64 KiB blocks
    path, live = _live(tmp_path, b"\n".join(lines) + b"\n")
    try:
        assert logs._tail(path, live, 3) == lines[-3:]
        assert logs._tail(path, live, 20_000) == lines[-20_000:]
        assert logs._tail(path, live, 60_000) == lines
    finally:
        live.close()


def test_tail_keeps_the_unfinished_line_for_following(tmp_path):
    path, live = _live(tmp_path, b"one\ntwo\nthr")
    try:
        assert logs._tail(path, live, 5) == [b"one", b"two"]
        with open(path, "ab") as f:
            f.write(b"ee\n")
        assert live.read() == [b"three"]
        assert logs._tail(path, live, 0) == []
    finally:
        live.close()


def test_tail_reads_rotated_files_newest_first(tmp_path):
    path, live = _live(tmp_path, b"l5\n")
    with gzip.open(path + ".2.gz", "wb") as g:
        g.write(b"l0\nl1\n")
    (tmp_path / "ctr.log.1").write_bytes(b"l2\nl3\nl4\n")
    try:
        assert logs._tail(path, live, 2) == [b"l4", b"l5"]
        assert logs._tail(path, live, 5) == [b"l1", b"l2", b"l3", b"l4", b"l5"]
        assert logs._tail(path, live, 99) == [b"l0", b"l1", b"l2", b"l3", b"l4", b"l5"]
    finally:
        live.close()
