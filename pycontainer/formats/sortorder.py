"""Docker's name ordering (github.com/fvbommel/sortorder NaturalLess, which `docker network
ls`, `volume ls` and `port` sort by): digit runs compare as numbers, so "v2" < "v10"."""

from __future__ import annotations

import re

_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> list[tuple[int, int, str]]:
    """A sort key giving NaturalLess's order."""
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in _DIGITS.split(text) if p]
