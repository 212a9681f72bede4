"""formats.units against go-units' size_test.go (RAMInBytes, FromHumanSize, HumanSize,
BytesSize) and the three-digit sizes Docker's CLI prints."""

from __future__ import annotations

import pytest

from pycontainer.errors import UsageError
from pycontainer.formats.units import (
    bytes_size,
    from_human_size,
    human_size,
    human_size_with_precision,
    ram_in_bytes,
)

KIB, MIB, GIB, TIB, PIB = (1024**n for n in range(1, 6))
KB, MB, GB, TB, PB = (1000**n for n in range(1, 6))


@pytest.mark.parametrize(("text", "expected"), [
    ("32", 32), ("32b", 32), ("32B", 32), ("32k", 32 * KIB), ("32K", 32 * KIB),
    ("32kb", 32 * KIB), ("32Kb", 32 * KIB), ("32Kib", 32 * KIB), ("32KIB", 32 * KIB),
    ("32Mb", 32 * MIB), ("32Gb", 32 * GIB), ("32Tb", 32 * TIB), ("32Pb", 32 * PIB),
    ("32PB", 32 * PIB), ("32P", 32 * PIB), ("32.3", 32), ("32.3 mb", int(32.3 * MIB)),
    ("0.3MB", int(0.3 * MIB)), ("512m", 512 * MIB),
])
def test_ram_in_bytes(text: str, expected: int) -> None:
    assert ram_in_bytes(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("32", 32), ("32b", 32), ("32B", 32), ("32k", 32 * KB), ("32K", 32 * KB),
    ("32kb", 32 * KB), ("32Kb", 32 * KB), ("32Mb", 32 * MB), ("32Gb", 32 * GB),
    ("32Tb", 32 * TB), ("32Pb", 32 * PB), ("32.5kB", 32500), ("32.5 kB", 32500),
    ("32.5 B", 32), ("0.3 K", 300),
])
def test_from_human_size(text: str, expected: int) -> None:
    assert from_human_size(text) == expected


# go-units' error cases, and "1.2.3k" (its regex takes it; ParseFloat refuses it)
@pytest.mark.parametrize("text", ["", "hello", "-32", ".3kB", " 32 ", "32m b", "32bm",
                                  "1.2.3k", "32x", "32  b"])
def test_bad_sizes(text: str) -> None:
    with pytest.raises(UsageError, match=f"^invalid size: '{text}'$"):
        ram_in_bytes(text)
    with pytest.raises(UsageError, match="invalid size"):
        from_human_size(text)


def test_p_is_a_unit_everywhere() -> None:
    # one of the old parsers (--log-opt max-size) did not know "p"; go-units does
    assert ram_in_bytes("1p") == PIB
    assert ram_in_bytes("2PiB") == 2 * PIB


@pytest.mark.parametrize(("size", "expected"), [
    (1000, "1kB"), (1024, "1.024kB"), (1000000, "1MB"), (1048576, "1.049MB"), (2 * MB, "2MB"),
    (3.42 * GB, "3.42GB"), (5.372 * TB, "5.372TB"), (2.22 * PB, "2.22PB"),
    (10000000000000 * PB, "1e+04YB"), (0, "0B"), (999, "999B"), (12_345_678, "12.35MB"),
])
def test_human_size(size: float, expected: str) -> None:
    assert human_size(size) == expected


@pytest.mark.parametrize(("size", "expected"), [  # HumanSizeWithPrecision(size, 3)
    (0, "0B"), (999, "999B"), (1000, "1kB"), (1024, "1.02kB"), (1234, "1.23kB"),
    (13256, "13.3kB"), (999_999, "1e+03kB"), (72_900_000, "72.9MB"), (1e30, "1e+06YB"),
])
def test_human_size_three_digits(size: float, expected: str) -> None:
    assert human_size_with_precision(size, 3) == expected


@pytest.mark.parametrize(("size", "expected"), [
    (1024, "1KiB"), (1024 * 1024, "1MiB"), (2 * MIB, "2MiB"), (3.42 * GIB, "3.42GiB"),
    (5.372 * TIB, "5.372TiB"), (2.22 * PIB, "2.22PiB"),
    (KIB * KIB * KIB * KIB * KIB * PIB, "1.049e+06YiB"), (0, "0B"),
])
def test_bytes_size(size: float, expected: str) -> None:
    assert bytes_size(size) == expected
