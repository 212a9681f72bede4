"""A directory of records named by 64-hex ids with a `names/` index of symlinks (name -> id):
what the container and pod stores share. A name is taken by `symlink(2)`, which either
creates the link or fails, so two creators never both own it."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

NAMES = "names"
_HEX = frozenset("0123456789abcdef")


class RecordIndex:
    """Lookup by id, unique id prefix or name; a record counts once its config.json exists."""

    root: Path

    def release_name(self, name: str, rid: str) -> None:
        if self._read_name(name) == rid:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.root / NAMES / name)

    def _read_name(self, name: str) -> str | None:
        try:
            return os.readlink(self.root / NAMES / name)
        except OSError:
            return None

    def ids(self) -> list[str]:
        try:
            entries = os.listdir(self.root)
        except FileNotFoundError:
            return []
        return [e for e in entries if len(e) == 64 and (self.root / e / "config.json").exists()]

    def candidates(self, ref: str, name: str) -> list[str]:
        """The ids `ref` may mean: itself as a full id, else the record `name` names, else
        every id it prefixes (none: not found; several: ambiguous)."""
        if len(ref) == 64 and (self.root / ref / "config.json").exists():
            return [ref]
        if name:
            rid = self._read_name(name)
            if rid and (self.root / rid / "config.json").exists():
                return [rid]
        if ref and set(ref) <= _HEX:
            return [i for i in self.ids() if i.startswith(ref)]
        return []
