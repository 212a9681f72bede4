"""`container prune`: remove the stopped containers the filters select."""

from __future__ import annotations

import contextlib

from pycontainer.errors import PycError
from pycontainer.ops.lifecycle import remove, store_for
from pycontainer.paths import Paths


def prune(paths: Paths, filters: list[str] | None = None) -> list[str]:
    from pycontainer.ops.ps import PsOptions, list_containers

    removed = []
    store_for(paths).sweep_unfinished()  # what killed creates left: never listed, not counted
    entries = list_containers(paths, PsOptions(all=True, filters=list(filters or [])))
    for e in entries:
        if e.state in ("exited", "created"):
            with contextlib.suppress(PycError):
                removed.append(remove(paths, e.id))
    return removed
