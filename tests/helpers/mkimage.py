"""Deterministic OCI image layouts for the test fixtures, built with the stdlib only.

The harness runs this as root with Debian's /usr/bin/python3 before any venv exists, so it
imports nothing outside the standard library. Tests may import the builders too (for example
to make a small image with one odd layer) via `tests.helpers.mkimage`.

Everything is reproducible: fixed mtimes, sorted entries, gzip without a timestamp, fixed
config timestamps. The same inputs give the same manifest digest, which lets the harness skip
pushing an image the registry already holds.

    python3 tests/helpers/mkimage.py busybox OUT_DIR [--tag latest]
    python3 tests/helpers/mkimage.py rootfs TARBALL OUT_DIR --tag bookworm --cmd bash
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import platform
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

#: bumped whenever the output of a builder changes, so cached layouts are rebuilt
BUILDER_VERSION = 1

EPOCH = 1704067200  # 2024-01-01T00:00:00Z: fixed so that layer digests never change
CREATED = "2024-01-01T00:00:00Z"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"

#: What the busybox fixture holds, for tests to assert against (also written to fixtures.json).
BUSYBOX_FACTS: dict[str, Any] = {
    "layers": 3,
    "index_html": "/www/index.html",
    "index_html_content": "hello from pyc fixture\n",
    "owned_by_33": "/var/www/owned-by-33",
    "app_home": "/home/app",
    "app_uid": 1000,
    # /etc/to-be-deleted is created in layer 2 and whited out in layer 3
    "whiteout_deleted": "/etc/to-be-deleted",
    # /opt/replaced holds old-a, old-b in layer 2; layer 3 makes it opaque and adds `new`
    "opaque_dir": "/opt/replaced",
    "opaque_removed": ["old-a", "old-b", "sub/old-c"],
    "opaque_kept": ["new"],
    "env_path": DEFAULT_PATH,
    "cmd": ["sh"],
}


def host_arch() -> str:
    machine = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}.get(machine, machine)


# --- layers ---------------------------------------------------------------------------------


@dataclass
class Entry:
    """One tar member of a layer built from scratch."""

    path: str  # relative, no leading slash
    kind: str = "file"  # file, dir, symlink, hardlink
    data: bytes = b""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    target: str = ""  # symlink or hardlink target


def d(path: str, mode: int = 0o755, uid: int = 0, gid: int = 0) -> Entry:
    return Entry(path, "dir", mode=mode, uid=uid, gid=gid)


def f(path: str, data: bytes | str, mode: int = 0o644, uid: int = 0, gid: int = 0) -> Entry:
    raw = data.encode() if isinstance(data, str) else data
    return Entry(path, "file", raw, mode=mode, uid=uid, gid=gid)


def ln(path: str, target: str) -> Entry:
    return Entry(path, "symlink", mode=0o777, target=target)


def _tarinfo(e: Entry) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(e.path.lstrip("/"))
    ti.mode, ti.uid, ti.gid, ti.mtime = e.mode, e.uid, e.gid, EPOCH
    ti.uname = ti.gname = ""
    if e.kind == "dir":
        ti.type = tarfile.DIRTYPE
    elif e.kind == "symlink":
        ti.type, ti.linkname = tarfile.SYMTYPE, e.target
    elif e.kind == "hardlink":
        ti.type, ti.linkname = tarfile.LNKTYPE, e.target.lstrip("/")
    else:
        ti.size = len(e.data)
    return ti


def layer_tar(entries: Iterable[Entry]) -> bytes:
    """An uncompressed layer tar; parents come before children because entries are sorted."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for e in sorted(entries, key=lambda e: e.path.lstrip("/")):
            ti = _tarinfo(e)
            tar.addfile(ti, io.BytesIO(e.data) if e.kind == "file" else None)
    return buf.getvalue()


def gzip_bytes(raw: bytes) -> bytes:
    return gzip.compress(raw, compresslevel=6, mtime=0)


class _Sink(Protocol):
    def write(self, data: bytes, /) -> int: ...


class _HashingWriter(io.RawIOBase):
    """Counts and hashes what passes through to `out` (for streaming big layers)."""

    def __init__(self, out: _Sink) -> None:
        self.out, self.sha, self.size = out, hashlib.sha256(), 0

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        data = bytes(b)
        self.sha.update(data)
        self.size += len(data)
        self.out.write(data)
        return len(data)


# --- layout ---------------------------------------------------------------------------------


@dataclass
class Layer:
    digest: str  # of the gzip blob
    size: int
    diff_id: str  # of the uncompressed tar
    created_by: str


@dataclass
class Layout:
    """An OCI image layout being written under `root`."""

    root: Path
    layers: list[Layer] = field(default_factory=list)

    def __post_init__(self) -> None:
        (self.root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (self.root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')

    def put_blob(self, data: bytes) -> tuple[str, int]:
        digest = hashlib.sha256(data).hexdigest()
        (self.root / "blobs" / "sha256" / digest).write_bytes(data)
        return f"sha256:{digest}", len(data)

    def add_layer(self, raw_tar: bytes, created_by: str) -> Layer:
        digest, size = self.put_blob(gzip_bytes(raw_tar))
        layer = Layer(digest, size, "sha256:" + hashlib.sha256(raw_tar).hexdigest(), created_by)
        self.layers.append(layer)
        return layer

    def add_layer_from_tarfile(self, source: Path, created_by: str,
                               keep: Any = None) -> Layer:
        """Re-pack an existing tar (e.g. mmdebstrap's) as a gzip layer, streaming.

        `keep(TarInfo) -> bool` filters members; device nodes are always dropped because a
        rootless engine cannot create them and images normally do not carry them.
        """
        blobs = self.root / "blobs" / "sha256"
        fd, tmp_name = tempfile.mkstemp(dir=blobs, prefix=".tmp-")
        with os.fdopen(fd, "wb") as out_file:
            gz_hash = _HashingWriter(out_file)
            with gzip.GzipFile(fileobj=gz_hash, mode="wb", compresslevel=6, mtime=0) as gz:
                raw_hash = _HashingWriter(gz)
                # "w|": a stream, because the hashing writer cannot seek
                with tarfile.open(source) as src, tarfile.open(
                        fileobj=raw_hash, mode="w|", format=tarfile.PAX_FORMAT) as dst:
                    for ti in _members(src):
                        if ti.ischr() or ti.isblk() or ti.isfifo():
                            continue
                        if keep is not None and not keep(ti):
                            continue
                        fobj = src.extractfile(ti) if ti.isreg() else None
                        dst.addfile(ti, fobj)
        digest = gz_hash.sha.hexdigest()
        os.replace(tmp_name, blobs / digest)
        layer = Layer(f"sha256:{digest}", gz_hash.size, f"sha256:{raw_hash.sha.hexdigest()}",
                      created_by)
        self.layers.append(layer)
        return layer

    def finish(self, tag: str, config: dict[str, Any], comments: list[str] | None = None) -> str:
        """Write config, manifest and index.json; return the manifest digest."""
        history = [{"created": CREATED, "created_by": layer.created_by,
                    **({"comment": comments[i]} if comments else {})}
                   for i, layer in enumerate(self.layers)]
        cfg = {
            "created": CREATED,
            "architecture": host_arch(),
            "os": "linux",
            "config": config,
            "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in self.layers]},
            "history": history,
        }
        cfg_digest, cfg_size = self.put_blob(_canonical(cfg))
        manifest = {
            "schemaVersion": 2,
            "mediaType": MT_MANIFEST,
            "config": {"mediaType": MT_CONFIG, "digest": cfg_digest, "size": cfg_size},
            "layers": [{"mediaType": MT_LAYER_GZIP, "digest": layer.digest, "size": layer.size}
                       for layer in self.layers],
        }
        man_digest, man_size = self.put_blob(_canonical(manifest))
        index = {
            "schemaVersion": 2,
            "mediaType": MT_INDEX,
            "manifests": [{
                "mediaType": MT_MANIFEST, "digest": man_digest, "size": man_size,
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }],
        }
        (self.root / "index.json").write_bytes(_canonical(index))
        return man_digest


def _members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    ti = tar.next()
    while ti is not None:
        yield ti
        ti = tar.next()


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def manifest_digest(layout_dir: Path) -> str:
    index = json.loads((layout_dir / "index.json").read_text())
    return str(index["manifests"][0]["digest"])


# --- the fixtures ---------------------------------------------------------------------------


def find_busybox() -> Path:
    for cand in ("/bin/busybox", "/usr/bin/busybox"):
        p = Path(cand)
        if p.is_file():
            return p.resolve()
    found = shutil.which("busybox")
    if not found:
        raise SystemExit("busybox not found: apt-get install busybox-static")
    return Path(found).resolve()


def _is_static(path: Path) -> bool:
    # A dynamic ELF has a PT_INTERP naming the loader; a static one does not.
    with open(path, "rb") as fh:
        head = fh.read(8192)
    return b"ld-linux" not in head and b"ld-musl" not in head


def busybox_layers(busybox: Path) -> list[tuple[list[Entry], str]]:
    applets = subprocess.run([str(busybox), "--list"], check=True, capture_output=True,
                             text=True).stdout.split()
    base: list[Entry] = [
        d("bin"), d("sbin"), d("usr"), d("usr/bin"), d("usr/sbin"), d("usr/local"),
        d("usr/local/bin"), d("tmp", 0o1777), d("root", 0o700), d("proc", 0o555),
        d("sys", 0o555), d("dev"), d("etc"), d("var"), d("var/tmp", 0o1777), d("home"),
        f("bin/busybox", busybox.read_bytes(), 0o755),
    ]
    base += [ln(f"bin/{a}", "busybox") for a in sorted(set(applets)) if a != "busybox"]

    passwd = (
        "root:x:0:0:root:/root:/bin/sh\n"
        "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
        "www-data:x:33:33:www-data:/var/www:/bin/false\n"
        "app:x:1000:1000:app:/home/app:/bin/sh\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
    )
    group = (
        "root:x:0:\n"
        "daemon:x:1:\n"
        "www-data:x:33:\n"
        "app:x:1000:\n"
        "nogroup:x:65534:\n"
    )
    files: list[Entry] = [
        f("etc/passwd", passwd), f("etc/group", group),
        f("etc/to-be-deleted", "this file is removed by a whiteout in layer 3\n"),
        d("home/app", 0o755, 1000, 1000),
        f("home/app/.profile", "export PS1='app$ '\n", 0o644, 1000, 1000),
        d("www"), f("www/index.html", BUSYBOX_FACTS["index_html_content"]),
        d("var/www", 0o755, 33, 33),
        f("var/www/owned-by-33", "owned by www-data\n", 0o644, 33, 33),
        d("opt"), d("opt/replaced"), f("opt/replaced/old-a", "a\n"),
        f("opt/replaced/old-b", "b\n"), d("opt/replaced/sub"), f("opt/replaced/sub/old-c", "c\n"),
    ]
    changes: list[Entry] = [
        d("etc"), f("etc/.wh.to-be-deleted", b""),
        d("opt"), d("opt/replaced"), f("opt/replaced/.wh..wh..opq", b""),
        f("opt/replaced/new", "from layer 3\n"),
    ]
    return [
        (base, f"COPY busybox {busybox.name} and applet links /"),
        (files, "COPY users, groups, /www, /var/www, /home/app, /opt/replaced"),
        (changes, "RUN rm /etc/to-be-deleted && replace /opt/replaced"),
    ]


def build_busybox(out: Path, tag: str = "latest") -> str:
    busybox = find_busybox()
    if not _is_static(busybox):
        raise SystemExit(f"{busybox} is dynamically linked; install busybox-static")
    if out.exists():
        shutil.rmtree(out)
    layout = Layout(out)
    for entries, created_by in busybox_layers(busybox):
        layout.add_layer(layer_tar(entries), created_by)
    config = {"Env": [f"PATH={DEFAULT_PATH}"], "Cmd": list(BUSYBOX_FACTS["cmd"])}
    return layout.finish(tag, config)


def build_rootfs(tarball: Path, out: Path, tag: str, cmd: list[str]) -> str:
    if out.exists():
        shutil.rmtree(out)
    layout = Layout(out)
    layout.add_layer_from_tarfile(tarball, f"mmdebstrap {tarball.name}")
    config = {"Env": [f"PATH={DEFAULT_PATH}"], "Cmd": cmd}
    return layout.finish(tag, config)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    sub = ap.add_subparsers(dest="what", required=True)
    bb = sub.add_parser("busybox", help="the 3-layer busybox fixture")
    bb.add_argument("out", type=Path)
    bb.add_argument("--tag", default="latest")
    rf = sub.add_parser("rootfs", help="a single-layer image from a root file system tarball")
    rf.add_argument("tarball", type=Path)
    rf.add_argument("out", type=Path)
    rf.add_argument("--tag", required=True)
    rf.add_argument("--cmd", action="append", default=[])
    args = ap.parse_args(argv)
    if args.what == "busybox":
        digest = build_busybox(args.out, args.tag)
    else:
        digest = build_rootfs(args.tarball, args.out, args.tag, args.cmd or ["sh"])
    print(digest)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
