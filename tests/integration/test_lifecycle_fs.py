"""A container's files: diff, cp (both ways, tar streams), export, commit."""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def ctr(shared_pyc, fixture_refs):
    shared_pyc.ok("pull", "-q", fixture_refs["busybox"])
    shared_pyc.ok("run", "--name", "fs", fixture_refs["busybox"], "sh", "-c",
                  "echo new > /etc/newfile; rm /etc/group; mkdir -p /data/sub; "
                  "echo x > /data/sub/f")
    yield "fs"
    shared_pyc("rm", "-f", "fs")


def test_diff(shared_pyc, ctr):
    lines = shared_pyc.ok("diff", ctr).lines
    for want in ("A /data", "A /data/sub/f", "C /etc", "D /etc/group", "A /etc/newfile"):
        assert want in lines
    assert not any(line.endswith(("/etc/hosts", "/etc/hostname", "/etc/resolv.conf"))
                   for line in lines)


def test_diff_of_a_running_container(shared_pyc, fixture_refs):
    shared_pyc.ok("run", "-d", "--name", "fs-live", fixture_refs["busybox"], "sleep", "300")
    try:
        shared_pyc.ok("exec", "fs-live", "sh", "-c", "echo x > /etc/live; rm /etc/group")
        lines = shared_pyc.ok("diff", "fs-live").lines
        for want in ("C /etc", "A /etc/live", "D /etc/group"):
            assert want in lines, lines
    finally:
        shared_pyc("rm", "-f", "fs-live")


def test_cp_out_to_a_directory_and_as_a_stream(shared_pyc, ctr, tmp_path: Path):
    os.chmod(tmp_path, 0o777)
    shared_pyc.ok("cp", f"{ctr}:/data", str(tmp_path))
    assert (tmp_path / "data" / "sub" / "f").read_text() == "x\n"
    shared_pyc.ok("cp", f"{ctr}:/etc/newfile", str(tmp_path / "renamed"))
    assert (tmp_path / "renamed").read_text() == "new\n"
    raw = subprocess.run(shared_pyc.argv("cp", f"{ctr}:/etc/newfile", "-"), env=shared_pyc.env,
                         capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        assert tar.getnames() == ["newfile"]


def test_cp_in_to_a_running_container(shared_pyc, fixture_refs, tmp_path: Path):
    os.chmod(tmp_path, 0o755)
    src = tmp_path / "hello.txt"
    src.write_text("hello\n")
    src.chmod(0o644)
    cid = shared_pyc.ok("run", "-d", fixture_refs["busybox"], "sleep", "60").out.strip()
    try:
        shared_pyc.ok("cp", str(src), f"{cid}:/tmp/")
        shared_pyc.ok("cp", str(src), f"{cid}:/tmp/renamed.txt")
        res = shared_pyc.ok("exec", cid, "sh", "-c",
                            "cat /tmp/hello.txt /tmp/renamed.txt; stat -c %u /tmp/hello.txt")
        assert res.lines == ["hello", "hello", "0"]
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            info = tarfile.TarInfo("streamed")
            info.size = 3
            tar.addfile(info, io.BytesIO(b"abc"))
        subprocess.run(shared_pyc.argv("cp", "-", f"{cid}:/tmp"), env=shared_pyc.env,
                       input=buf.getvalue(), check=True, capture_output=True)
        assert shared_pyc.ok("exec", cid, "cat", "/tmp/streamed").out == "abc"
    finally:
        shared_pyc.ok("rm", "-f", cid)


def test_cp_refuses_paths_outside(shared_pyc, ctr, tmp_path: Path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("../../escape")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    res = subprocess.run(shared_pyc.argv("cp", "-", f"{ctr}:/tmp"), env=shared_pyc.env,
                         input=buf.getvalue(), capture_output=True)
    assert res.returncode != 0


def test_export(shared_pyc, ctr, tmp_path: Path):
    out = tmp_path / "fs.tar"
    os.chmod(tmp_path, 0o777)
    shared_pyc.ok("export", "-o", str(out), ctr)
    with tarfile.open(out) as tar:
        names = set(tar.getnames())
        assert {"etc/newfile", "data/sub/f", "bin/busybox"} <= names
        assert "etc/group" not in names


def test_commit_makes_an_image_from_the_changes(shared_pyc, ctr):
    image_id = shared_pyc.ok("commit", "-m", "msg", "-c", 'CMD ["cat", "/etc/newfile"]', ctr,
                             "committed:1").out.strip()
    assert image_id.startswith("sha256:")
    assert shared_pyc.ok("run", "--rm", "committed:1").out == "new\n"
    assert shared_pyc("run", "--rm", "committed:1", "ls", "/etc/group").rc == 1
