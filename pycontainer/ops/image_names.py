"""Podman's name verbs: `untag IMAGE [NAME...]`, `tag SOURCE TARGET...`, `rmi -a`.

The store's own `tag`/`untag` do the work; this is the choice of names, and Podman's
errors: an untag of a name the image does not have fails (`tag not known`).
"""

from __future__ import annotations

from pycontainer.errors import ImageNotFound
from pycontainer.oci import reference
from pycontainer.ops.images import display_name, store
from pycontainer.paths import Paths


def tag_many(paths: Paths, source: str, targets: list[str]) -> None:
    """`tag SOURCE TARGET...`: every target, each checked before any is made."""
    for target in targets:
        reference.parse(target)  # a bad name fails before the first tag exists
    s = store(paths)
    for target in targets:
        s.tag(source, target)


def untag(paths: Paths, image: str, names: list[str]) -> list[str]:
    """Remove `names` (none: all) from the image, which stays (as `<none>` if it has no name
    left); the names removed, normalised."""
    s = store(paths)
    rec = s.resolve(image)
    if names:
        wanted = [reference.parse(n).tagged for n in names]
        for tagged in wanted:
            if tagged not in rec.names:
                raise ImageNotFound(f"{display_name(tagged)}: tag not known")
    else:
        wanted = list(rec.names)
    for tagged in wanted:
        s.untag(rec.id, tagged)
    return wanted


def all_names(paths: Paths) -> list[str]:
    """`rmi -a`: every name of every image (the last one removed takes the image with
    it), or its id when it has none."""
    return [n for rec in store(paths).all() for n in (rec.names or [rec.id])]
