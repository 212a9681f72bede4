"""`pyc save` and `pyc load` (docker-archive and oci-archive)."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import BinaryIO

from pycontainer.errors import InvalidReference, UsageError
from pycontainer.images import saveload
from pycontainer.images.store import ImageRecord, ImageStore
from pycontainer.linux.fs import fsync_dir
from pycontainer.oci import reference
from pycontainer.ops import events
from pycontainer.paths import Paths

FORMATS = ("docker-archive", "oci-archive")
#: Podman's directory formats (images/layoutdir.py)
DIR_FORMATS = ("oci-dir", "docker-dir")


def save(paths: Paths, names: list[str], output: str | None,
         fmt: str = "docker-archive", stream: BinaryIO | None = None) -> None:
    """Save to `output` (a file, written whole or not at all), `stream`, or stdout."""
    if fmt not in FORMATS + DIR_FORMATS:
        raise UsageError(f"unsupported save format {fmt!r}: use docker-archive, oci-archive, "
                         "oci-dir or docker-dir")
    if fmt in DIR_FORMATS and not output:
        raise UsageError(f"--format {fmt} writes a directory: name it with -o")
    store = ImageStore(paths)
    items = []
    for n in names:
        rec = store.resolve(n)
        by_name = _tag_of(n, rec.names)
        # Docker: an image saved by its id carries no repository tags (loads as <none>)
        tags = [by_name] if by_name else [] if _by_id(rec, n) else list(rec.names)
        items.append(saveload.SaveItem(rec, tags))
    if fmt in DIR_FORMATS:
        from pathlib import Path

        from pycontainer.images import layoutdir

        assert output is not None
        layoutdir.save_dir(store, items, Path(output), fmt)
        return
    if output is None:
        out = stream or sys.stdout.buffer
        saveload.save(store, items, out, fmt == "oci-archive")
        out.flush()
        _saved(paths, items)
        return
    tmp = f"{output}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            saveload.save(store, items, f, fmt == "oci-archive")
        os.replace(tmp, output)
        fsync_dir(os.path.dirname(os.path.abspath(output)))
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _saved(paths, items)


def _saved(paths: Paths, items: list[saveload.SaveItem]) -> None:
    for item in items:  # dockerd: LogImageEvent(id, id, "save")
        events.image(paths, "save", item.record.id, item.record.id)


def _by_id(rec: ImageRecord, name: str) -> bool:
    from pycontainer.ops.images import _is_id

    return _is_id(rec, name)


def _tag_of(name: str, names: list[str]) -> str:
    """The store name `name` refers to, when it was given as a name (not an id)."""
    try:
        tagged = reference.parse(name).tagged
    except InvalidReference:  # an id
        return ""
    return tagged if tagged in names else ""


def load(paths: Paths, input_path: str | None, stream: BinaryIO | None = None) -> list[str]:
    store = ImageStore(paths)
    if input_path and os.path.isdir(input_path):  # Podman's oci-dir / docker-dir
        from pathlib import Path

        return saveload.load_dir(store, Path(input_path))
    if input_path:
        try:
            f = open(input_path, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise UsageError(f"open {input_path}: {exc.strerror}") from None
        with f:
            return _loaded(paths, store, saveload.load(store, f))
    if stream is None:
        if sys.stdin.isatty():
            raise UsageError("requested load from stdin, but stdin is empty")
        stream = sys.stdin.buffer
    return _loaded(paths, store, saveload.load(store, stream))


def _loaded(paths: Paths, store: ImageStore, names: list[str]) -> list[str]:
    """dockerd's `load` event names the image by its id, once per image."""
    ids = []
    for name in names:
        with contextlib.suppress(Exception):
            ids.append(store.resolve(name).id)
    for image_id in dict.fromkeys(ids):
        events.image(paths, "load", image_id, image_id)
    return names
