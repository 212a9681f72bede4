"""Dropping the compressed copies an older pyc kept beside each pulled layer (`system
prune`): a layer gets a tar-split made from its blob (images.tarsplit.from_stream), the split
is checked to rebuild the layer's exact tar from its unpacked files (the diff id), and only
then is it moved into place and the blob removed. A layer that fails any step keeps its
blob, so no layer is ever left without one of the two forms.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

from pycontainer.errors import PycError
from pycontainer.images import layertar, tarsplit

if TYPE_CHECKING:
    from pycontainer.images.store import ImageStore


def drop_compressed(store: ImageStore) -> int:
    """Bytes of compressed layer copies removed; the caller holds `store.collecting()`."""
    freed = 0
    done: set[str] = set()
    for rec in store.all():
        for desc, diff_id in zip(rec.layers, rec.diff_ids, strict=False):
            digest = str(desc.get("digest", ""))
            if diff_id in done or not store.blobs.has(digest) or \
                    store.layers.has_split(diff_id) or not store.layers.has(diff_id):
                continue
            done.add(diff_id)
            size = store.blobs.size(digest)
            if _convert(store, diff_id, digest):
                freed += size
    return freed


def _convert(store: ImageStore, diff_id: str, digest: str) -> bool:
    tmp = store.layers.root / f".tmp-{os.getpid()}-{os.urandom(6).hex()}.split"
    try:
        with store.blobs.open(digest) as f:
            got, ok = tarsplit.from_stream(f, str(tmp))
        if not ok or got != diff_id:
            return False
        with layertar.open_tar(store, diff_id, split=tmp) as stream:
            while stream.read(1 << 20):
                pass
        with store.layer_lock(diff_id):
            os.rename(tmp, store.layers.split_path(diff_id))
            store.blobs.remove(digest)
        return True
    except (PycError, OSError):  # keep the blob: the layer stays as the older pyc left it
        return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
