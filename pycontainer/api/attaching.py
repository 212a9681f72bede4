"""`POST /containers/{id}/attach` (hijacked) and `/resize`, through the supervisor's attach
socket (`ops.attach`'s protocol, as `pyc attach` speaks it).

The docker CLI attaches before it starts the container: such an attach waits here, and the
API's `start` (`start_attached`) starts the container held for it, so no output is lost.
Without a TTY the client gets Docker's frames (ids 1 and 2), with one the raw bytes; its
half-close closes the container's stdin; the detach keys leave the container running.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from pycontainer.api.routes import route
from pycontainer.api.wire import STDERR, STDOUT, ApiError, Empty, Hijack, Request, Response
from pycontainer.api.wire import frame as docker_frame
from pycontainer.errors import PycError
from pycontainer.ops import attach
from pycontainer.ops import attachwire as p
from pycontainer.paths import Paths

ID = r"/containers/(?P<id>[^/]+)"
#: as in api/execs.py: docker-py loses a first frame that shares a read with the 101
GRACE = 0.05


@dataclass
class Session:
    cid: str
    tty: bool
    stdin: bool
    stdout: bool
    stderr: bool
    detach: bytes
    #: the supervisor's socket, once the container runs (given by `start_attached`)
    sup: socket.socket | None = None
    ready: threading.Event = field(default_factory=threading.Event)
    size: tuple[int, int] | None = None
    send_lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, data: bytes) -> None:
        with self.send_lock:
            if self.sup is not None:
                self.sup.sendall(data)


_lock = threading.Lock()
#: the attach sessions of this service, by container id (waiting for a start, or pumping)
_sessions: dict[str, list[Session]] = {}


def _register(s: Session) -> None:
    with _lock:
        _sessions.setdefault(s.cid, []).append(s)


def _unregister(s: Session) -> None:
    with _lock:
        left = [x for x in _sessions.get(s.cid, []) if x is not s]
        if left:
            _sessions[s.cid] = left
        else:
            _sessions.pop(s.cid, None)


def _waiting(cid: str) -> list[Session]:
    with _lock:
        return [s for s in _sessions.get(cid, []) if s.sup is None and not s.ready.is_set()]


def start_attached(paths: Paths, cid: str) -> bool:
    """The API's start of a container that attach sessions wait for: held until the first
    is connected. False when none waits (the caller starts it as usual)."""
    waiting = _waiting(cid)
    if not waiting:
        return False
    from pycontainer.ops.lifecycle import StartRequest, start

    first = waiting[0]
    size = None
    if first.tty:
        from pycontainer.ops.lifecycle import store_for

        asked = store_for(paths).load(cid).config.spec.console_size
        size = first.size or ((asked[0], asked[1]) if len(asked) == 2 else (24, 80))
    started = start(paths, cid, StartRequest(attach=True, mode="exec", tty_size=size))
    first.sup = started.sock
    first.ready.set()
    for other in waiting[1:]:
        other.ready.set()  # they connect to the running container themselves
    return True


def _load(request: Request) -> tuple[str, Any]:
    from pycontainer.ops.lifecycle import load_synced, store_for

    store = store_for(request.store)
    cid = store.resolve(request.params["id"])
    with store.lock(cid):
        return cid, load_synced(store, cid)


@route("POST", ID + r"/attach")
def attach_container(request: Request) -> Response:
    cid, c = _load(request)
    if request.flag("logs"):
        raise ApiError(400, "logs=1 is not supported by pyc's attach: use GET "
                            "/containers/{id}/logs")
    if not request.flag("stream"):
        raise ApiError(400, "stream=0 without logs attaches to nothing: pass stream=1")
    spec = c.config.spec
    keys = request.arg("detachKeys") or attach.DEFAULT_DETACH_KEYS
    session = Session(cid, bool(spec.tty), request.flag("stdin") and bool(spec.interactive),
                      request.flag("stdout"), request.flag("stderr"),
                      attach.parse_detach_keys(keys))
    _register(session)  # before the 101: the client may ask for the start right after it
    paths = request.store
    content = "application/vnd.docker.raw-stream" if spec.tty \
        else "application/vnd.docker.multiplexed-stream"
    return Hijack(lambda sock, already: _run(paths, session, sock, already), content)


def _run(paths: Paths, s: Session, sock: socket.socket, already: bytes) -> None:
    try:
        time.sleep(GRACE)
        pending = [already] if already else []
        if s.sup is None and not _await_running(paths, s, sock, pending):
            return
        _Pump(s, sock, pending).run()
    except PycError as exc:
        message = f"{exc.message}\r\n".encode()
        with contextlib.suppress(OSError):
            sock.sendall(message if s.tty else docker_frame(STDERR, message))
    finally:
        _unregister(s)
        if s.sup is not None:
            with contextlib.suppress(OSError):
                s.sup.close()
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _await_running(paths: Paths, s: Session, sock: socket.socket,
                   pending: list[bytes]) -> bool:
    """Wait for the container to run (the API's start hands over its socket; another
    front end's start is seen in the record); the client's early stdin is kept. False
    when the client went away or the container was removed first."""
    from pycontainer.ops.lifecycle import store_for

    store = store_for(paths)
    poller = select.poll()
    poller.register(sock, select.POLLIN | select.POLLRDHUP)
    half_closed = False
    while not s.ready.wait(0.2):
        for _, ev in poller.poll(0):
            if ev & (select.POLLHUP | select.POLLERR):
                return False  # the client is gone
            if not half_closed and ev & select.POLLIN:
                data = sock.recv(65536)
                if data and s.stdin:
                    pending.append(data)
                elif not data:
                    half_closed = True
                    pending.append(b"")  # the client's EOF, replayed in order
                    poller.modify(sock, select.POLLRDHUP)
        if not store.exists(s.cid):
            return False
        if s.sup is None and _running(store, s.cid):
            break
    if s.sup is None:
        s.sup = attach.connect(str(store.run_dir(s.cid)))
        if s.tty and s.size:
            s.send(p.resize(*s.size))
    return True


def _running(store: Any, cid: str) -> bool:
    from pycontainer.ops.lifecycle import load_synced

    with store.lock(cid):
        return bool(load_synced(store, cid).state.running)


class _Pump:
    """Client <-> supervisor until the container exits, the client detaches or leaves."""

    def __init__(self, s: Session, sock: socket.socket, pending: list[bytes]) -> None:
        self.s, self.sock = s, sock
        self.reader = p.FrameReader()
        self.matched = 0
        self.client_open = True
        self.pending = pending

    def run(self) -> None:
        sup = self.s.sup
        assert sup is not None
        for data in self.pending:
            if self._from_client(data):
                return
        while True:
            fds: list[socket.socket] = [sup] + ([self.sock] if self.client_open else [])
            ready, _, _ = select.select(fds, [], [])
            if sup in ready and self._from_supervisor(sup.recv(65536)):
                return
            if self.sock in ready and self._from_client(self._recv_client()):
                return

    def _recv_client(self) -> bytes:
        try:
            return self.sock.recv(65536)
        except OSError:
            return b""

    def _from_supervisor(self, data: bytes) -> bool:
        """True when the stream ends (the container exited, its supervisor went away)."""
        if not data:
            return True
        for kind, payload in self.reader.feed(data):
            if kind == p.EXIT:
                return True
            out = kind == p.STDOUT
            if (out and not self.s.stdout) or (not out and not self.s.stderr):
                continue
            chunk = payload if self.s.tty else docker_frame(STDOUT if out else STDERR,
                                                             payload)
            try:
                self.sock.sendall(chunk)
            except OSError:
                return True  # the client left: the container runs on
        return False

    def _from_client(self, data: bytes) -> bool:
        """True when the client detached."""
        if not data:
            self.client_open = False
            if self.s.stdin and not self.s.tty:
                self.s.send(p.stdin_close())  # StdinOnce: the half-close is EOF
            return False
        if not self.s.stdin:
            return False
        if self._detaches(data):
            return True
        self.s.send(p.stdin(data))
        return False

    def _detaches(self, data: bytes) -> bool:
        seq = self.s.detach
        if not seq:
            return False
        for b in data:
            if b == seq[self.matched]:
                self.matched += 1
                if self.matched == len(seq):
                    return True
            else:
                self.matched = 1 if b == seq[0] else 0
        return False


@route("POST", ID + r"/resize")
def resize(request: Request) -> Response:
    h, w = request.int_arg("h", 0) or 0, request.int_arg("w", 0) or 0
    if h <= 0 or w <= 0:
        raise ApiError(400, "resize needs h and w greater than 0")
    cid, c = _load(request)
    frame = p.resize(h, w)
    with _lock:
        sessions = list(_sessions.get(cid, []))
    for s in sessions:
        s.size = (h, w)
        if s.sup is not None and s.tty:
            with contextlib.suppress(OSError):
                s.send(frame)
    if sessions:
        return Empty(200)
    if not c.state.running:
        raise ApiError(409, f"Container {request.params['id']} is not running")
    if c.config.spec.tty:  # a client of its own: the supervisor resizes for any client
        from pycontainer.ops.lifecycle import store_for

        sup = attach.connect(str(store_for(request.store).run_dir(cid)))
        with contextlib.suppress(OSError):
            sup.sendall(frame)
        sup.close()
    return Empty(200)
