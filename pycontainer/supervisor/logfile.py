"""The container log: Docker's json-file lines or the k8s-file format, line-buffered.

Rotation (--log-opt max-size/max-file/compress) is Docker's: the log is renamed to .log.1
when the next write would pass max-size, older files shift to .log.2 ... .log.N (gzip'ed as
.log.N.gz with compress; .log.1 stays plain), and the oldest beyond max-file is removed.
gzip is imported only when a compressed rotation happens (the supervisor stays small).

json-file: {"log":"hi\n","stream":"stdout","time":"2026-01-02T03:04:05.123456789Z"}
k8s-file:  2026-01-02T03:04:05.123456789+00:00 stdout F hi     (P for a partial line)
"""

from __future__ import annotations

import os

from pycontainer.formats.timestamps import rfc3339
from pycontainer.supervisor.protocol import json_string

MAX_LINE = 16 * 1024  # Docker splits longer lines into partial records


def timestamp(ns: int | None = None) -> str:
    # fixed nine digits (Docker's RFC3339NanoFixed): log lines compare as text
    return rfc3339(ns, fixed=True)


class LogWriter:
    def __init__(self, path: str, driver: str = "json-file",
                 opts: dict[str, object] | None = None) -> None:
        self.driver = driver
        self.path = path
        opts = opts or {}
        self.max_size = int(opts.get("max_size") or 0)  # type: ignore[call-overload]
        self.max_file = max(1, int(opts.get("max_file") or 1))  # type: ignore[call-overload]
        self.compress = bool(opts.get("compress"))
        attrs = str(opts.get("attrs") or "")
        self.attrs = f',"attrs":{attrs}' if attrs else ""
        self.fd = -1
        if driver != "none":
            self.fd = self._open()
        self.size = os.fstat(self.fd).st_size if self.fd >= 0 else 0
        self.partial: dict[str, bytes] = {}

    def _open(self) -> int:
        return os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def _write(self, records: list[bytes]) -> None:
        """One write per file: a rotation falls between records, before max-size is passed."""
        if self.fd < 0:
            return
        if not self.max_size:
            os.write(self.fd, b"".join(records))
            return
        batch: list[bytes] = []
        size = self.size
        for rec in records:
            if size and size + len(rec) > self.max_size:
                if batch:
                    os.write(self.fd, b"".join(batch))
                    batch = []
                self.rotate()
                size = 0
            batch.append(rec)
            size += len(rec)
        if batch:
            os.write(self.fd, b"".join(batch))
        self.size = size

    def rotate(self) -> None:
        if self.max_file < 2:  # Docker: one file is truncated
            os.ftruncate(self.fd, 0)
            self.size = 0
            return
        base, n = self.path, self.max_file
        ext = ".gz" if self.compress else ""
        _remove(f"{base}.{n - 1}{ext}" if n > 2 else f"{base}.1")
        for i in range(n - 2, 1, -1):
            _rename(f"{base}.{i}{ext}", f"{base}.{i + 1}{ext}")
        if n > 2:
            if self.compress:
                _compress(f"{base}.1", f"{base}.2.gz")
            else:
                _rename(f"{base}.1", f"{base}.2")
        os.close(self.fd)
        os.rename(base, f"{base}.1")
        self.fd = self._open()
        self.size = 0

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
            self._write(out)

    def flush(self) -> None:
        out = [self._record(s, b, False) for s, b in self.partial.items() if b]
        self.partial.clear()
        if out:
            self._write(out)

    def _record(self, stream: str, data: bytes, full: bool) -> bytes:
        text = data.decode("utf-8", "replace")
        if self.driver == "k8s-file":
            body = text[:-1] if full else text
            ts = timestamp()[:-1] + "+00:00"
            return f"{ts} {stream} {'F' if full else 'P'} {body}\n".encode()
        # json.dumps would import json and re into the supervisor: encode the record here
        return (f'{{"log":{json_string(text)},"stream":"{stream}"{self.attrs},'
                f'"time":"{timestamp()}"}}\n').encode()

    def close(self) -> None:
        self.flush()
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _remove(path: str) -> None:
    if os.path.lexists(path):
        os.unlink(path)


def _rename(src: str, dst: str) -> None:
    if os.path.lexists(src):
        os.rename(src, dst)


def _compress(src: str, dst: str) -> None:
    """src -> dst gzip'ed, then src removed (gzip is imported here, on the first need)."""
    import gzip
    import shutil

    try:
        fin = open(src, "rb")  # noqa: SIM115
    except FileNotFoundError:
        return
    with fin, gzip.open(dst + ".tmp", "wb") as fout:
        shutil.copyfileobj(fin, fout)
    os.rename(dst + ".tmp", dst)
    os.unlink(src)
