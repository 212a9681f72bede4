"""`rename`: a new name in the index, then the record rewritten, then the old name freed."""

from __future__ import annotations

from pycontainer.errors import Conflict
from pycontainer.ops import events
from pycontainer.ops.lifecycle import store_for
from pycontainer.paths import Paths


def rename(paths: Paths, ref: str, new_name: str) -> None:
    store = store_for(paths)
    cid = store.resolve(ref)
    with store.lock(cid):
        c = store.load(cid)
        if new_name.lstrip("/") == c.name:
            raise Conflict("Renaming a container with the same name as its current name")
        store.reserve_name(new_name.lstrip("/"), cid)
        old = c.name
        c.config.name = new_name.lstrip("/")
        store.save_config(c.config)
        store.release_name(old, cid)
    events.container(paths, c, "rename", oldName=old)
