"""A streaming tar reader for layer unpacking, faster than `tarfile` for what layers hold.

Why not `tarfile`: for a Debian layer (~9k members) its stream mode spends more time than the
kernel does creating the files: every header goes through `_Stream` copies, `TarInfo`
attribute processing and a Python checksum loop, and every file's data through `_FileInFile`.
Here a header is parsed with a handful of slices from a memoryview of the decompressed chunk,
the checksum is `zlib.adler32` (C), and file data is handed out as memoryviews of the chunks
it arrived in, so it is never copied in Python.

Formats: v7, ustar (with the name prefix), GNU (`L`/`K` long names, base-256 numbers) and
pax (`x`/`X` per member and `g` global: path, linkpath, size, uid, gid, mtime, xattrs), as Go's
archive/tar reads them (Docker's and Podman's layers are written by it). Sparse members are
refused. Types other than those below are skipped with their data, as `tarfile` does.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator

from pycontainer.errors import IntegrityError

BLOCK = 512
ZERO_BLOCK = bytes(BLOCK)

REG, AREG, LNK, SYM, CHR, BLK, DIR, FIFO, CONT = b"0\x001234567"
PAX, PAX_SOLARIS, PAX_GLOBAL, GNU_LONGNAME, GNU_LONGLINK, GNU_SPARSE = b"xXgLKS"
REGULAR = frozenset((REG, AREG, CONT))
#: types whose size field does not announce data (Go and GNU tar read them so)
HEADER_ONLY = frozenset((LNK, SYM, CHR, BLK, DIR, FIFO))
POSIX_MAGIC = b"ustar\x00"
XATTR_PREFIX = "SCHILY.xattr."
#: pax records bigger than this are refused (a hostile header must not eat the memory)
MAX_META = 1 << 20


class Member:
    """One member's header: `name` and `linkname` as str (UTF-8, surrogateescape, as `os`
    takes them), `type` the type flag byte, `mtime_ns`, and the pax records (bytes values)."""

    __slots__ = ("gid", "linkname", "mode", "mtime_ns", "name", "pax", "size", "type", "uid")

    def __init__(self, name: str, type_: int, mode: int, uid: int, gid: int, size: int,
                 mtime_ns: int, linkname: str, pax: dict[str, bytes]) -> None:
        self.name = name
        self.type = type_
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.size = size
        self.mtime_ns = mtime_ns
        self.linkname = linkname
        self.pax = pax

    def xattrs(self) -> Iterator[tuple[str, bytes]]:
        for key, value in self.pax.items():
            if key.startswith(XATTR_PREFIX):
                yield key[len(XATTR_PREFIX):], value


class TarReader:
    """Members of the tar whose bytes `next_chunk()` returns piece by piece (b"" at the end).

    Iterating yields each member; its data, if any, is read with `data(member)` before the
    next member is asked for (what is left unread is skipped)."""

    def __init__(self, next_chunk: Callable[[], bytes],
                 record: Callable[[memoryview], None] | None = None) -> None:
        self._next = next_chunk
        #: given every byte that is not a member's content read through `data()` (tar-split)
        self._record = record
        self._buf = memoryview(b"")
        self._pos = 0
        self._left = 0  # data bytes of the current member not read yet
        self._pad = 0  # then padding up to the next block

    # -- the byte stream ---------------------------------------------------------------------

    def _more(self) -> bool:
        chunk = self._next()
        if not chunk:
            return False
        rest = self._buf[self._pos:]
        self._buf = memoryview(bytes(rest) + chunk if rest else chunk)
        self._pos = 0
        return True

    def _take(self, n: int) -> memoryview:
        """The next `n` bytes (fewer only at the end of the stream)."""
        while len(self._buf) - self._pos < n and self._more():
            pass
        out = self._buf[self._pos:self._pos + n]
        self._pos += len(out)
        if self._record is not None:
            self._record(out)
        return out

    def rest(self) -> memoryview:
        """What is buffered but not consumed (after the end blocks): for the tar-split."""
        out = self._buf[self._pos:]
        self._pos = len(self._buf)
        return out

    def _pieces(self, n: int) -> Iterator[memoryview]:
        """The next `n` bytes as views of the chunks they arrived in (no copies)."""
        while n:
            if self._pos == len(self._buf) and not self._more():
                raise IntegrityError("layer tar is truncated (unexpected end of data)")
            piece = self._buf[self._pos:self._pos + n]
            self._pos += len(piece)
            n -= len(piece)
            if self._record is not None:
                self._record(piece)
            yield piece

    def _skip(self, n: int) -> None:
        for _ in self._pieces(n):
            pass

    def data(self, m: Member) -> Iterator[memoryview]:
        """The member's content, as views of the chunks it arrived in."""
        while self._left:
            if self._pos == len(self._buf) and not self._more():
                raise IntegrityError("layer tar is truncated (unexpected end of data)")
            piece = self._buf[self._pos:self._pos + self._left]
            self._pos += len(piece)
            self._left -= len(piece)
            yield piece

    def _data_bytes(self, size: int) -> bytes:
        if size > MAX_META:
            raise IntegrityError(f"layer tar has a {size}-byte extended header")
        data = bytes(self._take(size))
        if len(data) < size:
            raise IntegrityError("layer tar is truncated (unexpected end of data)")
        self._skip(-size % BLOCK)
        return data

    # -- headers -----------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Member]:
        gpax: dict[str, bytes] = {}
        while True:
            self._skip(self._left + self._pad)
            self._left = self._pad = 0
            m = self._member(gpax)
            if m is None:
                return
            self._left = m.size if m.type not in HEADER_ONLY else 0
            self._pad = -self._left % BLOCK
            yield m

    def _member(self, gpax: dict[str, bytes]) -> Member | None:
        """The next real member, with the extended headers before it applied."""
        pax: dict[str, bytes] = dict(gpax)
        long_name = long_link = b""
        while True:
            hdr = self._take(BLOCK)
            if len(hdr) < BLOCK:
                if not hdr:
                    return None  # no end-of-archive blocks: tolerated, as tarfile does
                raise IntegrityError("layer tar is truncated (a partial header)")
            hdr_b = bytes(hdr)
            if hdr_b == ZERO_BLOCK:
                return None
            _check_sum(hdr_b)
            type_ = hdr_b[156]
            if type_ in (PAX, PAX_SOLARIS, PAX_GLOBAL, GNU_LONGNAME, GNU_LONGLINK):
                data = self._data_bytes(_num(hdr_b[124:136]))
                if type_ == PAX_GLOBAL:
                    gpax.update(_pax_records(data))
                    pax.update(_pax_records(data))
                elif type_ == GNU_LONGNAME:
                    long_name = data.split(b"\0", 1)[0]
                elif type_ == GNU_LONGLINK:
                    long_link = data.split(b"\0", 1)[0]
                else:
                    pax.update(_pax_records(data))
                continue
            if type_ == GNU_SPARSE or any(k.startswith("GNU.sparse.") for k in pax):
                raise IntegrityError("layer tar has a sparse file, which pyc does not unpack")
            return _build(hdr_b, type_, pax, long_name, long_link)


def _build(hdr: bytes, type_: int, pax: dict[str, bytes], long_name: bytes,
           long_link: bytes) -> Member:
    raw_name = long_name or _cstr(hdr[0:100])
    if not long_name and hdr[257:263] == POSIX_MAGIC:
        prefix = _cstr(hdr[345:500])
        if prefix:
            raw_name = prefix + b"/" + raw_name
    # An empty pax value unsets the record (a global one, for this member).
    name = _text(pax.get("path") or raw_name)
    link = _text(pax.get("linkpath") or long_link or _cstr(hdr[157:257]))
    if type_ == AREG and name.endswith("/"):
        type_ = DIR
    if type_ == DIR:
        name = name.rstrip("/")
    try:
        size = int(pax["size"]) if pax.get("size") else _num(hdr[124:136])
        uid = int(pax["uid"]) if pax.get("uid") else _num(hdr[108:116])
        gid = int(pax["gid"]) if pax.get("gid") else _num(hdr[116:124])
        mtime_ns = int(float(pax["mtime"]) * 1e9) if pax.get("mtime") else \
            _num(hdr[136:148]) * 1_000_000_000
    except ValueError:
        raise IntegrityError(f"layer tar member {name!r} has an invalid pax number") from None
    if size < 0:
        raise IntegrityError(f"layer tar member {name!r} has a negative size")
    return Member(name, type_, _num(hdr[100:108]) & 0o7777, uid, gid, size, mtime_ns, link,
                  pax)


def _cstr(field: bytes) -> bytes:
    return field.split(b"\0", 1)[0]


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _num(field: bytes) -> int:
    """A numeric header field: octal text, or GNU's base-256 (first byte 0x80 or 0xff)."""
    if field[0] in (0x80, 0xFF):
        n = int.from_bytes(field[1:], "big")
        return n - (1 << (8 * (len(field) - 1))) if field[0] == 0xFF else n
    text = field.split(b"\0", 1)[0].strip()
    try:
        return int(text, 8) if text else 0
    except ValueError:
        raise IntegrityError(f"layer tar has an invalid header field {bytes(field)!r}") \
            from None


def _check_sum(hdr: bytes) -> None:
    """The header checksum (sum of its bytes, the checksum field counted as spaces).

    adler32's low half is 1 + that sum modulo 65521, which lets C do the addition; a
    mismatch is confirmed in Python, where the signed sum old tars wrote is accepted too."""
    stored = _num(hdr[148:156])
    fast = ((zlib.adler32(hdr) & 0xFFFF) - (zlib.adler32(hdr[148:156]) & 0xFFFF) + 256) % 65521
    if fast == stored % 65521:
        return
    plain = bytes(hdr[:148]) + b" " * 8 + bytes(hdr[156:])
    if stored in (sum(plain), sum(b - 256 if b > 127 else b for b in plain)):
        return
    raise IntegrityError("layer is not a valid tar archive: bad header checksum")


def _pax_records(data: bytes) -> dict[str, bytes]:
    """`%d key=value\\n` records. An empty value unsets a key: kept as b"", which the
    readers above take as absent."""
    out: dict[str, bytes] = {}
    pos = 0
    while pos < len(data) and data[pos] != 0:
        sp = data.find(b" ", pos)
        try:
            length = int(data[pos:sp]) if sp > pos else 0
        except ValueError:
            length = 0
        end = pos + length
        if length <= 0 or end > len(data) or data[end - 1] != 0x0A:
            raise IntegrityError("layer tar has an invalid pax header")
        key, eq, value = data[sp + 1:end - 1].partition(b"=")
        if not eq:
            raise IntegrityError("layer tar has an invalid pax header")
        out[key.decode("utf-8", "surrogateescape")] = value
        pos = end
    return out
