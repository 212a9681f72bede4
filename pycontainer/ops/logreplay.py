"""The log as it stands, for an attach with `logs=1`: every record of the rotated files,
then the live file up to a size (the supervisor's MARK: what it logged before the attach
went live), so the replay and the live stream meet without a gap or a repeat."""

from __future__ import annotations

import gzip

from pycontainer.containers.store import ContainerStore
from pycontainer.ops.logs import LogLine, parse_line, rotated_files
from pycontainer.paths import Paths


def _read(path: str, start: int = 0, limit: int | None = None) -> bytes:
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as g:
                return g.read()
        with open(path, "rb") as f:
            f.seek(start)
            return f.read() if limit is None else f.read(max(0, limit - start))
    except (EOFError, OSError):
        return b""  # rotated away (or being compressed) meanwhile: nothing to replay


def replay(paths: Paths, cid: str, start: int | None = None,
           limit: int | None = None) -> tuple[list[LogLine], int]:
    """The container's log records, oldest first, and the live file's size they cover.
    `start` None: the rotated files too, then the live file; a number: the live file from
    that size (what an earlier replay covered). `limit`: the live file's size to stop at."""
    store = ContainerStore(paths)
    if store.load(cid).config.log_driver == "none":
        return [], 0
    path = str(store.log_path(cid))
    lines: list[LogLine] = []
    names = [*rotated_files(path), path] if start is None else [path]
    end = start or 0
    for name in names:
        data = _read(name, start or 0, limit) if name == path else _read(name)
        if name == path:
            end = (start or 0) + len(data)
        lines.extend(line for raw in data.splitlines() if (line := parse_line(raw)))
    return lines, end


def readable(paths: Paths, cid: str) -> bool:
    """False for a container logging to `none` (there is nothing to replay)."""
    return ContainerStore(paths).load(cid).config.log_driver != "none"


__all__ = ["readable", "replay"]
