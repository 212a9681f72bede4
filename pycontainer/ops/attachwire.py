"""The supervisor's attach-socket frames, for front ends that pump them themselves (the
API's attach): `ops.attach` speaks the same protocol for the CLI."""

from __future__ import annotations

from pycontainer.supervisor import protocol as p

FrameReader = p.FrameReader
STDOUT, STDERR, EXIT, MARK = p.STDOUT, p.STDERR, p.EXIT, p.MARK


def stdin(data: bytes) -> bytes:
    return p.encode(p.STDIN, data)


def stdin_close() -> bytes:
    return p.encode(p.STDIN_CLOSE)


def resize(height: int, width: int) -> bytes:
    return p.encode(p.RESIZE, f"{height} {width}".encode())


def log_mark() -> bytes:
    return p.encode(p.LOG_MARK)
