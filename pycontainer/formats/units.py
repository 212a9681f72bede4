"""go-units sizes: what Docker accepts for `--memory 512m` and prints as `1.23kB`.

API:

    ram_in_bytes(text) -> int         # RAMInBytes: binary multiples, "512m" -> 536870912
    from_human_size(text) -> int      # FromHumanSize: decimal multiples, "32kB" -> 32000
    human_size_with_precision(size, precision) -> str   # "1.23kB" (decimal units, %.*g)
    human_size(size) -> str           # HumanSize: 4 significant digits ("1.024kB")
    bytes_size(size) -> str           # BytesSize: binary units, 4 digits ("1.5MiB")

A bad size raises `UsageError("invalid size: 'TEXT'")`, go-units' message.
"""

from __future__ import annotations

import re

from pycontainer.errors import UsageError

KB, MB, GB, TB, PB = (1000**n for n in range(1, 6))
KIB, MIB, GIB, TIB, PIB = (1024**n for n in range(1, 6))
_DECIMAL = {"k": KB, "m": MB, "g": GB, "t": TB, "p": PB}
_BINARY = {"k": KIB, "m": MIB, "g": GIB, "t": TIB, "p": PIB}
# go-units' sizeRegex: digits (dotted groups, so "1.2.3" is a ParseFloat error), one optional
# space, an optional unit letter and optional "i" / "b"; no other spaces, no sign
_SIZE = re.compile(r"^(\d+(\.\d+)*) ?([kmgtp])?i?b?$", re.IGNORECASE)
_DECIMAL_ABBRS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")
_BINARY_ABBRS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")


def _parse(text: str, multiples: dict[str, int]) -> int:
    m = _SIZE.match(text)
    try:
        if m is None:
            raise ValueError(text)
        value = float(m.group(1))
    except ValueError:
        raise UsageError(f"invalid size: '{text}'") from None
    return int(value * multiples.get((m.group(3) or "").lower(), 1))


def ram_in_bytes(text: str) -> int:
    """go-units RAMInBytes: b/k/m/g/t/p in any case, binary multiples, truncated to bytes."""
    return _parse(text, _BINARY)


def from_human_size(text: str) -> int:
    """go-units FromHumanSize: the same syntax with decimal (SI) multiples."""
    return _parse(text, _DECIMAL)


def _scaled(size: float, base: float, abbrs: tuple[str, ...]) -> tuple[float, str]:
    value, unit = float(size), 0
    while value >= base and unit < len(abbrs) - 1:
        value /= base
        unit += 1
    return value, abbrs[unit]


def human_size_with_precision(size: float, precision: int) -> str:
    """go-units HumanSizeWithPrecision: decimal units, `precision` significant digits."""
    value, unit = _scaled(size, 1000.0, _DECIMAL_ABBRS)
    # Python's %g matches Go's %.*g (same exponent rule, trailing zeros removed, e+04)
    return f"{value:.{precision}g}{unit}"


def human_size(size: float) -> str:
    """go-units HumanSize: 4 significant digits ("2.746MB"), as `system df` prints sizes."""
    return human_size_with_precision(size, 4)


def bytes_size(size: float) -> str:
    """go-units BytesSize: binary units, 4 significant digits ("44KiB", "3.42GiB")."""
    value, unit = _scaled(size, 1024.0, _BINARY_ABBRS)
    return f"{value:.4g}{unit}"


__all__ = ["bytes_size", "from_human_size", "human_size", "human_size_with_precision",
           "ram_in_bytes"]
