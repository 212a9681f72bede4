"""Kubernetes resource quantities (apimachinery's resource.Quantity) for memory and cpu."""

from __future__ import annotations

import re

_SUFFIX = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
           "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "Pi": 1 << 50,
           "Ei": 1 << 60, "m": 0}
_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE]([+-]?[0-9]+))?([a-zA-Z]*)$")


def _parse(text: str) -> float:
    m = _QUANTITY.match(text.strip())
    if not m or m.group(3) not in _SUFFIX or (m.group(2) and m.group(3)):
        raise ValueError(f"invalid quantity {text!r}")
    number = float(m.group(1)) * (10 ** int(m.group(2)) if m.group(2) else 1)
    suffix = m.group(3)
    return number / 1000 if suffix == "m" else number * _SUFFIX[suffix]


def memory_bytes(text: str) -> int:
    value = _parse(text)
    if value < 1:
        raise ValueError(f"memory limit {text!r} is less than one byte")
    return int(value)


def cpu_cores(text: str) -> float:
    value = _parse(text)
    if value <= 0:
        raise ValueError(f"cpu limit {text!r} must be positive")
    return value
