"""HTTP transport for the registry client, on `http.client` (no third-party dependency).

`Transport.send(Request) -> Response` is the seam: unit tests pass a fake transport (a
function of the request), the real one keeps one connection per (thread, scheme, host) alive.
Redirects, auth and retries are the client's business, not the transport's.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol
from urllib.parse import urlsplit

from pycontainer.errors import RegistryError

#: Network errors worth retrying (the request may succeed on a fresh connection).
TRANSIENT = (ConnectionError, TimeoutError, socket.timeout, http.client.HTTPException,
             ssl.SSLEOFError, OSError)


@dataclass
class Request:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | BinaryIO | None = None


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: Any  # has read(n) and close()
    url: str = ""

    def read(self) -> bytes:
        try:
            return bytes(self.body.read())
        finally:
            self.close()

    def close(self) -> None:
        self.body.close()

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)


class Transport(Protocol):
    def send(self, request: Request) -> Response: ...


class HTTPTransport:
    def __init__(self, verify_tls: bool = True, timeout: float = 60.0) -> None:
        self.verify_tls = verify_tls
        self.timeout = timeout
        self._local = threading.local()
        self._ssl: ssl.SSLContext | None = None

    def _context(self) -> ssl.SSLContext:
        if self._ssl is None:
            ctx = ssl.create_default_context()
            if not self.verify_tls:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            self._ssl = ctx
        return self._ssl

    def _conn(self, scheme: str, netloc: str, fresh: bool) -> http.client.HTTPConnection:
        pool: dict[tuple[str, str], http.client.HTTPConnection] = self._local.__dict__\
            .setdefault("pool", {})
        key = (scheme, netloc)
        conn = pool.get(key)
        if conn is not None and not fresh:
            return conn
        if conn is not None:
            conn.close()
        if scheme == "https":
            conn = http.client.HTTPSConnection(netloc, timeout=self.timeout,
                                               context=self._context())
        elif scheme == "http":
            conn = http.client.HTTPConnection(netloc, timeout=self.timeout)
        else:
            raise RegistryError(f"unsupported URL scheme in {scheme}://{netloc}")
        pool[key] = conn
        return conn

    def send(self, request: Request) -> Response:
        parts = urlsplit(request.url)
        target = parts.path + ("?" + parts.query if parts.query else "")
        headers = {"User-Agent": "pyc", **request.headers}
        for attempt in (0, 1):
            conn = self._conn(parts.scheme, parts.netloc, fresh=attempt > 0)
            try:
                conn.request(request.method, target or "/", body=request.body, headers=headers)
                resp = conn.getresponse()
            except TRANSIENT:
                conn.close()
                # A kept-alive connection the server closed: retry once on a new one, unless
                # the body was a stream we cannot rewind.
                if attempt or (request.body is not None and not isinstance(request.body,
                                                                            bytes)):
                    raise
                continue
            hdrs = {k.lower(): v for k, v in resp.getheaders()}
            return Response(resp.status, hdrs, _Body(resp, conn), request.url)
        raise AssertionError("unreachable")


class _Body:
    """A response body; closing it early drops the connection (it cannot be reused)."""

    def __init__(self, resp: http.client.HTTPResponse, conn: http.client.HTTPConnection):
        self._resp = resp
        self._conn = conn

    def read(self, n: int = -1) -> bytes:
        return self._resp.read() if n is None or n < 0 else self._resp.read(n)

    def readinto(self, buf: Any) -> int:
        return self._resp.readinto(buf)

    def close(self) -> None:
        if not self._resp.isclosed():
            self._resp.close()
            self._conn.close()
