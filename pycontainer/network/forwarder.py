"""pyc's own TCP port forwarder (Podman's rootlessport, but keeping the client's address).

slirp4netns's own `add_hostfwd` pushes every byte through libslirp's user-mode TCP stack; this
forwarder moves them with `splice(2)` between two kernel sockets instead, zero-copy, two to
three times faster. One small process per container, forked (no new interpreter):

- the listening sockets are made here, in the host's network namespace, before the fork;
- the child joins the container's user and network namespaces, so every socket it opens
  afterwards lives there while the listeners stay on the host;
- per accepted client it connects to the container's address from *the client's own address*
  (IP_TRANSPARENT, allowed to the namespace's owner), loopback clients shown as the gateway
  10.0.2.2 exactly as libslirp does; a policy rule (`ip rule ... sport PORT lookup 1990`, a
  `local` default route in that table) delivers the container's replies to that socket
  instead of sending them out of tap0. So the container sees what it saw before.

Lifetime: the child polls the read end of the container's exit pipe (the one slirp4netns
watches): when the supervisor, which holds the write end, dies, the forwarder exits too.
Only TCP goes through here; UDP stays with slirp4netns.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import ipaddress
import os
import resource
import select
import selectors
import signal
import socket
import subprocess  # imported before the fork: the child must not need the import lock
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pycontainer.errors import Conflict, HostError
from pycontainer.network.ports import PortMapping
from pycontainer.network.slirp import SlirpOptions

COMM = b"pyc-portfwd"
TABLE = 1990  # the routing table for replies to transparent sockets (any unused number)
RULE_PRIORITY = 1990
CHUNK = 1 << 20
PIPE_SIZE = 1 << 20
F_SETPIPE_SZ = 1031
IP_TRANSPARENT = 19
SPLICE_FLAGS = getattr(os, "SPLICE_F_MOVE", 1) | getattr(os, "SPLICE_F_NONBLOCK", 2)


@dataclass(frozen=True)
class Target:
    """Where a published host port goes inside the namespace."""

    listener: socket.socket
    address: str
    port: int


def ip_binary() -> str | None:
    """iproute2's `ip`, for the reply rule."""
    from pycontainer import binaries

    return binaries.find("ip")


def usable(mappings: Iterable[PortMapping]) -> bool:
    """Whether this forwarder serves these mappings: TCP on IPv4 and `ip` present."""
    tcp = [m for m in mappings if m.protocol == "tcp"]
    return bool(tcp) and all(":" not in m.host_ip for m in tcp) and ip_binary() is not None


def forward(netns_pid: int, mappings: Sequence[PortMapping], options: SlirpOptions,
            exit_fd: int) -> tuple[int, list[PortMapping]]:
    """The forwarder for the TCP mappings of a slirp4netns namespace, unless its options ask
    slirp4netns to forward (port_handler=slirp4netns) or this host cannot: (its pid or 0,
    the mappings left for slirp4netns)."""
    if options.port_handler != "pyc" or not usable(mappings):
        return 0, list(mappings)
    pid = start(netns_pid, mappings, options.guest_ip, options.gateway, exit_fd)
    return pid, [m for m in mappings if m.protocol != "tcp"]


def listen(m: PortMapping) -> socket.socket:
    """The host-side listening socket of one allocated TCP mapping."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((m.host_ip or "0.0.0.0", m.host_port))
        sock.listen(512)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise Conflict(f"Bind for {m.host_ip or '0.0.0.0'}:{m.host_port} failed: port is "
                           "already allocated") from None
        raise HostError(f"cannot listen on {m.host_ip}:{m.host_port}: {exc.strerror}") from None
    sock.setblocking(False)
    return sock


def start(netns_pid: int, mappings: Sequence[PortMapping], address: str, gateway: str,
          exit_fd: int) -> int:
    """Listen on every TCP mapping, then fork the forwarder into the namespace of
    `netns_pid`; returns its pid (a grandchild: it is nobody's zombie)."""
    targets: list[Target] = []
    try:
        for m in mappings:
            if m.protocol == "tcp":
                targets.append(Target(listen(m), address, m.container_port))
        return _fork(netns_pid, targets, gateway, exit_fd)
    finally:
        for t in targets:
            t.listener.close()


def _fork(netns_pid: int, targets: list[Target], gateway: str, exit_fd: int) -> int:
    from pycontainer.linux import syscalls  # noqa: F401 - not imported after the fork

    ip = ip_binary() or "ip"
    r, w = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the intermediate child
        code = 1
        try:
            os.close(r)
            if os.fork() == 0:
                _child(netns_pid, targets, gateway, exit_fd, w, ip)
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    os.waitpid(child, 0)
    try:
        answer = _read_all(r)
    finally:
        os.close(r)
    pid, _, error = answer.decode(errors="replace").partition(" ")
    if not pid.isdigit() or error:
        raise HostError(f"cannot start the port forwarder: {error or 'it died'}")
    return int(pid)


def _read_all(fd: int) -> bytes:
    out = b""
    while chunk := os.read(fd, 4096):
        out += chunk
    return out


def _child(netns_pid: int, targets: list[Target], gateway: str, exit_fd: int, report: int,
           ip: str) -> None:  # pragma: no cover - runs in the forwarder
    code = 1
    try:
        os.setsid()
        keep = {exit_fd, report, *(t.listener.fileno() for t in targets)}
        _close_others(keep)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _raise_fd_limit()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _set_comm()
        try:
            _enter(netns_pid, ip, {t.port for t in targets}, targets[0].address)
        except (OSError, HostError) as exc:
            os.write(report, f"{os.getpid()} {exc}".encode())
            raise
        os.write(report, str(os.getpid()).encode())
        os.close(report)
        Loop(targets, exit_fd, gateway).run()
        code = 0
    finally:
        os._exit(code)


def _raise_fd_limit() -> None:  # pragma: no cover - runs in the forwarder
    # Six descriptors per connection (two sockets, two pipes): the soft limit of 1024 would
    # refuse clients long before the hard one.
    with contextlib.suppress(OSError, ValueError):
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _close_others(keep: set[int]) -> None:  # pragma: no cover - runs in the forwarder
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    top = max(keep) + 1
    os.closerange(3, min(keep))
    for fd in range(min(keep) + 1, top):
        if fd not in keep:
            with contextlib.suppress(OSError):
                os.close(fd)
    os.closerange(top, 65536)


def _set_comm() -> None:  # pragma: no cover - runs in the forwarder
    # Its name in ps, and what `stop` checks before killing a recorded pid.
    with contextlib.suppress(OSError), open("/proc/self/comm", "wb") as f:
        f.write(COMM)


def _enter(netns_pid: int, ip: str, ports: set[int],
           address: str) -> None:  # pragma: no cover - runs in the forwarder
    from pycontainer.linux import syscalls

    syscalls.join_ns_of(netns_pid, "user", syscalls.CLONE_NEWUSER)
    syscalls.join_ns_of(netns_pid, "net", syscalls.CLONE_NEWNET)
    commands = [[ip, "route", "replace", "local", "0.0.0.0/0", "dev", "lo", "table",
                 str(TABLE)]]
    commands += [[ip, "rule", "add", "priority", str(RULE_PRIORITY), "from", address,
                  "ipproto", "tcp", "sport", str(p), "lookup", str(TABLE)] for p in sorted(ports)]
    for argv in commands:
        res = subprocess.run(argv, capture_output=True, text=True, check=False)
        if res.returncode != 0:
            raise HostError(f"{' '.join(argv[1:])}: {res.stderr.strip()}")


def shown_source(peer: str, gateway: str) -> str:
    """The address the container sees for a client: libslirp's rule (a loopback client is
    the gateway, any other keeps its own), which the forwarder keeps."""
    return gateway if ipaddress.ip_address(peer).is_loopback else peer


class Pump:
    """One direction of one connection: src -> pipe -> dst."""

    def __init__(self, src: socket.socket, dst: socket.socket) -> None:
        self.src, self.dst = src, dst
        self.r, self.w = os.pipe()
        self.queued = self.moved = 0
        self.grown = False
        self.eof = False
        self.done = False

    def step(self) -> None:
        """Move what can be moved now without blocking; OSError ends the connection."""
        while not self.done:
            if self.queued:
                try:
                    n = os.splice(self.r, self.dst.fileno(), self.queued, flags=SPLICE_FLAGS)
                except BlockingIOError:
                    return
                self.queued -= n
                continue
            if self.eof:
                with contextlib.suppress(OSError):
                    self.dst.shutdown(socket.SHUT_WR)
                self.done = True
                return
            try:
                n = os.splice(self.src.fileno(), self.w, CHUNK, flags=SPLICE_FLAGS)
            except BlockingIOError:
                return
            if n == 0:
                self.eof = True
            self.queued += n
            self.moved += n
            if not self.grown and self.moved >= PIPE_SIZE:
                self._grow()

    def _grow(self) -> None:
        # A bulk transfer: a 1 MiB pipe moves it in fewer, larger splices. Only then: pipe
        # pages count against the user's pipe-user-pages-soft, past which *every* new pipe
        # of theirs gets one page, so idle connections keep the default size.
        self.grown = True
        with contextlib.suppress(OSError):
            fcntl.fcntl(self.w, F_SETPIPE_SZ, PIPE_SIZE)

    def wants(self) -> list[tuple[socket.socket, int]]:
        if self.done:
            return []
        if self.queued:
            return [(self.dst, selectors.EVENT_WRITE)]
        return [(self.src, selectors.EVENT_READ)]

    def close(self) -> None:
        for fd in (self.r, self.w):
            with contextlib.suppress(OSError):
                os.close(fd)


class Conn:
    def __init__(self, client: socket.socket, inner: socket.socket) -> None:
        self.client, self.inner = client, inner
        self.connected = False
        self.pumps: list[Pump] = []

    def start_pumps(self) -> None:
        self.connected = True
        self.pumps = [Pump(self.client, self.inner), Pump(self.inner, self.client)]

    def wants(self) -> dict[socket.socket, int]:
        if not self.connected:
            return {self.inner: selectors.EVENT_WRITE}
        out: dict[socket.socket, int] = {}
        for p in self.pumps:
            for sock, ev in p.wants():
                out[sock] = out.get(sock, 0) | ev
        return out

    def close(self) -> None:
        for p in self.pumps:
            p.close()
        self.client.close()
        self.inner.close()


class Poller:
    """The few selector calls the loop makes, straight on epoll: `selectors` builds a
    SelectorKey per call, a cost paid several times per connection."""

    def __init__(self) -> None:
        self.ep = select.epoll()
        self.data: dict[int, object] = {}

    def register(self, fileobj: socket.socket | int, events: int, data: object) -> None:
        fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
        self.ep.register(fd, _mask(events))
        self.data[fd] = data

    def modify(self, fileobj: socket.socket, events: int, data: object) -> None:
        self.ep.modify(fileobj.fileno(), _mask(events))
        self.data[fileobj.fileno()] = data

    def unregister(self, fileobj: socket.socket) -> None:
        fd = fileobj.fileno()
        self.data.pop(fd)  # KeyError: not registered
        self.ep.unregister(fd)

    def select(self) -> list[object]:
        return [self.data[fd] for fd, _ in self.ep.poll() if fd in self.data]


def _mask(events: int) -> int:
    return ((select.EPOLLIN if events & selectors.EVENT_READ else 0)
            | (select.EPOLLOUT if events & selectors.EVENT_WRITE else 0))


class Loop:
    """The forwarder's event loop: accept, connect inside, splice, until the exit pipe hangs
    up."""

    def __init__(self, targets: list[Target], exit_fd: int, gateway: str) -> None:
        self.sel = Poller()
        self.exit_fd, self.gateway = exit_fd, gateway
        self.sel.register(exit_fd, selectors.EVENT_READ, None)
        for t in targets:
            self.sel.register(t.listener, selectors.EVENT_READ, t)
        self.owner: dict[socket.socket, Conn] = {}

    def run(self) -> None:
        while True:
            for data in self.sel.select():
                if data is None:
                    if not os.read(self.exit_fd, 64):
                        return
                elif isinstance(data, Target):
                    self._accept(data)
                elif isinstance(data, Conn):
                    self._service(data)

    def _accept(self, t: Target) -> None:
        try:
            client, peer = t.listener.accept()
        except OSError as exc:
            if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                time.sleep(0.05)  # the client waits in the backlog; do not spin meanwhile
            return
        client.setblocking(False)
        inner = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        inner.setblocking(False)
        conn = Conn(client, inner)
        try:
            inner.setsockopt(socket.SOL_IP, IP_TRANSPARENT, 1)
            inner.bind((shown_source(peer[0], self.gateway), 0))
            inner.connect_ex((t.address, t.port))
        except OSError:
            conn.close()
            return
        self._update(conn, {})
        # Inside one host the handshake has usually completed by now: serve at once rather
        # than after another trip through the selector (the first response comes sooner).
        with contextlib.suppress(OSError):
            inner.getpeername()
            self._service(conn)

    def _service(self, conn: Conn) -> None:
        before = conn.wants()
        try:
            if not conn.connected:
                err = conn.inner.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    raise OSError(err, os.strerror(err))
                conn.start_pumps()
            for p in conn.pumps:
                p.step()
        except OSError:
            self._drop(conn, before)
            return
        if conn.connected and all(p.done for p in conn.pumps):
            self._drop(conn, before)
            return
        self._update(conn, before)

    def _update(self, conn: Conn, before: dict[socket.socket, int]) -> None:
        after = conn.wants()
        for sock in before.keys() - after.keys():
            self.sel.unregister(sock)
        for sock, ev in after.items():
            if sock not in before:
                self.sel.register(sock, ev, conn)
            elif before[sock] != ev:
                self.sel.modify(sock, ev, conn)

    def _drop(self, conn: Conn, before: dict[socket.socket, int]) -> None:
        for sock in before:
            with contextlib.suppress(KeyError, ValueError):
                self.sel.unregister(sock)
        conn.close()


def is_forwarder(pid: int) -> bool:
    """Whether `pid` is still a living forwarder (not a reused pid, not a zombie: a zombie
    has closed its sockets already)."""
    try:
        with open(f"/proc/{pid}/comm", "rb") as f:
            if f.read().strip() != COMM[:15]:
                return False
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return False


def stop(pid: int, timeout: float = 2.0) -> None:
    """End a forwarder recorded in a container's state (it also ends on its own when the
    container's supervisor goes) and wait until it is gone: a start right after must find
    its host ports free."""
    if pid <= 0 or not is_forwarder(pid):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while is_forwarder(pid) and time.monotonic() < deadline:
        time.sleep(0.005)
