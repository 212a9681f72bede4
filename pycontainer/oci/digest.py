"""Content digests (`sha256:<hex>`) and a reader that verifies a stream while it is read."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, BinaryIO, Protocol

from pycontainer.errors import IntegrityError, InvalidReference

if TYPE_CHECKING:
    import hashlib

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_OTHER = re.compile(r"^(sha384:[0-9a-f]{96}|sha512:[0-9a-f]{128})$")


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def is_digest(value: str) -> bool:
    return bool(_DIGEST.match(value) or _OTHER.match(value))


def validate(value: str) -> str:
    """`value` if it is a well-formed digest, else InvalidReference."""
    if not is_digest(value):
        raise InvalidReference(f"invalid digest {value!r}: expected sha256:<64 hex digits>")
    return value


def hex_of(digest: str) -> str:
    return validate(digest).split(":", 1)[1]


def of_bytes(data: bytes) -> str:
    import hashlib  # lazily: _hashlib loads libcrypto (~2 ms), and `pyc run` hashes nothing

    return "sha256:" + hashlib.sha256(data).hexdigest()


def hasher(digest: str) -> hashlib._Hash:
    import hashlib

    algo = validate(digest).split(":", 1)[0]
    return hashlib.new(algo)


def verify_bytes(data: bytes, digest: str, size: int | None = None) -> bytes:
    """`data` unchanged, or IntegrityError naming `digest` if it does not match."""
    if size is not None and size >= 0 and len(data) != size:
        raise IntegrityError(f"size mismatch for {digest}: expected {size}, got {len(data)}")
    h = hasher(digest)
    h.update(data)
    if f"{h.name}:{h.hexdigest()}" != digest:
        raise IntegrityError(f"digest mismatch for {digest}: content hashes to "
                             f"{h.name}:{h.hexdigest()}")
    return data


class DigestingReader:
    """Wraps a stream; hashes and counts everything read; `verify()` at EOF.

    Reading past the expected size fails at once, so a lying server cannot fill the disk.
    """

    def __init__(self, stream: Readable | BinaryIO, digest: str, size: int = -1) -> None:
        self._stream = stream
        self.expected = digest
        self.expected_size = size
        self._hash = hasher(digest)
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self._stream.read(n)
        if data:
            self.count += len(data)
            if 0 <= self.expected_size < self.count:
                raise IntegrityError(
                    f"size mismatch for {self.expected}: more than {self.expected_size} bytes")
            self._hash.update(data)
        return data

    def update(self, data: bytes) -> None:
        """Account for bytes obtained elsewhere (e.g. a resumed partial download)."""
        self.count += len(data)
        self._hash.update(data)

    @property
    def actual(self) -> str:
        return f"{self._hash.name}:{self._hash.hexdigest()}"

    def verify(self) -> None:
        if self.expected_size >= 0 and self.count != self.expected_size:
            raise IntegrityError(f"size mismatch for {self.expected}: expected "
                                 f"{self.expected_size} bytes, got {self.count}")
        if self.actual != self.expected:
            raise IntegrityError(f"digest mismatch for {self.expected}: content hashes to "
                                 f"{self.actual}")
