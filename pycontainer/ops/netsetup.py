"""A container's networking from create to removal: the ops glue of `pycontainer.network`.

create  `plan(paths, req, spec, image_config)` checks the request before anything exists (mode,
        networks, host ports probed free: a taken port fails the run with nothing created) and
        returns what `ContainerConfig.network` keeps; it sets `spec.network` for `oci.convert`
        ("private" for slirp4netns and user-defined networks, "none", "host", "container").
start   `Starter(paths, store, container)`:
            `prepare()`      before the supervisor: ports allocated, the rootless namespace
                             ensured, the exit/go pipes made; `supervisor_fds()` and
                             `userns_path` go to the supervisor and the launcher
            `after_spawn()`  drops this process's copies of the supervisor's ends
            `setup(pid)`     once the container's init exists and before it execs the user's
                             process: slirp4netns and its forwards, or veths and published
                             ports, /etc/hosts and /etc/resolv.conf; then the "go" byte
end     `teardown(paths, store, cid)`: idempotent; from rm, stop, start and the exit command.

The supervisor holds the write end of slirp4netns's exit pipe, so slirp4netns ends with the
supervisor on every path, SIGKILL included. What was set up is kept in
`<container dir>/network.json` until torn down.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pycontainer.containers.model import Container
from pycontainer.containers.netrecord import Endpoint, NetworkPlan, NetworkState
from pycontainer.containers.store import ContainerStore
from pycontainer.errors import Conflict, PycError, UsageError
from pycontainer.network import ports
from pycontainer.network.mode import CONTAINER, HOST, NONE, SLIRP, USER, NetworkMode
from pycontainer.network.mode import parse_network_mode as _parse_mode
from pycontainer.ops.netetc import mode_of, write_etc, write_in_place
from pycontainer.paths import Paths

if TYPE_CHECKING:
    from pycontainer.linux.locks import FileLock
    from pycontainer.oci.convert import ContainerSpec
    from pycontainer.oci.imagespec import RunConfig

STATE_FILE = "network.json"


@dataclass
class NetworkRequest:
    """The run/create options about networking, as given."""

    networks: list[str] = field(default_factory=list)  # --network (repeatable)
    publish: list[str] = field(default_factory=list)  # -p
    publish_all: bool = False  # -P
    expose: list[str] = field(default_factory=list)  # --expose
    aliases: list[str] = field(default_factory=list)  # --network-alias
    dns: list[str] = field(default_factory=list)
    dns_search: list[str] = field(default_factory=list)
    dns_option: list[str] = field(default_factory=list)
    add_hosts: list[str] = field(default_factory=list)  # --add-host name:ip
    ip: str | None = None


def parse_network_mode(values: list[str] | None) -> NetworkMode:
    return _parse_mode(values)


def validate(req: NetworkRequest | None) -> None:
    """Parse everything the request holds (no host access): UsageError on a bad value."""
    if req is None:
        return
    mode = parse_network_mode(req.networks)
    if mode.kind != USER and (req.aliases or req.ip):
        raise UsageError("--network-alias and --ip need a user-defined network (--network "
                         "NAME)")
    ports.parse_publish_all(req.publish)
    for item in req.expose:
        ports.parse_port_proto(item)
    _add_hosts(req.add_hosts)


def _add_hosts(values: list[str]) -> list[list[str]]:
    out = []
    for item in values:
        sep = "=" if "=" in item else ":"
        name, found, ip = item.partition(sep)
        if not found or not name or not ip:
            raise UsageError(f"invalid argument \"{item}\" for \"--add-host\" flag: bad format "
                             "for add-host")
        if ip == "host-gateway":
            ip = "10.0.2.2"  # slirp4netns's address of the host (with allow_host_loopback)
        out.append([name, ip.strip("[]")])
    return out


def _exposed(image_config: RunConfig, expose: list[str]) -> list[str]:
    found = list((image_config.get("ExposedPorts") or {}).keys())
    for item in expose:
        port, proto = ports.parse_port_proto(item)
        if f"{port}/{proto}" not in found:
            found.append(f"{port}/{proto}")
    return found


def plan(paths: Paths, req: NetworkRequest, spec: ContainerSpec, image_config: RunConfig
         ) -> NetworkPlan:
    """Check the request and return `ContainerConfig.network`; sets `spec.network`."""
    from pycontainer.network import slirp

    mode = parse_network_mode(req.networks)
    exposed = _exposed(image_config, req.expose)
    maps = ports.parse_publish_all(req.publish)
    if req.publish_all:
        maps += ports.publish_exposed(exposed, maps)
    if maps and mode.kind in (NONE, CONTAINER):
        raise UsageError("conflicting options: port publishing and the container type network "
                         "mode")
    if mode.kind == HOST:
        maps = []  # Docker: published ports are discarded in host network mode
    target = ""
    if mode.kind == USER:
        _check_networks(paths, mode.networks)
        if spec.userns == "keep-id":
            raise UsageError("--userns=keep-id cannot be combined with user-defined networks")
    elif mode.kind == CONTAINER:
        target = ContainerStore(paths).resolve(mode.container)
    slirp.check_mappings(maps)
    ports.allocate(maps)  # probe only: a taken port fails before anything is created
    spec.network = {NONE: "none", HOST: "host", CONTAINER: "container"}.get(mode.kind, "private")
    return NetworkPlan(
        values=list(req.networks), kind=mode.kind, networks=list(mode.networks),
        container=target, publish=list(req.publish), publish_all=req.publish_all,
        exposed=exposed, aliases=list(req.aliases), dns=list(req.dns),
        dns_search=list(req.dns_search), dns_option=list(req.dns_option),
        add_hosts=_add_hosts(req.add_hosts), ip=req.ip,
    )


def _check_networks(paths: Paths, names: tuple[str, ...]) -> None:
    from pycontainer.network import bridge

    nstore = bridge.store(paths)
    for name in names:
        nstore.get(name)  # NetworkNotFound (125)


def requested_mappings(net: NetworkPlan) -> list[ports.PortMapping]:
    maps = ports.parse_publish_all(net.publish)
    if net.publish_all:
        maps += ports.publish_exposed(net.exposed, maps)
    return maps


# --- start -----------------------------------------------------------------------------------


class Starter:
    """Network setup for one start of a container (see the module docstring)."""

    def __init__(self, paths: Paths, store: ContainerStore, c: Container) -> None:
        self.paths, self.store, self.c = paths, store, c
        self.net = c.config.network or NetworkPlan()
        self.mode = mode_of(self.net, c.config.spec)
        self.maps: list[ports.PortMapping] = []
        self.userns_path = ""
        self.go_r = self.go_w = self.exit_r = self.exit_w = -1
        self.state = NetworkState(kind=self.mode.kind)
        self.users_lock: FileLock | None = None

    @property
    def needed(self) -> bool:
        return self.mode.kind != HOST

    def prepare(self) -> None:
        teardown(self.paths, self.store, self.c.id)  # what a killed supervisor left
        if not self.needed:
            return
        kind = self.mode.kind
        if kind in (SLIRP, USER):
            self.maps = ports.allocate(requested_mappings(self.net))
        if kind == USER:
            from pycontainer.network import rootlessns

            # Shared until this container's endpoint is recorded: a container leaving
            # meanwhile must not stop the rootless namespace we are about to join.
            self.users_lock = users_lock(self.paths, shared=True)
            self.users_lock.acquire()
            holder = rootlessns.ensure(self.paths.runtime, self.paths.data)
            self.userns_path = holder.userns_path
        elif kind == CONTAINER:
            self._join_container()
        if kind == SLIRP:
            from pycontainer.network import slirp

            self.exit_r, self.exit_w = slirp.exit_pipe()
        self.go_r, self.go_w = os.pipe()

    def _join_container(self) -> None:
        if self.c.config.spec.pod:  # the pod's infra, not a container
            self._join_pod()
            return
        target = self.net.container or self.mode.container
        other = self.store.load(self.store.resolve(target))
        if other.state.pid == 0 or not other.state.running:
            raise Conflict(f"cannot join the network of container {other.name}: it is not "
                           "running")
        if other.config.uid_map != self.c.config.uid_map:
            raise UsageError(f"cannot join the network of container {other.name}: its user "
                             "namespace maps other ids (--userns differs)")
        pid = other.state.pid
        self.userns_path = f"/proc/{pid}/ns/user"
        _set_netns_path(self.store, self.c.id, f"/proc/{pid}/ns/net")
        mine, theirs = self.store.userdata(self.c.id), self.store.userdata(other.id)
        for name in ("hosts", "resolv.conf"):
            with contextlib.suppress(OSError):
                write_in_place(mine / name, (theirs / name).read_text())
        self.state.container = other.id

    def _join_pod(self) -> None:
        from pycontainer.ops import podjoin

        self.userns_path, netns, texts = podjoin.join_net(self.paths, self.c)
        _set_netns_path(self.store, self.c.id, netns)
        for name, text in texts.items():
            write_in_place(self.store.userdata(self.c.id) / name, text)

    def supervisor_fds(self) -> dict[str, int]:
        """go_fd: the supervisor waits for a byte on it before letting the container exec;
        hold_fd: kept open by the supervisor for its whole life (slirp4netns's exit pipe)."""
        return {"go_fd": self.go_r, "hold_fd": self.exit_w}

    def after_spawn(self) -> None:
        for name in ("go_r", "exit_w"):
            fd = getattr(self, name)
            if fd >= 0:
                os.close(fd)
                setattr(self, name, -1)

    def setup(self, pid: int) -> None:
        """Connect the container whose init is `pid`, then let it go. On failure everything
        is undone and the supervisor (seeing no go byte) fails the container."""
        try:
            addresses, peers = self._connect(pid)
            self._save()
            hostname = self.c.config.spec.hostname or self.c.id[:12]
            write_etc(self.paths, self.store.userdata(self.c.id), self.c.config.network,
                      self.c.config.spec, hostname, addresses, peers)
            os.write(self.go_w, b"1")
        except BaseException:
            self.close()
            teardown(self.paths, self.store, self.c.id)
            raise
        self.close()

    def _connect(self, pid: int) -> tuple[list[str], list[tuple[str, list[str]]]]:
        kind = self.mode.kind
        if kind == SLIRP:
            return [self._slirp(pid)], []
        if kind == USER:
            return self._bridges(pid)
        if kind == NONE:
            loopback_up(pid)
        return [], []

    def _slirp(self, pid: int) -> str:
        from pycontainer.network import slirp

        run_dir = self.store.run_dir(self.c.id)
        sock = slirp.api_socket_path(run_dir, self.c.id[:12])
        s = slirp.start_slirp(pid, sock, self.mode.slirp, exit_fd=self.exit_r,
                              log_path=str(run_dir / "slirp4netns.log"),
                              cache_dir=self.paths.runtime)
        self.state.slirp = s.to_dict()
        self._save()  # so a failing forward below still stops slirp4netns
        slirp.forward_ports(s, self._forward_tcp(pid))
        os.close(self.exit_r)
        self.exit_r = -1
        self.state.ports = [m.to_dict() for m in self.maps]
        self.state.ip = self.mode.slirp.guest_ip
        return self.mode.slirp.guest_ip

    def _forward_tcp(self, pid: int) -> list[ports.PortMapping]:
        """Start pyc's own forwarder for the TCP mappings (unless the container asked for
        port_handler=slirp4netns); returns the mappings left to slirp4netns."""
        from pycontainer.network import forwarder

        self.state.forwarder, rest = forwarder.forward(pid, self.maps, self.mode.slirp,
                                                       self.exit_r)
        self._save()
        return rest

    def _bridges(self, pid: int) -> tuple[list[str], list[tuple[str, list[str]]]]:
        from pycontainer.network import bridge, ipam

        aliases = list(self.net.aliases)
        nets = self.state.networks
        for i, name in enumerate(self.mode.networks):
            ip, mac = bridge.connect(self.paths, self.c.id, self.c.name, pid, name, aliases,
                                     self.net.ip if i == 0 else None)
            nets[name] = Endpoint(ip, mac)
            self._save()
        first = nets[self.mode.networks[0]].ip
        self.state.published = bridge.publish(self.paths, first, self.maps)
        self.state.ports = [m.to_dict() for m in self.maps]
        self.state.ip = first
        records = bridge.store(self.paths).networks()
        from pycontainer.ops import events

        for rec in records:  # dockerd: a network `connect` per network at start
            if rec.name in nets:
                events.network(self.paths, "connect", rec.id, rec.name, container=self.c.id)
        peers = ipam.peer_hosts([n for n in records if n.name in nets], self.c.id)
        refresh_peer_hosts(self.paths, self.store, list(nets), skip=self.c.id)
        return [nets[n].ip for n in self.mode.networks], peers

    def _save(self) -> None:
        save_state(self.store, self.c.id, self.state)

    def close(self) -> None:
        if self.users_lock is not None:
            self.users_lock.release()
            self.users_lock = None
        for name in ("go_r", "go_w", "exit_r", "exit_w"):
            fd = getattr(self, name)
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
                setattr(self, name, -1)


def _set_netns_path(store: ContainerStore, cid: str, ns_path: str) -> None:
    spec = store.load_bundle_spec(cid)
    spec.linux.set_ns_path("network", ns_path)
    store.save_bundle_spec(cid, spec, 0o644)


def loopback_up(pid: int) -> None:
    """Bring `lo` up in the network namespace of `pid` (Docker's `--network none` has it up).
    A forked child enters the container's user and network namespaces to do it."""
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        code = 1
        try:
            _enter_and_lo_up(pid)
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(child, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        from pycontainer.errors import HostError

        raise HostError("cannot bring up the loopback interface of the container")


def _enter_and_lo_up(pid: int) -> None:  # pragma: no cover - runs in a forked child
    from pycontainer.linux import netif, syscalls

    syscalls.join_ns_of(pid, "user", syscalls.CLONE_NEWUSER)
    syscalls.join_ns_of(pid, "net", syscalls.CLONE_NEWNET)
    netif.loopback_up()


# --- teardown --------------------------------------------------------------------------------


def load_state(store: ContainerStore, cid: str) -> NetworkState | None:
    """What the last start set up; None when nothing is (or when network.json is unreadable)."""
    data = store.read_extra(cid, STATE_FILE)
    return NetworkState.from_dict(data) if data else None


def save_state(store: ContainerStore, cid: str, state: NetworkState) -> None:
    store.write_extra(cid, STATE_FILE, state.to_dict())


def teardown(paths: Paths, store: ContainerStore, cid: str) -> None:
    """Undo what `setup` did (idempotent; errors are swallowed: removal must go on)."""
    state = load_state(store, cid)
    if state is None:
        return
    if state.slirp:
        from pycontainer.network import slirp

        with contextlib.suppress(PycError, OSError, KeyError, ValueError):
            slirp.stop_slirp(slirp.Slirp.from_dict(state.slirp), timeout=2.0)
    if state.forwarder:
        from pycontainer.network import forwarder

        forwarder.stop(state.forwarder)
    if state.kind == USER:
        _teardown_bridges(paths, cid, state)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(store.dir(cid) / STATE_FILE)


def _teardown_bridges(paths: Paths, cid: str, state: NetworkState) -> None:
    from pycontainer.network import bridge

    with contextlib.suppress(PycError, OSError):
        bridge.unpublish(paths, list(state.published))
    with contextlib.suppress(PycError, OSError):
        from pycontainer.ops import events

        for rec in bridge.store(paths).networks():  # and a `disconnect` at the end
            if rec.name in state.networks:
                events.network(paths, "disconnect", rec.id, rec.name, container=cid)
    with contextlib.suppress(PycError, OSError):
        left = bridge.disconnect_all(paths, cid)
        refresh_peer_hosts(paths, ContainerStore(paths), left, skip=cid)
    with contextlib.suppress(PycError, OSError), users_lock(paths, shared=False):
        bridge.release(paths)


def users_lock(paths: Paths, shared: bool) -> FileLock:
    """Starting containers hold it shared while they join the rootless network namespace;
    stopping that namespace takes it exclusively."""
    from pycontainer.linux.locks import FileLock
    from pycontainer.network import rootlessns

    sdir = rootlessns.state_dir(paths.runtime)
    sdir.mkdir(parents=True, exist_ok=True)
    return FileLock(sdir / "users.lock", shared=shared)


def refresh_peer_hosts(paths: Paths, store: ContainerStore, networks: list[str],
                       skip: str = "") -> None:
    """Rewrite /etc/hosts of the running containers on `networks` so that it lists their
    current peers (a container that left is gone, a new one under an old name is found)."""
    from pycontainer.network import bridge, ipam

    records = bridge.store(paths).networks()
    ids = {cid for n in records if n.name in networks for cid in n.endpoints} - {skip}
    for cid in sorted(ids):
        with contextlib.suppress(PycError, OSError, ValueError):
            other = store.load(cid)
            mine = [n for n in records if cid in n.endpoints]
            addresses = [n.endpoints[cid].ip for n in mine]
            hostname = other.config.spec.hostname or cid[:12]
            write_etc(paths, store.userdata(cid), other.config.network,
                      other.config.spec, hostname, addresses, ipam.peer_hosts(mine, cid))


def needs_cleanup(c: Container) -> bool:
    """Whether the container's exit must run `container cleanup` (user-defined networks keep
    addresses and forwards outside the container that its exit does not free)."""
    return c.config.network is not None and c.config.network.kind == USER
