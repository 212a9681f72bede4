"""`pyc volume create|ls|inspect|rm|prune|exists`, and which containers use a volume.

In use (Docker refuses `volume rm` and skips the volume in `prune` while any container, running
or not, mounts it): a container uses volume NAME when an entry of its config's `spec.mounts`
(`containers.model.ContainerConfig.spec`, an `oci.convert.ContainerSpec`; each entry an
OCI mount dict: destination, type, source, options) either

  * has `"source"` equal to, or inside, the volume's directory `<data>/volumes/NAME` (the
    volume's content is `<data>/volumes/NAME/_data`: a bind of it is a use), or
  * names it explicitly: `"volume": NAME` (an extra key, ignored by `oci.Mount.from_dict`).

So the `-v NAME:/path` wiring in `run`/`create` only has to record the mount it makes; this
module is the one place that reads it (`users_of`, `usage`). Ops never print or exit.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pycontainer.errors import ContainerNotFound, IntegrityError, UsageError
from pycontainer.formats import filters as _filters
from pycontainer.formats.sortorder import natural_key
from pycontainer.ops import events
from pycontainer.paths import Paths
from pycontainer.volumes.store import (
    Filters,
    PruneReport,
    Volume,
    VolumeStore,
    inspect_json,
)

if TYPE_CHECKING:
    from pycontainer.oci.convert import ContainerSpec

#: the filters `volume prune` accepts (Docker >= 23: `all` is `--all`)
PRUNE_FILTERS = frozenset({"label", "label!", "all"})


def store(paths: Paths) -> VolumeStore:
    return VolumeStore(paths.volumes)


# --- filters -----------------------------------------------------------------------------


# --- in use --------------------------------------------------------------------------------


def volume_names_of(spec: ContainerSpec, volumes_root: Path) -> set[str]:
    """The volumes a container spec mounts (see the module docstring)."""
    names: set[str] = set()
    root = os.path.normpath(str(volumes_root))
    for m in spec.mounts:
        if not isinstance(m, dict):
            continue
        if isinstance(m.get("volume"), str) and m["volume"]:
            names.add(m["volume"])
        source = m.get("source")
        if not isinstance(source, str) or not source.startswith("/"):
            continue
        rel = os.path.relpath(os.path.normpath(source), root)
        first = rel.split(os.sep, 1)[0]
        if first not in ("", ".", "..") and not first.startswith("."):
            names.add(first)
    return names


def usage(paths: Paths) -> dict[str, list[str]]:
    """volume name -> ids of the containers (any state) that mount it."""
    from pycontainer.containers.store import ContainerStore

    cstore = ContainerStore(paths)
    users: dict[str, list[str]] = {}
    for cid in sorted(cstore.ids()):
        try:
            spec = cstore.load_config(cid).spec  # its state may be broken: still a user
        except (ContainerNotFound, IntegrityError, OSError, ValueError, TypeError):
            continue  # removed meanwhile, or half-written by a create in progress
        for name in volume_names_of(spec, paths.volumes):
            users.setdefault(name, []).append(cid)
    return users


def users_of(paths: Paths, name: str) -> list[str]:
    """Ids of the containers whose config mounts volume `name` (empty: not in use)."""
    return usage(paths).get(name, [])


# --- commands ----------------------------------------------------------------------------


def create(paths: Paths, name: str | None, labels: dict[str, str] | None = None,
           options: dict[str, str] | None = None, driver: str = "local") -> Volume:
    """`volume create [NAME]`: an existing volume of that name is returned as it is (Docker).

    Without NAME Docker makes a named volume with a random 64-hex name, not an anonymous one
    (only volumes a container creates for `-v /path` are anonymous).
    """
    volume = store(paths).create(name or os.urandom(32).hex(), labels, options, driver)
    events.volume(paths, "create", volume.name, driver)
    return volume


def list_volumes(paths: Paths, filters: list[str]) -> list[dict[str, Any]]:
    """`volume ls`: inspect objects of the matching volumes, in Docker's (natural) order."""
    parsed = _filters.parse(filters)
    busy = usage(paths) if "dangling" in parsed else {}
    vols = store(paths).list(parsed, in_use=busy.__contains__)
    return [inspect_json(v) for v in sorted(vols, key=lambda v: natural_key(v.name))]


def inspect(paths: Paths, name: str) -> dict[str, Any]:
    return inspect_json(store(paths).get(name))


def exists(paths: Paths, name: str) -> bool:
    return store(paths).exists(name)


def remove(paths: Paths, name: str, force: bool = False) -> bool:
    """`volume rm [-f]`: False when `force` and there was no such volume (nothing printed).

    Refused while a container uses the volume, with or without -f (as Docker does).
    """
    vstore = store(paths)
    if force and not vstore.exists(name):
        return False
    users = users_of(paths, name)
    vstore.remove(name, users=users, force=force)
    events.volume(paths, "destroy", name)
    return True


def check_prune_filters(all_volumes: bool, filters: list[str]) -> tuple[bool, Filters]:
    """Validate `volume prune`'s flags (before its prompt): (all volumes?, other filters)."""
    parsed = _filters.check(filters, PRUNE_FILTERS)
    if "all" in parsed:
        if all_volumes:
            raise UsageError("conflicting options: cannot specify both --all and --filter all=1")
        all_volumes = _filters.boolean("all", parsed.pop("all")[-1])
    return all_volumes, parsed


def prune(paths: Paths, all_volumes: bool, filters: list[str]) -> PruneReport:
    """`volume prune [-a] [--filter label=|label!=|all=]`: unused anonymous volumes (all
    unused ones with -a); `label!=` keeps the volumes it matches."""
    all_volumes, parsed = check_prune_filters(all_volumes, filters)
    keep = parsed.pop("label!", [])
    vstore = store(paths)
    busy = set(usage(paths))
    if keep:
        busy |= {v.name for v in vstore.list()
                 if any(_filters.match_label(v.labels, spec) for spec in keep)}
    return vstore.prune(busy, all_volumes=all_volumes, filters=parsed)


