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
    #: logs=1: replay the log before the live output
    logs: bool = False
    #: the log read at the request (the container was not running: chunks for the client)
    replay: list[bytes] = field(default_factory=list)
    #: the live log file's size that replay covers (None: nothing read yet)
    covered: int | None = None
    #: the API's start handed this session its supervisor socket, connected before the
    #: container ran: all its output comes live
    handed: bool = False

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
    first.sup, first.handed = started.sock, True
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
    from pycontainer.ops import logreplay

    cid, c = _load(request)
    logs, stream = request.flag("logs"), request.flag("stream")
    if not (stream or logs):
        raise ApiError(400, "stream=0 without logs attaches to nothing: pass stream=1")
    spec = c.config.spec
    keys = request.arg("detachKeys") or attach.DEFAULT_DETACH_KEYS
    session = Session(cid, bool(spec.tty), request.flag("stdin") and bool(spec.interactive),
                      request.flag("stdout"), request.flag("stderr"),
                      attach.parse_detach_keys(keys),
                      logs=logs and logreplay.readable(request.store, cid))
    paths = request.store
    content = "application/vnd.docker.raw-stream" if spec.tty \
        else "application/vnd.docker.multiplexed-stream"
    if session.logs and (not stream or not c.state.running):
        # not running: the log cannot grow until a start, which _send_log then covers
        session.replay, session.covered = _replay_chunks(paths, session)
    if not stream:
        return Hijack(lambda sock, _already: _replay_only(session, sock), content)
    _register(session)  # before the 101: the client may ask for the start right after it
    return Hijack(lambda sock, already: _run(paths, session, sock, already), content)


def _replay_chunks(paths: Paths, s: Session, start: int | None = None,
                   limit: int | None = None) -> tuple[list[bytes], int]:
    """The log's records as the client's chunks (its streams only; frames without a TTY)
    and the live file's size they cover."""
    from pycontainer.ops import logreplay

    chunks = []
    lines, end = logreplay.replay(paths, s.cid, start, limit)
    for line in lines:
        out = line.stream != "stderr"
        if (out and s.stdout) or (not out and s.stderr):
            data = line.text.encode("utf-8", "surrogateescape")
            chunks.append(data if s.tty else docker_frame(STDOUT if out else STDERR, data))
    return chunks, end


def _replay_only(s: Session, sock: socket.socket) -> None:
    """logs=1&stream=0: the log, then the end of the stream."""
    try:
        time.sleep(GRACE)
        with contextlib.suppress(OSError):
            sock.sendall(b"".join(s.replay))
    finally:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _run(paths: Paths, s: Session, sock: socket.socket, already: bytes) -> None:
    try:
        time.sleep(GRACE)
        sock.sendall(b"".join(s.replay))  # the log so far, before waiting for a start
        pending = [already] if already else []
        if s.sup is None and not _await_running(paths, s, sock, pending):
            return
        reader = p.FrameReader()
        early = _send_log(paths, s, sock, reader) if s.logs else []
        _Pump(s, sock, pending, reader, early).run()
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


#: how long a supervisor has to answer LOG_MARK (one from before it existed never does)
MARK_WAIT = 2.0


def _send_log(paths: Paths, s: Session, sock: socket.socket,
              reader: p.FrameReader) -> list[tuple[int, bytes]]:
    """logs=1: the rest of the log before the live output. A session handed its start
    has all of it (sent before the start); otherwise the supervisor's MARK splits its
    output: frames before it are in the log up to the MARK's size, frames after it
    (returned, for the pump) are not."""
    if s.handed:
        return []
    assert s.sup is not None
    s.send(p.log_mark())
    early: list[tuple[int, bytes]] = []
    limit: int | None = None
    marked = False
    deadline = time.monotonic() + MARK_WAIT
    while not marked and (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([s.sup], [], [], left)
        data = s.sup.recv(65536) if ready else b""
        if not data:
            break  # no answer, or the supervisor ended: the whole log, as it is
        for kind, payload in reader.feed(data):
            if marked or kind == p.EXIT:
                early.append((kind, payload))
            elif kind == p.MARK:
                marked, limit = True, int(payload)
    sock.sendall(b"".join(_replay_chunks(paths, s, s.covered, limit)[0]))
    return early


def _running(store: Any, cid: str) -> bool:
    from pycontainer.ops.lifecycle import load_synced

    with store.lock(cid):
        return bool(load_synced(store, cid).state.running)


class _Pump:
    """Client <-> supervisor until the container exits, the client detaches or leaves."""

    def __init__(self, s: Session, sock: socket.socket, pending: list[bytes],
                 reader: p.FrameReader, early: list[tuple[int, bytes]]) -> None:
        self.s, self.sock = s, sock
        self.reader = reader
        self.matched = 0
        self.client_open = True
        self.pending = pending
        self.early = early

    def run(self) -> None:
        sup = self.s.sup
        assert sup is not None
        if self._forward(self.early):
            return
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
        return self._forward(self.reader.feed(data))

    def _forward(self, frames: list[tuple[int, bytes]]) -> bool:
        for kind, payload in frames:
            if kind == p.EXIT:
                return True
            if kind not in (p.STDOUT, p.STDERR):
                continue
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
