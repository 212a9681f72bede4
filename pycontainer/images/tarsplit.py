"""Tar-split: what a layer's tar stream holds besides its files' contents, so the exact stream
(and so its diff id) can be rebuilt from the unpacked layer instead of keeping a compressed
copy of it (containers/storage keeps the same thing, `<layer>.tar-split.gz`).

While a layer is unpacked, every byte of the uncompressed stream is either the content of a
regular file written to the layer dir or "raw" (headers, pax records, padding, the end
blocks, trailing bytes, data of members that were not written). The split records, in
stream order, raw runs and file references (path relative to the layer dir, size):

    b"R" <u64 length> <bytes>      raw bytes
    b"F" <u64 size> <u32 n> <path> the content of file <path>, <size> bytes
    b"E"                           the end

gzip-compressed (zlib, level 1: the raw runs are mostly zeros and headers). A layer whose
unpacking replaced a file written earlier in the same stream cannot be rebuilt so: the
extractor says so (`lossy`) and no split is kept; such a layer keeps its compressed blob.
"""

from __future__ import annotations

import contextlib
import os
import struct
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from pycontainer.errors import IntegrityError

RAW, FILE, END = b"R", b"F", b"E"
_FLUSH_AT = 1 << 20
LEVEL = 1


class SplitWriter:
    """Writes a split to `path` (a new file), raw runs merged."""

    def __init__(self, path: str) -> None:
        self.path = path
        # private, as the rest of the store (the unpacker runs with umask 0)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        self._f = os.fdopen(fd, "wb")
        self._z = zlib.compressobj(LEVEL, zlib.DEFLATED, 31)
        self._raw = bytearray()

    def raw(self, data: bytes | memoryview) -> None:
        self._raw += data
        if len(self._raw) >= _FLUSH_AT:
            self._flush_raw()

    def file(self, rel: str, size: int) -> None:
        self._flush_raw()
        name = rel.encode("utf-8", "surrogateescape")
        self._out(FILE + struct.pack(">QI", size, len(name)) + name)

    def close(self) -> None:
        self._flush_raw()
        self._out(END)
        self._f.write(self._z.flush())
        self._f.close()

    def discard(self) -> None:
        self._f.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def _flush_raw(self) -> None:
        if self._raw:
            self._out(RAW + struct.pack(">Q", len(self._raw)))
            self._out(bytes(self._raw))
            self._raw = bytearray()

    def _out(self, data: bytes) -> None:
        self._f.write(self._z.compress(data))


class _Inflated:
    """Exact-size reads from a gzip file, decompressed as needed."""

    def __init__(self, f: BinaryIO) -> None:
        self._f = f
        self._z = zlib.decompressobj(31)
        self._buf = b""
        self._pos = 0  # reads advance this: slicing off the front would copy the rest

    def read(self, n: int) -> bytes:
        while len(self._buf) - self._pos < n:
            data = self._f.read(1 << 16)
            more = self._z.decompress(data) if data else self._z.flush()
            if not data and not more:
                raise IntegrityError("layer tar-split is truncated")
            self._buf = self._buf[self._pos:] + more
            self._pos = 0
        out = self._buf[self._pos:self._pos + n]
        self._pos += n
        return out


def entries(f: BinaryIO) -> Iterator[tuple[bytes, bytes | str, int]]:
    """(RAW, bytes, 0) and (FILE, relative path, size) in stream order."""
    src = _Inflated(f)
    try:
        while True:
            kind = src.read(1)
            if kind == RAW:
                (n,) = struct.unpack(">Q", src.read(8))
                yield RAW, src.read(n), 0
            elif kind == FILE:
                size, n = struct.unpack(">QI", src.read(12))
                yield FILE, src.read(n).decode("utf-8", "surrogateescape"), size
            elif kind == END:
                return
            else:
                raise IntegrityError("layer tar-split is corrupt")
    except zlib.error:
        raise IntegrityError("layer tar-split is corrupt") from None


def write_stream(split: BinaryIO, root: str, out_fd: int) -> None:
    """Write the layer's tar stream to `out_fd`: raw runs from the split, file contents from
    the layer dir `root` (sendfile: the contents never pass through Python)."""
    for kind, value, size in entries(split):
        if kind == RAW:
            assert isinstance(value, bytes)
            _write_all(out_fd, value)
            continue
        assert isinstance(value, str)
        fd = os.open(os.path.join(root, value), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            left = size
            while left:
                n = os.sendfile(out_fd, fd, None, min(left, 1 << 24))
                if n == 0:
                    raise IntegrityError(f"layer file {value} is shorter than its tar entry")
                left -= n
        finally:
            os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def from_stream(stream: BinaryIO, path: str) -> tuple[str, bool]:
    """Write the split of the (compressed) layer tar `stream` to the new file `path` without
    unpacking it, naming each regular file where the extractor (images.archive) puts it:
    (diff id, written). For a layer unpacked by an older pyc, which kept the blob instead;
    whoever uses the split checks first that it rebuilds the diff id (images.layertar).
    Conservative: a name with "..", a repeated name or a whiteout of a name seen before
    (the extractor would replace what it wrote) gives no split."""
    from pycontainer.images import tarstream as ts
    from pycontainer.images.compression import DecompressingReader

    reader = DecompressingReader(stream)
    split = SplitWriter(path)
    tar = ts.TarReader(reader.chunk, split.raw)
    seen: dict[str, int] = {}
    ok = True
    try:
        for m in tar:
            parts = [p for p in m.name.split("/") if p and p != "."]
            rel = "/".join(parts)
            whiteout = bool(parts) and parts[-1].startswith(".wh.")
            hidden = "/".join([*parts[:-1], parts[-1][4:]]) if whiteout else ""
            if ".." in parts or "\\" in m.name or (whiteout and hidden in seen) or \
                    (rel in seen and not (m.type == seen[rel] == ts.DIR)):
                ok = False
            seen[rel] = m.type
            if rel and m.type in ts.REGULAR and not whiteout:
                split.file(rel, m.size)
                for _ in tar.data(m):
                    pass
        split.raw(tar.rest())
        while chunk := reader.chunk():
            split.raw(chunk)
        reader.drain()
    except BaseException:
        split.discard()
        raise
    if not ok:
        split.discard()
        return reader.diff_id, False
    split.close()
    return reader.diff_id, True
