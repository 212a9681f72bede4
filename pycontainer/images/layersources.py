"""Where a layer's compressed forms are: diff id -> (registry, repository, digest, media type,
size), recorded at pull (and push) instead of keeping the compressed bytes.

`layers/<hex>.sources.json`: {"sources": [LayerSource, ...]}, replaced atomically under the
layer's lock. Push uses it to find a blob the target registry already has (HEAD) or can
mount from another repository of the same registry, before it recompresses the layer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from pycontainer.linux.fs import atomic_write_json, read_json

if TYPE_CHECKING:
    from pycontainer.images.store import ImageStore

#: bound the record: the newest ones are the useful ones
MAX_SOURCES = 16


@dataclass(frozen=True)
class LayerSource:
    registry: str  # host[:port] the blob was fetched from / pushed to
    repository: str
    digest: str  # of the compressed blob
    media_type: str
    size: int


def sources(store: ImageStore, diff_id: str) -> list[LayerSource]:
    try:
        obj = read_json(store.layers.sources_path(diff_id))
    except (OSError, ValueError):
        return []
    items = obj.get("sources") if isinstance(obj, dict) else None
    out = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        try:
            out.append(LayerSource(str(item["registry"]), str(item["repository"]),
                                   str(item["digest"]), str(item["media_type"]),
                                   int(item["size"])))
        except (KeyError, TypeError, ValueError):
            continue
    return out


def add_sources(store: ImageStore, diff_id: str, new: list[LayerSource]) -> None:
    """Record where `diff_id`'s compressed forms are (newest first, no duplicates)."""
    with store.layer_lock(diff_id):
        old = sources(store, diff_id)
        merged = list(dict.fromkeys(new + old))[:MAX_SOURCES]
        if merged != old:
            atomic_write_json(store.layers.sources_path(diff_id),
                              {"sources": [asdict(s) for s in merged]}, mode=0o600)
