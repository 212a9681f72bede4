"""Decompressing layer streams (gzip, zstd or none, sniffed from the first bytes) while
hashing the uncompressed bytes, whose digest is the layer's diff id."""

from __future__ import annotations

import hashlib
import shutil
import zlib
from typing import BinaryIO

from pycontainer.errors import HostError, IntegrityError

CHUNK = 1 << 20


class DecompressingReader:
    """A file-like view of the decompressed bytes of `src`, hashing them (the diff id).

    Compression is sniffed from the first bytes (gzip, zstd or none) because registries'
    media types are not always truthful.
    """

    def __init__(self, src: BinaryIO) -> None:
        self._src = src
        self.hash = hashlib.sha256()
        self.size = 0
        self._buf = b""
        self._pos = 0
        self._eof = False
        head = src.read(CHUNK)
        self._pending = head
        self._decomp = _decompressor(head)

    def _fill(self) -> bool:
        while True:
            if self._pending:
                data, self._pending = self._pending, b""
            else:
                data = self._src.read(CHUNK)
            if not data:
                tail = self._decomp.flush()
                self._eof = True
                if tail:
                    self._feed(tail)
                    return True
                return False
            out = self._decomp.decompress(data)
            if out:
                self._feed(out)
                return True

    def _feed(self, out: bytes) -> None:
        self.hash.update(out)
        self.size += len(out)
        self._buf = self._buf[self._pos:] + out if self._pos < len(self._buf) else out
        self._pos = 0

    def read(self, n: int = -1) -> bytes:
        if n < 0:
            parts = [self._buf[self._pos:]]
            self._buf, self._pos = b"", 0
            while not self._eof and self._fill():
                parts.append(self._buf)
                self._buf = b""
            return b"".join(parts)
        while len(self._buf) - self._pos < n and not self._eof:
            if not self._fill():
                break
        out = self._buf[self._pos:self._pos + n]
        self._pos += len(out)
        return out

    def drain(self) -> None:
        """Read to the end so the diff id covers trailing padding too."""
        while self.read(CHUNK):
            pass

    @property
    def diff_id(self) -> str:
        return "sha256:" + self.hash.hexdigest()


class _Identity:
    def decompress(self, data: bytes) -> bytes:
        return data

    def flush(self) -> bytes:
        return b""


class _Zstd:
    def __init__(self) -> None:
        import zstandard  # optional dependency; falls back to the zstd program

        self._d = zstandard.ZstdDecompressor().decompressobj()

    def decompress(self, data: bytes) -> bytes:
        return bytes(self._d.decompress(data))

    def flush(self) -> bytes:
        return b""


def _decompressor(head: bytes) -> _Identity | _Zstd | zlib._Decompress:
    if head.startswith(b"\x1f\x8b"):
        return _Gzip()  # type: ignore[return-value]
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        try:
            return _Zstd()
        except ImportError:
            return _ZstdProgram()  # type: ignore[return-value]
    return _Identity()


class _Gzip:
    """gzip with support for concatenated members (pigz and some tools write several)."""

    def __init__(self) -> None:
        self._d = zlib.decompressobj(31)

    def decompress(self, data: bytes) -> bytes:
        out = []
        while data:
            try:
                out.append(self._d.decompress(data))
            except zlib.error as exc:
                raise IntegrityError(f"invalid gzip data in layer: {exc}") from None
            data = self._d.unused_data
            if data:
                self._d = zlib.decompressobj(31)
        return b"".join(out)

    def flush(self) -> bytes:
        return self._d.flush()


class _ZstdProgram:
    """zstd without the module: a `zstd -dc` child fed and drained through pipes."""

    def __init__(self) -> None:
        import subprocess

        path = shutil.which("zstd")
        if not path:
            raise HostError("layer is zstd-compressed: install python3-zstandard or zstd")
        self._p = subprocess.Popen([path, "-dcq"], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE)
        self._out: list[bytes] = []
        import threading

        self._t = threading.Thread(target=self._drain, daemon=True)
        self._t.start()

    def _drain(self) -> None:
        assert self._p.stdout is not None
        while chunk := self._p.stdout.read(CHUNK):
            self._out.append(chunk)

    def decompress(self, data: bytes) -> bytes:
        assert self._p.stdin is not None
        self._p.stdin.write(data)
        out, self._out = b"".join(self._out), []
        return out

    def flush(self) -> bytes:
        assert self._p.stdin is not None
        self._p.stdin.close()
        self._t.join()
        if self._p.wait() != 0:
            raise IntegrityError("invalid zstd data in layer")
        return b"".join(self._out)
