"""Requests and responses as the handlers see them, and Docker's stream framings.

A handler takes a `Request` and returns a `Response`: `JSON`, `Empty`, `Stream` (chunked,
headers sent before the first chunk) or `Hijack` (a 101 and the raw socket). Errors are
raised: `ApiError` with a status, or one of pyc's own errors, which `errors.py` maps.
"""

from __future__ import annotations

import json
import socket
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from pycontainer.paths import Paths

#: a JSON request body larger than this is refused (a build context or archive streams)
MAX_JSON_BODY = 16 << 20


class ApiError(Exception):
    """An error response: `{"message": ...}` with `status`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Body(Protocol):
    def chunks(self) -> Iterator[bytes]: ...

    def read_all(self, limit: int) -> bytes: ...


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Body
    #: the `/vX.Y` prefix of the path ("" when unversioned)
    version: str = ""
    params: dict[str, str] = field(default_factory=dict)
    #: the store this service serves (--root / --runroot of `pyc system service`)
    paths: Paths | None = None
    #: True once the client has closed its connection (a follower asks while idle)
    client_gone: Callable[[], bool] = lambda: False

    @property
    def store(self) -> Paths:
        assert self.paths is not None
        return self.paths

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def args(self, name: str) -> list[str]:
        return self.query.get(name, [])

    def flag(self, name: str, default: bool = False) -> bool:
        """Docker's boolean query values: 1/true/True/yes; 0/false/no/"" are false."""
        value = self.arg(name)
        if value is None:
            return default
        return value.strip().lower() in ("1", "true", "yes", "t", "y")

    def int_arg(self, name: str, default: int | None = None) -> int | None:
        value = self.arg(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except ValueError:
            raise ApiError(400, f"invalid value for {name}: {value!r}: not an integer") from None

    def json_arg(self, name: str) -> Any:
        """A query parameter holding JSON (`filters`, `buildargs`, `labels`)."""
        value = self.arg(name)
        if not value:
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise ApiError(400, f"invalid JSON in the {name} parameter") from None

    def json(self, required: bool = True) -> Any:
        raw = self.body.read_all(MAX_JSON_BODY)
        if not raw.strip():
            if required:
                raise ApiError(400, "request body is empty; a JSON object was expected")
            return {}
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ApiError(400, f"malformed JSON in the request body: {exc}") from None

    def json_object(self, required: bool = True) -> dict[str, Any]:
        obj = self.json(required)
        if not isinstance(obj, dict):
            raise ApiError(400, "the request body must be a JSON object")
        return obj


class Response:
    status = 200
    headers: list[tuple[str, str]]


class JSON(Response):
    def __init__(self, obj: object, status: int = 200,
                 headers: list[tuple[str, str]] | None = None) -> None:
        self.obj, self.status, self.headers = obj, status, headers or []

    def body(self) -> bytes:
        # no cycle check: the views are trees built per request (a cheaper encode)
        return json.dumps(self.obj, separators=(",", ":"), check_circular=False).encode() + b"\n"


class Empty(Response):
    def __init__(self, status: int = 204, headers: list[tuple[str, str]] | None = None,
                 body: bytes = b"", content_type: str = "text/plain; charset=utf-8") -> None:
        self.status, self.headers, self.data = status, headers or [], body
        self.content_type = content_type


class Stream(Response):
    """A chunked body; the headers go out before the first chunk (a follower waiting for
    the first log line or event must not see a client time out on the headers)."""

    def __init__(self, chunks: Iterable[bytes], content_type: str = "application/json",
                 status: int = 200, headers: list[tuple[str, str]] | None = None) -> None:
        self.chunks, self.content_type = chunks, content_type
        self.status, self.headers = status, headers or []


class Hijack(Response):
    """`101 UPGRADED` and then `run(sock, already_read)` owns the connection (attach, exec)."""

    def __init__(self, run: Callable[[socket.socket, bytes], None],
                 content_type: str = "application/vnd.docker.raw-stream") -> None:
        self.run, self.content_type = run, content_type
        self.status, self.headers = 101, []


# --- framings ----------------------------------------------------------------------------

STDOUT, STDERR = 1, 2


def frame(stream: int, data: bytes) -> bytes:
    """Docker's multiplexed stream frame (stdcopy): type, three zero bytes, big-endian size."""
    return struct.pack(">BxxxL", stream, len(data)) + data


def json_line(obj: object) -> bytes:
    """One message of a JSON stream (pull, push, build, events): dockerd ends each with CRLF."""
    return json.dumps(obj, separators=(",", ":")).encode() + b"\r\n"


def status_text(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
