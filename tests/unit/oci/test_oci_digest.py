from __future__ import annotations

import hashlib
import io

import pytest

from pycontainer.errors import IntegrityError, InvalidReference
from pycontainer.oci import digest

DATA = b"hello world" * 1000
GOOD = "sha256:" + hashlib.sha256(DATA).hexdigest()


def test_digesting_reader_verifies_while_streaming() -> None:
    r = digest.DigestingReader(io.BytesIO(DATA), GOOD, len(DATA))
    while r.read(100):
        pass
    r.verify()
    assert r.count == len(DATA)


def test_digesting_reader_names_the_digest_on_mismatch() -> None:
    r = digest.DigestingReader(io.BytesIO(DATA[:-1] + b"X"), GOOD, len(DATA))
    r.read()
    with pytest.raises(IntegrityError, match=GOOD):
        r.verify()


def test_digesting_reader_stops_a_stream_longer_than_declared() -> None:
    r = digest.DigestingReader(io.BytesIO(DATA), GOOD, 10)
    with pytest.raises(IntegrityError, match="size mismatch"):
        r.read()


def test_short_stream_is_a_size_mismatch() -> None:
    r = digest.DigestingReader(io.BytesIO(DATA[:5]), GOOD, len(DATA))
    r.read()
    with pytest.raises(IntegrityError, match="size mismatch"):
        r.verify()


@pytest.mark.parametrize("bad", ["sha256:abc", "md5:" + "0" * 32, "sha256:" + "G" * 64, ""])
def test_malformed_digests(bad: str) -> None:
    assert not digest.is_digest(bad)
    with pytest.raises(InvalidReference):
        digest.validate(bad)


def test_verify_bytes() -> None:
    assert digest.verify_bytes(DATA, GOOD, len(DATA)) == DATA
    with pytest.raises(IntegrityError):
        digest.verify_bytes(DATA + b"x", GOOD)
