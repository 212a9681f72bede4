"""`pyc builder prune`: remove the build cache (`<data>/build-cache`, see `ops.build.store`).

Without `all_`, only the dangling cache goes: step entries that keep blobs or layers no image
uses (the steps of stages that are in no image, of images since removed) and entries that
cannot be used any more. With `all_`, every step entry, the `RUN --mount=type=cache` dirs and
the remembered context file hashes go. Then the store collects what nothing refers to any
more. All of it under the store's exclusive `collecting()` lock: no build is running (builds
hold `adding()` from start to end), and none starts until the prune is done.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from pycontainer.images.store import ImageStore, keep_refs
from pycontainer.linux.fs import read_json
from pycontainer.paths import Paths


@dataclass
class BuilderPruneReport:
    deleted: list[str] = field(default_factory=list)  # cache keys of removed step entries
    reclaimed: int = 0  # bytes


def prune(paths: Paths, all_: bool = False) -> BuilderPruneReport:
    store = ImageStore(paths)
    root = Path(paths.build_cache)
    report = BuilderPruneReport()
    with store.collecting(wait=True):
        in_images = store.referenced(keep_files=False)
        steps = root / "steps"
        for entry in sorted(steps.glob("*.json")) if steps.is_dir() else []:
            if all_ or _dangling(store, entry, in_images):
                with contextlib.suppress(FileNotFoundError):
                    report.reclaimed += entry.stat().st_size
                    entry.unlink()
                    report.deleted.append(entry.stem)
        if all_:
            report.reclaimed += _remove_dirs(root)
        report.reclaimed += sum(store.collect())
    return report


def _dangling(store: ImageStore, entry: Path, in_images: tuple[set[str], set[str]]) -> bool:
    """Does the entry keep something no image uses, or can it not be used at all?"""
    try:
        read_json(entry)
    except (OSError, ValueError):
        return True
    blobs, diff_ids = keep_refs(entry)
    if not blobs <= in_images[0] or not diff_ids <= in_images[1]:
        return True
    # pulled layers keep no blob when their tar-split can rebuild it (images.tarsplit)
    return not (all(store.layers.has(d) for d in diff_ids) and
                (all(store.blobs.has(b) for b in blobs) or
                 all(store.layers.has_split(d) for d in diff_ids)))


def _remove_dirs(root: Path) -> int:
    """Remove the cache mounts (owned by subordinate ids: inside the user namespace) and the
    file hashes; returns about how many bytes they held."""
    from pycontainer.linux import userns
    from pycontainer.storage.driver import remove_tree

    size = 0
    for sub in ("mounts", "files"):
        d = root / sub
        if not d.is_dir():
            continue
        for top, dirs, files in os.walk(d):
            for name in dirs + files:
                with contextlib.suppress(OSError):
                    size += os.lstat(os.path.join(top, name)).st_size
        for child in list(d.iterdir()):
            if child.is_dir() and not child.is_symlink():
                remove_tree(child, userns.default_mapping())
            else:
                with contextlib.suppress(FileNotFoundError):
                    child.unlink()
    return size
