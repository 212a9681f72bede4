"""What `pod ps` and `pod inspect` show (Podman's fields), `pod top` and `pod logs`: read
without the pods' locks, from the records and the containers naming the pod."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pycontainer.containers.model import Container
from pycontainer.errors import PycError, UsageError
from pycontainer.formats import filters as flt
from pycontainer.ops import pods
from pycontainer.paths import Paths
from pycontainer.pods.model import Pod, status

if TYPE_CHECKING:
    from pycontainer.jsontypes import JSON
    from pycontainer.ops.logs import LogLine, LogsOptions

FILTERS = ("id", "name", "label", "status", "ctr-names", "ctr-ids", "ctr-status",
           "ctr-number")
STATUSES = ("created", "running", "stopped", "paused", "exited", "dead", "degraded")


@dataclass
class MemberView:
    id: str
    name: str
    state: str  # Docker's: created, running, paused, exited, ...


@dataclass
class PodView:
    id: str
    name: str
    status: str
    created: str
    infra_id: str
    labels: dict[str, str]
    networks: list[str]
    containers: list[MemberView] = field(default_factory=list)  # the infra first


def view(paths: Paths, pod: Pod) -> PodView:
    cs = pods.members(paths, pod.id)
    infra = pods.infra_state(pod)
    # an init container that ran to its end is done, not down (Kubernetes' reading)
    states = [c.state.docker_status for c in cs
              if not (pods.is_init(c) and c.state.docker_status == "exited")]
    out = PodView(pod.id, pod.name, status(infra, states),
                  pod.config.created, pod.config.infra_id, dict(pod.config.labels),
                  _networks(pod))
    if infra is not None:
        out.containers.append(MemberView(pod.config.infra_id, f"{pod.id[:12]}-infra", infra))
    out.containers += [MemberView(c.id, c.name, c.state.docker_status) for c in cs]
    return out


def _networks(pod: Pod) -> list[str]:
    if not pod.config.shares("net"):
        return []
    return list(pod.config.network) or ["slirp4netns"]


def listing(paths: Paths, filter_items: list[str]) -> list[PodView]:
    """The pods matching the filters (Podman's: different keys ANDed, repeated ORed),
    newest first."""
    f = flt.parse(filter_items)
    flt.validate(f, FILTERS)
    for value in f.get("status", []):
        if value not in STATUSES:
            raise UsageError(f"{value} is not a valid status")
    store = pods.store_for(paths)
    out = []
    for pod_id in store.ids():
        try:
            v = view(paths, store.load(pod_id))
        except PycError:
            continue  # removed meanwhile
        if _matches(v, f):
            out.append(v)
    out.sort(key=lambda v: v.created, reverse=True)
    return out


def _matches(v: PodView, f: dict[str, list[str]]) -> bool:
    members = [m for m in v.containers if m.id != v.infra_id]
    tests = {
        "id": lambda x: v.id.startswith(x),
        "name": lambda x: re.search(x, v.name) is not None,
        "label": lambda x: flt.match_label(v.labels, x),
        "status": lambda x: v.status.lower() == x,
        "ctr-names": lambda x: any(re.search(x, m.name) for m in members),
        "ctr-ids": lambda x: any(m.id.startswith(x) for m in members),
        "ctr-status": lambda x: any(m.state == x for m in members),
        "ctr-number": lambda x: x.isdigit() and int(x) == len(members),
    }
    for key, values in f.items():
        if key == "label":  # every label must match
            if not all(tests[key](x) for x in values):
                return False
        elif not any(tests[key](x) for x in values):
            return False
    return True


def inspect(paths: Paths, ref: str) -> JSON:
    """Podman's `pod inspect` object (its main fields)."""
    store = pods.store_for(paths)
    pod = store.load(store.resolve(ref))
    v = view(paths, pod)
    cfg = pod.config
    out: JSON = {
        "Id": pod.id, "Name": pod.name, "Created": cfg.created,
        "CreateCommand": list(cfg.command), "ExitPolicy": "continue", "State": v.status,
        "Hostname": cfg.hostname, "Labels": dict(cfg.labels), "CreateCgroup": False,
        "CreateInfra": cfg.infra,
    }
    if cfg.infra:
        out["InfraContainerID"] = cfg.infra_id
        out["InfraConfig"] = _infra_config(pod)
    out["SharedNamespaces"] = list(cfg.share)
    out["NumContainers"] = len(v.containers)
    out["Containers"] = [{"Id": m.id, "Name": m.name, "State": m.state} for m in v.containers]
    # pyc's own: the infra process (Podman's infra container has its State.Pid instead)
    out["InfraPid"] = pod.state.infra_pid if pods.infra_state(pod) == "running" else 0
    return out


def _infra_config(pod: Pod) -> JSON:
    from pycontainer.network import ports

    bindings: dict[str, list[dict[str, str]]] = {}
    for m in ports.parse_publish_all(pod.config.publish):
        bindings.setdefault(m.key, []).append({"HostIp": m.host_ip, "HostPort":
                                               str(m.host_port) if m.host_port else ""})
    return {
        "PortBindings": bindings, "HostNetwork": False, "StaticIP": "", "StaticMAC": "",
        "NoManageResolvConf": False, "DNSServer": None, "DNSSearch": None, "DNSOption": None,
        "NoManageHosts": False, "HostAdd": None, "Networks": _networks(pod) or None,
        "NetworkOptions": None, "pid_ns": "private",
        "userns": pod.config.userns or "host",
        "uts_ns": "private",
    }


def top(paths: Paths, ref: str, ps_args: list[str]) -> str:
    """`ps` of every running container of the pod, one header."""
    from pycontainer.errors import Conflict
    from pycontainer.ops import top as ctop

    pod_id = pods.resolve(paths, ref)
    running = [c for c in pods.members(paths, pod_id) if c.state.running]
    if not running:
        raise Conflict(f"pod {pod_id} is not running")
    header, rows = "", []
    for c in running:
        lines = ctop.top(paths, c.id, ps_args).splitlines()
        if lines:
            header = lines[0]
            rows += lines[1:]
    return "\n".join([header, *rows]) + "\n"


def log_members(paths: Paths, ref: str, container: str = "") -> list[Container]:
    pod_id = pods.resolve(paths, ref)
    cs = pods.members(paths, pod_id)
    if container:
        cs = [c for c in cs if c.name == container or c.id.startswith(container)]
        if not cs:
            raise UsageError(f"container {container} is not in pod {ref}")
    return cs


def logs(paths: Paths, cs: list[Container], opts: LogsOptions
         ) -> Iterator[tuple[Container, LogLine]]:
    """Each container's lines in turn (with `follow`, merged as they come: a thread per
    container), tagged with the container."""
    from pycontainer.ops import logs as clogs

    if not opts.follow:
        for c in cs:
            for line in clogs.read(paths, c.id, opts):
                yield c, line
        return
    yield from _follow(paths, cs, opts)


def _follow(paths: Paths, cs: list[Container], opts: LogsOptions
            ) -> Iterator[tuple[Container, LogLine]]:
    import queue
    import threading

    from pycontainer.ops import logs as clogs

    q: queue.Queue[tuple[Container, LogLine] | None] = queue.Queue()

    def pump(c: Container) -> None:
        try:
            for line in clogs.read(paths, c.id, opts):
                q.put((c, line))
        except PycError:
            pass
        finally:
            q.put(None)

    for c in cs:
        threading.Thread(target=pump, args=(c,), daemon=True).start()
    left = len(cs)
    while left:
        item = q.get()
        if item is None:
            left -= 1
        else:
            yield item
