"""Hostile or malformed `load` / `import` archives and Dockerfiles: one clear line on stderr,
exit 125, nothing half-loaded, nothing written outside the store (issue #10, section 6);
and a 1 MB RUN script, which must simply work."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from pathlib import Path
from typing import Any

import pytest
from helpers.runner import Pyc, Result

S, L, C = tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE


def one_line_error(res: Result, *needles: str) -> str:
    assert res.rc == 125, res
    lines = [line for line in res.err.splitlines() if line.strip()]
    assert len(lines) == 1, res.err
    assert "Traceback" not in res.err and "[Errno" not in res.err, res.err
    for needle in needles:
        assert needle in lines[0], res.err
    return lines[0]


def _add(tf: tarfile.TarFile, name: str, data: bytes = b"", **attrs: Any) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in attrs.items():
        setattr(info, key, value)
    tf.addfile(info, io.BytesIO(data) if data else None)


def layer(*entries: tuple[Any, ...]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for e in entries:
            _add(tf, e[0], e[1], **(e[2] if len(e) > 2 else {}))
    return buf.getvalue()


def docker_archive(out: Path, images: list[tuple[str, bytes]], layer_path: str | None = None,
                   extra: tuple[tuple[Any, ...], ...] = ()) -> Path:
    """A docker-archive of one-layer images (tag, layer tar); `layer_path` overrides where
    manifest.json says the first layer is (the file is then not in the archive)."""
    manifest = []
    with tarfile.open(out, "w") as tf:
        for e in extra:
            _add(tf, e[0], e[1], **(e[2] if len(e) > 2 else {}))
        for i, (tag, data) in enumerate(images):
            diff = "sha256:" + hashlib.sha256(data).hexdigest()
            cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                              "rootfs": {"type": "layers", "diff_ids": [diff]}}).encode()
            path = f"l{i}/layer.tar"
            if layer_path is not None and i == 0:
                path = layer_path
            else:
                _add(tf, path, data)
            _add(tf, f"c{i}.json", cfg)
            manifest.append({"Config": f"c{i}.json", "RepoTags": [tag], "Layers": [path]})
        _add(tf, "manifest.json", json.dumps(manifest).encode())
    return out


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory hostile archives aim at: it must stay empty."""
    d = tmp_path / "outside"
    d.mkdir()
    return d


def _nothing_loaded(pyc: Pyc, outside: Path) -> None:
    assert pyc.ok("images", "-aq").out == ""
    assert os.listdir(outside) == []


def test_load_refuses_hostile_archives(pyc: Pyc, tmp_path: Path, outside: Path) -> None:
    ok = layer(("hello", b"hi"))
    cases = [
        (docker_archive(tmp_path / "abs.tar", [("x:1", ok)], layer_path="/etc/passwd"),
         "names an absolute path: '/etc/passwd'"),
        (docker_archive(tmp_path / "dd.tar", [("x:1", ok)], layer_path="../../etc/passwd"),
         "escapes its root"),
        (docker_archive(tmp_path / "missing.tar", [("x:1", ok)], layer_path="nope.tar"),
         "lacks nope.tar"),
        (docker_archive(tmp_path / "entry.tar", [("x:1", ok)],
                        extra=((f"{outside}/pwned", b"x"),)), "is an absolute path"),
        (docker_archive(tmp_path / "entry-dd.tar", [("x:1", ok)],
                        extra=((f"../../../../../..{outside}/pwned", b"x"),)),
         "escapes its root"),
        (docker_archive(tmp_path / "sym.tar", [("x:1", layer(
            ("d", b"", {"type": S, "linkname": str(outside)}), ("d/pwned", b"x")))]),
         "which is not a directory"),
        (docker_archive(tmp_path / "hard.tar", [("x:1", layer(
            ("h", b"", {"type": L, "linkname": "/etc/passwd"})))]), "not in the layer"),
        (docker_archive(tmp_path / "layer-dd.tar", [("x:1", layer(
            (f"../../../../../../..{outside}/pwned", b"x")))]), "escapes its root"),
    ]
    for path, needle in cases:
        one_line_error(pyc("load", "-i", str(path)), needle)
        _nothing_loaded(pyc, outside)


def test_load_of_malformed_archives(pyc: Pyc, tmp_path: Path, outside: Path) -> None:
    good = docker_archive(tmp_path / "good.tar", [("x:1", layer(("hello", b"hi")))])
    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(good.read_bytes()[:700])
    one_line_error(pyc("load", "-i", str(truncated)), "truncated or corrupt")
    for name, manifest, needle in [
        ("notlist.tar", b'{"a": 1}', "not a list of images"),
        ("nokeys.tar", b"[{}]", "each image needs a Config"),
        ("oci.tar", None, "OCI layout is not valid"),
    ]:
        path = tmp_path / name
        with tarfile.open(path, "w") as tf:
            if manifest is None:
                _add(tf, "index.json", json.dumps({"manifests": [
                    {"digest": "sha256:" + "a" * 64}]}).encode())
            else:
                _add(tf, "manifest.json", manifest)
        one_line_error(pyc("load", "-i", str(path)), needle)
    _nothing_loaded(pyc, outside)


def test_load_is_all_or_nothing(pyc: Pyc, tmp_path: Path, outside: Path) -> None:
    """The second image's layer is hostile: the first, fine, image is not loaded either."""
    path = docker_archive(tmp_path / "two.tar", [
        ("fine:1", layer(("hello", b"hi"))),
        ("evil:1", layer(("d", b"", {"type": S, "linkname": str(outside)}), ("d/pwned", b"x")))])
    one_line_error(pyc("load", "-i", str(path)), "which is not a directory")
    _nothing_loaded(pyc, outside)


def test_import_refuses_hostile_tars(pyc: Pyc, tmp_path: Path, outside: Path) -> None:
    for name, data, needle in [
        ("sym.tar", layer(("d", b"", {"type": S, "linkname": str(outside)}), ("d/pwned", b"x")),
         "which is not a directory"),
        ("hard.tar", layer(("h", b"", {"type": L, "linkname": "/etc/passwd"})),
         "not in the layer"),
        ("dd.tar", layer((f"../../../../../..{outside}/pwned", b"x")), "escapes its root"),
    ]:
        path = tmp_path / name
        path.write_bytes(data)
        one_line_error(pyc("import", str(path)), needle)
        _nothing_loaded(pyc, outside)
    one_line_error(pyc("import", str(tmp_path)), str(tmp_path))


# --- Dockerfiles -----------------------------------------------------------------------------


def _context(tmp_path: Path, dockerfile: str) -> Path:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(dockerfile)
    return ctx


def test_build_run_of_one_megabyte(pyc: Pyc, fixture_refs: dict[str, str],
                                   tmp_path: Path) -> None:
    pyc.ok("pull", "-q", fixture_refs["busybox"])
    script = 'x="' + "a" * (1 << 20) + '"; echo "${#x} $0" > /len'
    ctx = _context(tmp_path, f"FROM {fixture_refs['busybox']}\nRUN {script}\n")
    pyc.ok("build", "-q", "-t", "big:1", str(ctx), timeout=300)
    out = pyc.ok("run", "--rm", "big:1", "sh", "-c", "cat /len; ls -a /").out
    assert out.splitlines()[0] == f"{1 << 20} /bin/sh"
    assert ".pyc-run-script" not in out  # how the script got in is not part of the image


def test_build_exec_form_too_long_and_unterminated_heredoc(
        pyc: Pyc, fixture_refs: dict[str, str], tmp_path: Path) -> None:
    pyc.ok("pull", "-q", fixture_refs["busybox"])
    ctx = _context(tmp_path, f"FROM {fixture_refs['busybox']}\n"
                             f"RUN {json.dumps(['echo', 'b' * 200_000])}\n")
    one_line_error(pyc("build", "-q", "-t", "long:1", str(ctx)), "too long for exec",
                   "131072 per argument")
    (ctx / "Dockerfile").write_text(f"FROM {fixture_refs['busybox']}\nRUN <<EOF\necho hi\n")
    one_line_error(pyc("build", "-q", "-t", "hd:1", str(ctx)), "Dockerfile:2",
                   "unterminated heredoc")
    assert pyc.ok("images", "-q", "long").out == "" and pyc.ok("images", "-q", "hd").out == ""
