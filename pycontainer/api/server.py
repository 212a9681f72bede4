"""Sockets and HTTP/1.1 for the Engine API: listeners, one thread per connection, h11.

The service holds no state of its own: every request is answered from the store by the same
`ops` calls the CLI makes, so it can be killed at any moment and started again. It exits after
`timeout` seconds without an active request (a connection streaming logs, events, an attach
or an exec counts as active all along), as `podman system service --time` does.
"""

from __future__ import annotations

import contextlib
import os
import queue
import select
import socket
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

import h11

from pycontainer import __version__
from pycontainer.api import API_VERSION, endpoints, errors, routes
from pycontainer.api.wire import (
    JSON,
    ApiError,
    Empty,
    Hijack,
    Request,
    Response,
    Stream,
    status_text,
)
from pycontainer.errors import UsageError
from pycontainer.paths import Paths

if TYPE_CHECKING:
    from collections.abc import Callable

#: a unix socket path must fit sockaddr_un.sun_path
MAX_SOCKET_PATH = 107
#: per-connection threads are many and small: compose opens up to 64 at once
THREAD_STACK = 512 << 10

COMMON_HEADERS = [("Api-Version", API_VERSION), ("Docker-Experimental", "false"),
                  ("Ostype", "linux"), ("Server", f"pyc/{__version__} (linux)")]


class Tracker:
    """Counts requests being answered; the service is idle when none has been for a while."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.active = 0
        self.last = time.monotonic()

    def begin(self) -> None:
        with self._lock:
            self.active += 1

    def end(self) -> None:
        with self._lock:
            self.active -= 1
            self.last = time.monotonic()

    def idle_for(self) -> float:
        with self._lock:
            return 0.0 if self.active else time.monotonic() - self.last


@dataclass
class Listener:
    sock: socket.socket
    uri: str
    #: a unix socket path this service created (removed when it exits)
    owned_path: str | None = None
    extra: list[socket.socket] = field(default_factory=list)


# --- listening -------------------------------------------------------------------------


def listen(uri: str) -> Listener:
    """`unix:///path` or `tcp://127.0.0.1:PORT` (loopback only: there is no TLS)."""
    if uri.startswith("unix://"):
        return _listen_unix(uri[len("unix://"):])
    if uri.startswith(("tcp://", "tcp:")):
        return _listen_tcp(uri.split(":", 1)[1].lstrip("/"), uri)
    raise UsageError(f"unsupported service URI {uri!r}: use unix:///path or "
                     "tcp://127.0.0.1:PORT")


def _listen_unix(path: str) -> Listener:
    if not path.startswith("/"):
        raise UsageError(f"unix socket path must be absolute: {path!r}")
    if len(path.encode()) > MAX_SOCKET_PATH:
        raise UsageError(f"unix socket path is {len(path.encode())} bytes, more than the "
                         f"{MAX_SOCKET_PATH} a socket address holds: {path}")
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    if _answers(path):
        raise UsageError(f"another service already listens on {path}")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)  # a stale socket of a service that was killed
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)  # 0600 from the start: no window where others may connect
    try:
        sock.bind(path)
    finally:
        os.umask(old)
    sock.listen(128)
    return Listener(sock, f"unix://{path}", owned_path=path)


def _answers(path: str) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1.0)
        probe.connect(path)
        return True
    except OSError:
        return False
    finally:
        probe.close()


def _listen_tcp(hostport: str, uri: str) -> Listener:
    host, _, port = hostport.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if host == "localhost":
        host = "127.0.0.1"
    import ipaddress

    try:
        loopback = ipaddress.ip_address(host).is_loopback
        number = int(port)
    except ValueError:
        raise UsageError(f"invalid service URI {uri!r}: expected tcp://127.0.0.1:PORT") from None
    if not loopback:
        raise UsageError(f"refusing to serve the API on {host}: it is not a loopback address "
                         "and the service has no TLS (use ssh:// with dial-stdio instead)")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, number))
    sock.listen(128)
    return Listener(sock, f"tcp://{host}:{sock.getsockname()[1]}")


def activated() -> Listener | None:
    """The socket systemd passed (`LISTEN_FDS`/`LISTEN_PID`), with those variables unset so
    that containers started by this service do not inherit them."""
    pid, fds = os.environ.get("LISTEN_PID"), os.environ.get("LISTEN_FDS")
    for name in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
        os.environ.pop(name, None)
    if not pid or not fds or pid != str(os.getpid()):
        return None
    if fds != "1":
        raise UsageError(f"socket activation passed {fds} sockets; exactly one is served")
    sock = socket.socket(fileno=3)
    os.set_inheritable(3, False)
    name = sock.getsockname()
    uri = f"unix://{name}" if isinstance(name, str) else f"tcp://{name[0]}:{name[1]}"
    return Listener(sock, uri)


# --- serving -----------------------------------------------------------------------------


def serve(listener: Listener, paths: Paths, timeout: float,
          ready: Callable[[], None] | None = None) -> None:
    """Accept connections until idle for `timeout` seconds (0: forever)."""
    threading.stack_size(THREAD_STACK)
    tracker = Tracker()
    workers = _Workers()
    listener.sock.settimeout(0.2)
    if ready is not None:
        ready()
    try:
        while not (timeout > 0 and tracker.idle_for() >= timeout):
            try:
                conn, _ = listener.sock.accept()
            except TimeoutError:
                _reap_dropped()
                continue
            except OSError:
                time.sleep(0.05)  # EMFILE and friends: keep serving the connections we have
                continue
            conn.settimeout(None)
            tracker.begin()  # counted from accept: a client must get to send its request
            workers.submit(Connection(conn, tracker, paths))
    finally:
        listener.sock.close()
        if listener.owned_path:
            with contextlib.suppress(OSError):
                os.unlink(listener.owned_path)


class _Workers:
    """Connection threads, each kept a while for the next connection: docker-py opens a
    connection per URL (a list of 50 containers is 51 connections), and a thread start
    each costs its handshake. A thread serves one connection at a time, as before."""

    #: seconds an idle thread waits for another connection before it ends: enough for a
    #: client's burst of connections, short enough that a service at rest has none left
    IDLE = 0.5

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Connection] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0  # threads waiting for a connection, less the ones handed one

    def submit(self, conn: Connection) -> None:
        with self._lock:
            if self._idle:
                self._idle -= 1
                self._queue.put(conn)
                return
        threading.Thread(target=self._work, args=(conn,), daemon=True).start()

    def _work(self, conn: Connection) -> None:
        while True:
            conn.run()
            del conn  # its socket is closed: nothing of it stays with an idle thread
            with self._lock:
                self._idle += 1
            try:
                conn = self._queue.get(timeout=self.IDLE)
            except queue.Empty:
                with self._lock:  # a submit puts under the lock: an empty queue stays so
                    try:
                        conn = self._queue.get_nowait()
                    except queue.Empty:
                        self._idle -= 1
                        return


def _reap_dropped() -> None:
    """Reap the children the service started with subprocess and let go: a container's
    supervisor and slirp4netns outlive the request that started them, and subprocess reaps
    a dropped child only when the next one is made, so an idle service kept them as
    zombies. (`subprocess._cleanup` is private: without it they wait for the next Popen.)"""
    import subprocess

    cleanup = getattr(subprocess, "_cleanup", None)
    if callable(cleanup):
        with contextlib.suppress(OSError):
            cleanup()


class _Body:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.done = False

    def chunks(self) -> Iterator[bytes]:
        while not self.done:
            try:
                event = self._conn.next_event()
            except h11.RemoteProtocolError:
                # the client closed before the end of its body: answer 400, read no more
                self.done = True
                raise ApiError(400, "the request body ended early") from None
            if isinstance(event, h11.Data):
                yield bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                self.done = True
            else:
                raise ApiError(400, "the request body ended early")

    def read_all(self, limit: int) -> bytes:
        parts, size = [], 0
        for chunk in self.chunks():
            size += len(chunk)
            if size > limit:
                raise ApiError(413, f"request body is larger than {limit} bytes")
            parts.append(chunk)
        return b"".join(parts)


class Connection:
    """One client connection: requests one after another (keep-alive), or a hijack."""

    def __init__(self, sock: socket.socket, tracker: Tracker, paths: Paths) -> None:
        self.sock = sock
        self.tracker = tracker
        self.paths = paths
        self.h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=64 << 10)

    def client_gone(self) -> bool:
        """The client closed its end (a follower streaming to nobody must end): its
        socket reads EOF, or fails, without blocking."""
        try:
            ready, _, _ = select.select([self.sock], [], [], 0)
            return bool(ready) and self.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except (OSError, ValueError):
            return True

    def next_event(self) -> Any:
        while True:
            event = self.h11.next_event()
            if event is not h11.NEED_DATA:
                return event
            try:
                data = self.sock.recv(256 << 10)
            except OSError:
                data = b""
            self.h11.receive_data(data)

    def run(self) -> None:
        counted = True  # accept counted this connection until its first request is read
        try:
            while True:
                try:
                    event = self.next_event()
                except h11.RemoteProtocolError as exc:
                    self._bad_request(exc)
                    return
                finally:
                    if counted:
                        self.tracker.end()
                        counted = False
                if not isinstance(event, h11.Request):
                    return  # ConnectionClosed, or a client that left mid-request
                self.tracker.begin()
                try:
                    if not self._answer(event):
                        return
                finally:
                    self.tracker.end()
                if self.h11.our_state is not h11.DONE or self.h11.their_state is not h11.DONE:
                    return
                self.h11.start_next_cycle()
        except (OSError, h11.ProtocolError):
            return
        finally:
            with contextlib.suppress(OSError):
                self.sock.close()

    def _answer(self, event: h11.Request) -> bool:
        """Handle one request; False when the connection must close (a hijack ended it)."""
        request = _request(event, _Body(self))
        request.paths = self.paths
        request.client_gone = self.client_gone
        try:
            response = endpoints.dispatch(request)
        except Exception as exc:  # noqa: BLE001 - every failure becomes an error response
            response = errors.response_for(exc)
            if response.status >= 500:
                traceback.print_exc(file=sys.stderr)
        if isinstance(response, Hijack):
            return self._hijack(event, request, response)
        _drain(request)
        self._send(response, head=request.method == "HEAD")
        return True

    def _send(self, response: Response, head: bool = False) -> None:
        headers = [*COMMON_HEADERS, *response.headers]
        if isinstance(response, Stream):
            self._respond(response.status, headers + [("Content-Type", response.content_type)])
            self._stream(response)
            return
        if isinstance(response, JSON):
            body = response.body()
            headers += [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        else:
            assert isinstance(response, Empty)
            body = response.data
            if response.status not in (204, 304):
                headers += [("Content-Type", response.content_type),
                            ("Content-Length", str(len(body)))]
        # one write for the whole answer: a write each for the head, the body and the end
        # cost a wake-up of the client each (docker-py's list makes 51 requests)
        out = [self.h11.send(h11.Response(status_code=response.status, headers=headers,
                                          reason=status_text(response.status).encode()))]
        if body and not head:
            out.append(self.h11.send(h11.Data(data=body)))
        out.append(self.h11.send(h11.EndOfMessage()))
        self.sock_send(b"".join(x for x in out if x))

    def _stream(self, response: Stream) -> None:
        chunks = iter(response.chunks)
        try:
            for chunk in chunks:
                if chunk:
                    self._data(chunk)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()  # a client gone mid-stream: the generator's cleanup runs now
        self.sock_send(self.h11.send(h11.EndOfMessage()))

    def _respond(self, status: int, headers: list[tuple[str, str]]) -> None:
        self.sock_send(self.h11.send(h11.Response(status_code=status, headers=headers,
                                                  reason=status_text(status).encode())))

    def _data(self, data: bytes) -> None:
        if data:
            self.sock_send(self.h11.send(h11.Data(data=data)))

    def sock_send(self, data: bytes | None) -> None:
        if data:
            self.sock.sendall(data)

    def _hijack(self, event: h11.Request, request: Request, response: Hijack) -> bool:
        _drain(request)
        upgrade = any(name.lower() == b"upgrade" for name, _ in event.headers)
        if upgrade:
            self.sock_send(self.h11.send(h11.InformationalResponse(
                status_code=101, reason=b"UPGRADED",
                headers=[("Content-Type", response.content_type), ("Connection", "Upgrade"),
                         ("Upgrade", "tcp"), *COMMON_HEADERS])))
            already, _ = self.h11.trailing_data
        else:  # no Upgrade asked for: a plain 200 and the raw stream until close (podman)
            head = f"HTTP/1.1 200 OK\r\nContent-Type: {response.content_type}\r\n\r\n"
            self.sock.sendall(head.encode())
            already = b""
        response.run(self.sock, bytes(already))
        return False

    def _bad_request(self, exc: Exception) -> None:
        with contextlib.suppress(h11.ProtocolError, OSError):
            body = JSON({"message": f"malformed HTTP request: {exc}"}, 400).body()
            self._respond(400, [*COMMON_HEADERS, ("Content-Type", "application/json"),
                                ("Content-Length", str(len(body))), ("Connection", "close")])
            self._data(body)
            self.sock_send(self.h11.send(h11.EndOfMessage()))


def _drain(request: Request) -> None:
    """Read what is left of the request body, so the next request on the connection parses."""
    body = request.body
    if isinstance(body, _Body) and not body.done:
        for _ in body.chunks():
            pass


def _request(event: h11.Request, body: _Body) -> Request:
    target = event.target.decode("latin-1")
    parts = urlsplit(target)
    path = unquote(parts.path)
    version, path = routes.split_version(path)
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in event.headers}
    query = parse_qs(parts.query, keep_blank_values=True)
    return Request(event.method.decode("ascii"), path, query, headers, body, version=version)


def default_socket(runtime_dir: Path) -> str:
    return f"unix://{runtime_dir / 'pyc.sock'}"
