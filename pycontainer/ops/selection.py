"""Podman's `--all`, `--filter` and `rm --depend`: which containers a verb acts on when the
command line names none, or names one that others depend on.

Podman's rule for `--all`: each verb takes the containers it applies to (`stop -a` the
running ones, `unpause -a` the paused ones, `rm -a` every one); `--filter` takes `ps`'s
filters over all containers, the same state rule applied. Ids come newest first, as `ps`.
"""

from __future__ import annotations

from pycontainer.containers.model import Container
from pycontainer.containers.store import ContainerStore
from pycontainer.errors import PycError
from pycontainer.paths import Paths

#: verb -> the Docker states (`ps`'s State) `--all` and `--filter` pick; None: every state
STATES: dict[str, tuple[str, ...] | None] = {
    "start": ("created", "exited"),
    "stop": ("running", "paused", "restarting"),
    "kill": ("running", "paused", "restarting"),
    "pause": ("running",),
    "unpause": ("paused",),
    "restart": None,
    "rm": None,
}


def select(paths: Paths, verb: str, filters: list[str]) -> list[str]:
    """The full ids `verb --all` (filters empty) or `verb --filter ...` acts on."""
    from pycontainer.ops import ps

    entries = ps.list_containers(paths, ps.PsOptions(all=True, filters=list(filters)))
    states = STATES[verb]
    return [e.id for e in entries if states is None or e.state in states]


def dependents(paths: Paths, cid: str) -> list[str]:
    """Containers that need `cid` (`--network`, `--pid`, `--ipc container:`), transitively,
    those that depend on others first: the order `rm --depend` removes them in."""
    store = ContainerStore(paths)
    needs = _needs(store)
    order: list[str] = []

    def visit(target: str) -> None:
        for other, wanted in needs.items():
            if target in wanted and other not in order and other != cid:
                visit(other)
                if other not in order:
                    order.append(other)

    visit(cid)
    return order


def _needs(store: ContainerStore) -> dict[str, set[str]]:
    """{container id: the ids of the containers whose namespaces it joins}."""
    out: dict[str, set[str]] = {}
    for cid in store.ids():
        try:
            c = store.load(cid)
        except PycError:
            continue  # removed meanwhile, or a broken record (it joins nothing we can read)
        wanted = joined(store, c)
        if wanted:
            out[cid] = wanted
    return out


def joined(store: ContainerStore, c: Container) -> set[str]:
    """The ids of the containers `c` joins (`inspect`'s Dependencies, as Podman's)."""
    refs = [c.config.network.container if c.config.network else ""]  # an id, when set
    for key in ("pid", "ipc"):
        mode = str(getattr(c.config.spec, key) or "")
        if mode.startswith("container:"):
            refs.append(mode[len("container:"):])
    wanted = set()
    for ref in filter(None, refs):
        try:
            wanted.add(store.resolve(ref))
        except PycError:
            continue  # gone: nothing to depend on
    return wanted
