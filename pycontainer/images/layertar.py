"""A stored layer's uncompressed tar stream, and its deterministic gzip form.

The stream comes from the compressed blob when the store has one (layers pulled by an older
pyc, built or imported layers), else it is rebuilt from the unpacked layer dir and its
tar-split (images.tarsplit) by a child in the user namespace (the files belong to the
user's subordinate ids); either way it is checked against the diff id as it is read.

Compressing for push is deterministic (zlib, fixed level and block size, gzip header with
mtime 0 and no name), so pushing the same layer twice gives the same blob digest.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from pycontainer.errors import IntegrityError
from pycontainer.images.compression import DecompressingReader
from pycontainer.oci.digest import Readable

if TYPE_CHECKING:
    from pycontainer.images.store import ImageStore

#: level 1, as the layers pyc builds: BuildKit's default is a fast level too; registries
#: accept any valid gzip
PUSH_GZIP_LEVEL = 1
CHUNK = 1 << 20


class LayerStream:
    """The uncompressed tar stream, hashed as read; `close()` checks the diff id once the
    whole stream was read (a partial read is not an error: the caller stopped)."""

    def __init__(self, src: BinaryIO | DecompressingReader, diff_id: str,
                 pid: int = 0) -> None:
        self._src = src
        self._diff_id = diff_id
        self._pid = pid
        self._hash = hashlib.sha256()
        self._eof = False

    def read(self, n: int = -1) -> bytes:
        data = self._src.read(n if n >= 0 else -1)
        if data:
            self._hash.update(data)
        elif n != 0:
            self._eof = True
        return data

    def close(self) -> None:
        if not self._eof:  # a reader that took exactly the tar's size has not seen the end
            self.read(1)
        close = getattr(self._src, "close", None)
        if close is not None:
            close()
        if self._pid:
            _, status = os.waitpid(self._pid, 0)
            self._pid = 0
            if self._eof and os.waitstatus_to_exitcode(status) != 0:
                raise IntegrityError(f"layer {self._diff_id} cannot be rebuilt from the "
                                     "store; pull the image again")
        if self._eof and "sha256:" + self._hash.hexdigest() != self._diff_id:
            raise IntegrityError(f"layer {self._diff_id} in the store does not match its "
                                 "diff id; pull the image again")


def can_read(store: ImageStore, diff_id: str, blob: str) -> bool:
    return store.blobs.has(blob) or (store.layers.has(diff_id) and
                                     store.layers.has_split(diff_id))


@contextlib.contextmanager
def open_tar(store: ImageStore, diff_id: str, blob: str = "",
             split: Path | None = None) -> Iterator[LayerStream]:
    """The layer's tar stream: from `blob` if the store has it, else rebuilt from the layer's
    tar-split (or the given `split` file, to check one). Forks (a user namespace child) when
    rebuilding: call it from a thread-free point where possible."""
    if split is None and blob and store.blobs.has(blob):
        with store.blobs.open(blob) as f:
            stream = LayerStream(DecompressingReader(f), diff_id)
            yield stream
            stream.close()
        return
    if split is None and not (store.layers.has(diff_id) and store.layers.has_split(diff_id)):
        raise IntegrityError(f"layer {diff_id} has neither a compressed copy nor a tar-split "
                             "in the store; pull the image again")
    stream = _rebuild(store, diff_id, split or store.layers.split_path(diff_id))
    try:
        yield stream
    finally:
        stream.close()


def _rebuild(store: ImageStore, diff_id: str, split_path: Path) -> LayerStream:
    from pycontainer.images import tarsplit
    from pycontainer.images.layers import F_SETPIPE_SZ, _fork_plain, mapping
    from pycontainer.linux import userns

    split = str(split_path)
    root = str(store.layers.path(diff_id))
    r, w = os.pipe()
    with contextlib.suppress(OSError):  # room for the child to run ahead of the reader
        fcntl.fcntl(w, F_SETPIPE_SZ, 1 << 20)

    def child() -> int:  # pragma: no cover - runs in the child
        os.close(r)
        try:
            with open(split, "rb") as f:
                tarsplit.write_stream(f, root, w)
        except Exception:  # noqa: BLE001 - the parent reports it (LayerStream.close)
            return 1  # a reader that stopped early, or a layer that does not match
        os.close(w)
        return 0

    try:
        pid = _fork_plain(child) if os.getuid() == 0 else userns.fork_in_userns(child,
                                                                                mapping())
    except BaseException:
        os.close(r)
        os.close(w)
        raise
    os.close(w)
    return LayerStream(open(r, "rb", buffering=CHUNK), diff_id, pid)  # noqa: SIM115


def compress(store: ImageStore, diff_id: str, blob: str = "") -> tuple[Path, str, int]:
    """Gzip the layer deterministically into a temp file: (its path, digest, size). The caller
    removes the file."""
    tmp = store.blobs.temp_path()
    sha = hashlib.sha256()
    size = 0
    try:
        with open_tar(store, diff_id, blob) as src, open(tmp, "wb") as out:
            for data in gzip_blocks(src):
                out.write(data)
                sha.update(data)
                size += len(data)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return tmp, "sha256:" + sha.hexdigest(), size


#: gzip header: no name, mtime 0, no extra flags, OS "unknown" (as Go's gzip writes it)
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
BLOCK = 1 << 20
WINDOW = 1 << 15
IN_FLIGHT = 4


def gzip_blocks(src: Readable) -> Iterator[bytes]:
    """The gzip form of `src`'s bytes, compressed in parallel as pigz does: each 1 MiB block
    is deflated on its own (zlib releases the GIL) with the previous 32 KiB as its dictionary
    and ends on a byte boundary (a sync flush), so the pieces join into one deflate stream.
    The output depends only on the input, the block size and the level: deterministic."""
    from concurrent.futures import Future, ThreadPoolExecutor

    yield GZIP_HEADER
    crc = 0
    total = 0
    pending: list[Future[bytes]] = []
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        prev = b""
        block = _read_block(src)
        while block:
            nxt = _read_block(src)
            crc = zlib.crc32(block, crc)
            total += len(block)
            pending.append(pool.submit(_deflate, block, prev[-WINDOW:], not nxt))
            prev, block = block, nxt
            while len(pending) >= IN_FLIGHT or (pending and pending[0].done()):
                yield pending.pop(0).result()
        for f in pending:
            yield f.result()
    if total == 0:
        yield _deflate(b"", b"", True)
    yield crc.to_bytes(4, "little") + (total & 0xFFFFFFFF).to_bytes(4, "little")


def _read_block(src: Readable) -> bytes:
    parts = []
    n = 0
    while n < BLOCK:
        data = src.read(BLOCK - n)
        if not data:
            break
        parts.append(data)
        n += len(data)
    return b"".join(parts)


def _deflate(block: bytes, dictionary: bytes, last: bool) -> bytes:
    comp = zlib.compressobj(PUSH_GZIP_LEVEL, zlib.DEFLATED, -15, zdict=dictionary) \
        if dictionary else zlib.compressobj(PUSH_GZIP_LEVEL, zlib.DEFLATED, -15)
    return comp.compress(block) + comp.flush(zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH)
