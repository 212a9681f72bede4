"""`pyc ps`: the containers, synced with their supervisors, filtered like Docker's."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from pycontainer.containers.lifecycle import Status
from pycontainer.containers.model import Container, ContainerConfig, ContainerState
from pycontainer.containers.store import BrokenRecord, ContainerStore
from pycontainer.errors import PycError, UsageError
from pycontainer.oci.convert import ContainerSpec
from pycontainer.ops import health, netviews, recordcache
from pycontainer.paths import Paths

FILTERS = ("status", "name", "label", "ancestor", "id", "exited", "before", "since", "volume",
           "network", "health", "pod")
STATUSES = ("created", "restarting", "running", "removing", "paused", "exited", "dead")


@dataclass
class PsOptions:
    all: bool = False
    last: int = -1  # -n; -l is 1
    filters: list[str] = field(default_factory=list)
    size: bool = False


@dataclass
class PsEntry:
    id: str
    name: str
    image: str
    command: str
    created: str
    state: str  # Docker's: created running exited ...
    exit_code: int
    started_at: str
    finished_at: str
    labels: dict[str, str]
    size_rw: int | None = None
    ports: str = ""  # the PORTS column: 0.0.0.0:8080->80/tcp
    mounts: str = ""  # the Mounts column: volume names and bind sources
    networks: str = ""  # the Networks column: slirp4netns, none, host or network names
    local_volumes: int = 0
    health: str = ""  # starting, healthy, unhealthy; "" without a healthcheck or not running
    #: the record that does not parse, for a container listed as "dead" (docs/differences.md)
    broken: str = ""
    #: the pod's id and name (`run --pod`), "" outside a pod
    pod: str = ""
    pod_name: str = ""

    def status_text(self, now: float) -> str:
        """Docker's STATUS ("Up 5 minutes (healthy)", "Exited (0) 2 hours ago"): the same
        text in `pyc ps` and in the Engine API's container list."""
        from pycontainer.formats.durations import human_duration
        from pycontainer.formats.timestamps import parse_rfc3339

        def since(stamp: str) -> str:
            return human_duration(now - parse_rfc3339(stamp)) if stamp else ""

        if self.state == "running":
            health = {"": "", "starting": " (health: starting)"}.get(self.health,
                                                                    f" ({self.health})")
            return "Up " + since(self.started_at) + health
        if self.state == "paused":
            return "Up " + since(self.started_at) + " (Paused)"
        if self.state in ("exited", "restarting"):
            ago = since(self.finished_at)
            word = self.state.capitalize()
            return f"{word} ({self.exit_code}) {ago} ago" if ago else f"{word} ({self.exit_code})"
        if self.state == "removing":
            return "Removal In Progress"
        if self.state == "dead" and self.broken:
            return f"Dead (corrupt {self.broken})"
        return self.state.capitalize()


def parse_filters(items: list[str]) -> dict[str, list[str]]:
    from pycontainer.formats import filters

    out = filters.parse(items)
    filters.validate(out, FILTERS)
    for value in out.get("status", []):
        if value not in STATUSES:
            raise UsageError(f"invalid filter 'status={value}'")
    for value in out.get("health", []):
        if value not in health.STATUSES:
            raise UsageError(f"Unrecognised filter value for health: {value}")
    return out


def _matches(c: Container, state: str, f: dict[str, list[str]], image_ids: dict[str, str],
             created: dict[str, float] | None = None,
             store: ContainerStore | None = None) -> bool:
    from pycontainer.formats.filters import match_label

    created = created or {}
    mounts = c.config.spec.mounts
    checks = {
        "status": lambda v: state == v,
        "name": lambda v: re.search(v, c.name) is not None,
        "id": lambda v: c.id.startswith(v),
        "exited": lambda v: state == "exited" and str(c.state.exit_code) == v,
        "label": lambda v: match_label(c.config.spec.labels, v),
        "ancestor": lambda v: v in (c.config.image, c.config.image_id) or (
            image_ids.get(v, "-") == c.config.image_id) or c.config.image_id.startswith(
            "sha256:" + v),
        # before/since: relative to another container's creation, as Docker's filters
        "before": lambda v: _created(c) < created[v],
        "since": lambda v: _created(c) > created[v],
        "volume": lambda v: any(v in (m.get("volume"), m.get("source"), m.get("destination"))
                                for m in mounts),
        "network": lambda v: v in netviews.ps_networks(c).split(","),
        "health": lambda v: store is not None and (health.ps_health(store, c) or "none") == v,
    }
    for key, values in f.items():
        # Docker: the values of one key are ORed, but every label= must hold (MatchKVList)
        combine = all if key == "label" else any
        if key in checks and not combine(checks[key](v) for v in values):
            return False
    return True


def _created(c: Container) -> float:
    from pycontainer.formats.timestamps import epoch

    return epoch(c.config.created, 0.0)


def _reference_times(store: ContainerStore, filters: dict[str, list[str]]) -> dict[str, float]:
    """Creation times of the containers that before=/since= name (errors like Docker's)."""
    out = {}
    for key in ("before", "since"):
        for ref in filters.get(key, []):
            out[ref] = _created(store.load(store.resolve(ref)))
    return out


def list_containers(paths: Paths, opts: PsOptions,
                    loaded: dict[str, Container] | None = None) -> list[PsEntry]:
    """`loaded`: filled with the records read (synced), by id, for a caller that shows
    more of each (the API's list), so that it reads none twice."""
    store = ContainerStore(paths)
    filters = parse_filters(opts.filters)
    created = _reference_times(store, filters)
    entries = []
    for cid in store.ids():
        broken = ""
        try:
            c = recordcache.load(store, cid)
        except BrokenRecord as exc:  # listed as Docker's "dead", so `rm -f` can be found
            c, broken = _placeholder(store, cid), exc.path.name
        except PycError:
            continue  # removed while we listed
        if not broken:
            store.sync(c)  # read-only view: no lock, no save; the next locked op persists it
        state = "dead" if broken else c.state.docker_status
        # Docker lists paused containers too: they are running, only frozen
        shown = state in ("running", "paused", "restarting") or "status" in filters
        if not opts.all and opts.last < 0 and not shown:
            continue
        if not _matches(c, state, filters, _ancestor_ids(paths, filters), created, store):
            continue
        if "pod" in filters and not _in_pods(paths, c, filters["pod"]):
            continue
        entries.append(_entry(store, c, state, opts.size))
        entries[-1].broken = broken
        if c.config.spec.pod:
            entries[-1].pod, entries[-1].pod_name = c.config.spec.pod, _pod_name(paths, c)
        if loaded is not None and not broken:
            loaded[cid] = c
    entries.sort(key=lambda e: e.created, reverse=True)
    if opts.last >= 0:
        entries = entries[: opts.last]
    return entries


def _in_pods(paths: Paths, c: Container, refs: list[str]) -> bool:
    """Podman's `pod=` filter: the container's pod by name, id or id prefix."""
    if not c.config.spec.pod:
        return False
    name = _pod_name(paths, c)
    return any(ref in (name, c.config.spec.pod) or c.config.spec.pod.startswith(ref)
               for ref in refs)


def _pod_name(paths: Paths, c: Container) -> str:
    from pycontainer.ops import podinfra

    try:
        return podinfra.store_for(paths).load(c.config.spec.pod).name
    except PycError:
        return ""  # the pod is gone (removed meanwhile)


def _placeholder(store: ContainerStore, cid: str) -> Container:
    """What can be known of a container whose records do not parse: its config if that one
    is intact, else its id, indexed name and directory's time."""
    import time

    try:
        config = store.load_config(cid)
    except PycError:
        try:
            mtime = os.stat(store.dir(cid)).st_mtime
        except OSError:
            mtime = 0.0
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(mtime))
        config = ContainerConfig(cid, store.name_of(cid), created, "", "", ContainerSpec(), None)
    return Container(config, ContainerState(status=Status.EXITED))


def _ancestor_ids(paths: Paths, filters: dict[str, list[str]]) -> dict[str, str]:
    if "ancestor" not in filters:
        return {}
    out = {}
    try:
        from pycontainer.images.store import ImageStore

        store = ImageStore(paths)
        for name in filters["ancestor"]:
            try:
                out[name] = store.resolve(name).id
            except PycError:
                continue
    except ImportError:
        pass
    return out


def _entry(store: ContainerStore, c: Container, state: str, size: bool) -> PsEntry:
    cfg = c.config
    command = " ".join([cfg.path, *cfg.args])
    return PsEntry(
        id=c.id, name=c.name, image=cfg.image, command=command, created=cfg.created,
        state=state, exit_code=c.state.exit_code, started_at=c.state.started_at,
        finished_at=c.state.finished_at, labels=dict(cfg.spec.labels),
        size_rw=dir_size(store.dir(c.id) / "storage" / "diff") if size else None,
        ports=netviews.ps_ports(store, c), networks=netviews.ps_networks(c),
        local_volumes=sum(1 for m in cfg.spec.mounts if m.get("volume")),
        health=health.ps_health(store, c),
        mounts=",".join(m.get("volume") or m.get("source") or ""
                        for m in cfg.spec.mounts if m.get("type") == "bind"),
    )


def dir_size(path: str | os.PathLike[str]) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


__all__ = ["PsEntry", "PsOptions", "Status", "list_containers", "parse_filters"]
