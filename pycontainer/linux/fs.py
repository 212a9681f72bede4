"""File-system helpers: atomic writes and paths that cannot escape a root."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from pycontainer.errors import UnsafeArchive


def atomic_write(path: str | os.PathLike[str], data: bytes, mode: int = 0o644) -> None:
    """Write `data` to `path` so that readers see the old or the new content, never a part."""
    path = os.fspath(path)
    directory = os.path.dirname(path) or "."
    import tempfile  # lazily: it imports random, shutil, ...

    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.rename(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_json(path: str | os.PathLike[str], obj: object, mode: int = 0o644) -> None:
    atomic_write(path, json.dumps(obj, indent=1, sort_keys=True).encode(), mode)


def read_json(path: str | os.PathLike[str]) -> Any:
    with open(path, "rb") as f:
        return json.loads(f.read())


def fsync_dir(path: str | os.PathLike[str]) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def safe_join(root: str | os.PathLike[str], member: str) -> Path:
    """`root/member` lexically, refusing names that climb out of `root` or are absolute.

    Symlinks are not resolved here; callers that write through a path must also refuse
    symlinked parents (see images.archive).
    """
    parts: list[str] = []
    for part in member.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise UnsafeArchive(f"path {member!r} escapes its root")
            parts.pop()
            continue
        parts.append(part)
    return Path(root).joinpath(*parts)
