"""The container log: Docker's json-file lines or the k8s-file format, line-buffered.

json-file: {"log":"hi\n","stream":"stdout","time":"2026-01-02T03:04:05.123456789Z"}
k8s-file:  2026-01-02T03:04:05.123456789+00:00 stdout F hi     (P for a partial line)
"""

from __future__ import annotations

import os
import time

from pycontainer.supervisor.protocol import json_string

MAX_LINE = 16 * 1024  # Docker splits longer lines into partial records


def timestamp(ns: int | None = None) -> str:
    ns = time.time_ns() if ns is None else ns
    secs, frac = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{frac:09d}Z"


class LogWriter:
    def __init__(self, path: str, driver: str = "json-file") -> None:
        self.driver = driver
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self.partial: dict[str, bytes] = {}

    def write(self, stream: str, data: bytes) -> None:
        buf = self.partial.get(stream, b"") + data
        out = []
        while True:
            nl = buf.find(b"\n")
            if nl < 0:
                break
            out.append(self._record(stream, buf[: nl + 1], True))
            buf = buf[nl + 1 :]
        while len(buf) >= MAX_LINE:
            out.append(self._record(stream, buf[:MAX_LINE], False))
            buf = buf[MAX_LINE:]
        self.partial[stream] = buf
        if out:
            os.write(self.fd, b"".join(out))

    def flush(self) -> None:
        out = [self._record(s, b, False) for s, b in self.partial.items() if b]
        self.partial.clear()
        if out:
            os.write(self.fd, b"".join(out))

    def _record(self, stream: str, data: bytes, full: bool) -> bytes:
        text = data.decode("utf-8", "replace")
        if self.driver == "k8s-file":
            body = text[:-1] if full else text
            ts = timestamp()[:-1] + "+00:00"
            return f"{ts} {stream} {'F' if full else 'P'} {body}\n".encode()
        # json.dumps would import json and re into the supervisor: encode the record here
        return (f'{{"log":{json_string(text)},"stream":"{stream}",'
                f'"time":"{timestamp()}"}}\n').encode()

    def close(self) -> None:
        self.flush()
        os.close(self.fd)
