"""Content-addressed blob storage: `blobs/sha256/<hex>`, written only after verification.

A blob is written to `blobs/tmp/<pid>-<random>` while it streams in, verified (digest and
size) and then renamed into place, so a blob visible under its name always hashes to it.
Temp files of dead processes (a SIGKILLed pull) are swept by `sweep_temp()`.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import BinaryIO

from pycontainer.oci import digest as digests
from pycontainer.oci.digest import DigestingReader


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.dir = root / "sha256"
        self.tmp = root / "tmp"

    def ensure(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)

    def path(self, digest: str) -> Path:
        return self.dir / digests.hex_of(digest)

    def has(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def size(self, digest: str) -> int:
        return self.path(digest).stat().st_size

    def read(self, digest: str) -> bytes:
        return self.path(digest).read_bytes()

    def open(self, digest: str) -> BinaryIO:
        return open(self.path(digest), "rb")

    def temp_path(self) -> Path:
        self.ensure()
        return self.tmp / f"{os.getpid()}-{os.urandom(8).hex()}"

    def put_bytes(self, data: bytes, digest: str = "") -> str:
        """Store `data` (verified against `digest` if given); returns its digest."""
        if digest:
            digests.verify_bytes(data, digest)
        else:
            digest = digests.of_bytes(data)
        if self.has(digest):
            return digest
        tmp = self.temp_path()
        tmp.write_bytes(data)
        os.rename(tmp, self.path(digest))
        return digest

    def commit(self, tmp: Path, reader: DigestingReader) -> None:
        """Verify what streamed through `reader` into `tmp` and move it into place."""
        try:
            reader.verify()
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        os.rename(tmp, self.path(reader.expected))

    def remove(self, digest: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path(digest))

    def all(self) -> list[str]:
        if not self.dir.is_dir():
            return []
        return ["sha256:" + name for name in os.listdir(self.dir)]

    def sweep_temp(self) -> None:
        """Remove temp files whose writer process is gone."""
        if not self.tmp.is_dir():
            return
        for name in os.listdir(self.tmp):
            pid = name.split("-", 1)[0]
            if pid.isdigit() and not pid_alive(int(pid)):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.tmp / name)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
