"""cp, diff, export and commit never follow a container's symlinks out to the host.

The containers here hold links to `/` and to an absolute path that also exists on the host
(a directory of the test's own, so an escape shows up as a file there): whatever pyc does
on the host side must resolve them inside the container (issue 10, section 4).
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def host_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A host directory the test user owns; the containers have the same path with other
    content. `secret` says HOST here and CTR in the containers."""
    d = tmp_path_factory.mktemp("hostside")
    os.chmod(d, 0o777)
    (d / "in").mkdir(mode=0o777)
    os.chmod(d / "in", 0o777)  # mkdir's mode is cut by the umask
    (d / "secret").write_text("HOST\n")
    (d / "file").write_text("host file\n")
    return d


@pytest.fixture(scope="module")
def linked(shared_pyc, fixture_refs, host_dir: Path):
    """A stopped container with /target -> /, /esc -> host_dir, /leak -> host_dir/secret."""
    shared_pyc.ok("pull", "-q", fixture_refs["busybox"])
    shared_pyc.ok("run", "--name", "symlinked", fixture_refs["busybox"], "sh", "-c",
                  f"mkdir -p {host_dir}/in && echo CTR > {host_dir}/secret && "
                  f"ln -s / /target && ln -s {host_dir} /esc && ln -s {host_dir}/secret /leak")
    yield "symlinked"
    shared_pyc("rm", "-f", "symlinked")


def test_cp_into_a_stopped_container_through_links_stays_inside(shared_pyc, linked,
                                                                host_dir: Path,
                                                                tmp_path: Path):
    os.chmod(tmp_path, 0o777)
    src = tmp_path / "payload"
    src.write_text("payload\n")
    src.chmod(0o644)
    shared_pyc.ok("cp", str(src), f"{linked}:/target{host_dir}/in/x")
    shared_pyc.ok("cp", str(src), f"{linked}:/esc/in/y")
    assert sorted(os.listdir(host_dir / "in")) == [], "cp wrote through a link onto the host"
    for name in ("x", "y"):
        shared_pyc.ok("cp", f"{linked}:{host_dir}/in/{name}", str(tmp_path / name))
        assert (tmp_path / name).read_text() == "payload\n"


def test_cp_out_of_a_stopped_container_reads_the_containers_files(shared_pyc, linked,
                                                                 host_dir: Path,
                                                                 tmp_path: Path):
    os.chmod(tmp_path, 0o777)
    shared_pyc.ok("cp", f"{linked}:/target{host_dir}/secret", str(tmp_path / "via-root"))
    assert (tmp_path / "via-root").read_text() == "CTR\n"
    shared_pyc.ok("cp", f"{linked}:/esc/secret", str(tmp_path / "via-esc"))
    assert (tmp_path / "via-esc").read_text() == "CTR\n"
    # a path that is itself a link is copied as the link (docker cp without -L)
    shared_pyc.ok("cp", f"{linked}:/leak", str(tmp_path / "link"))
    assert os.readlink(tmp_path / "link") == f"{host_dir}/secret"
    # a path that exists on the host only is not found in the container
    res = shared_pyc("cp", f"{linked}:/esc/file", str(tmp_path / "nothing"))
    assert res.rc != 0 and not (tmp_path / "nothing").exists()
    assert "Traceback" not in res.err


@pytest.fixture(scope="module")
def changed(shared_pyc, fixture_refs, host_dir: Path):
    """A container whose image has /a -> host_dir and /l -> /, and which replaced /a by a
    directory holding `file` (as host_dir does) and /l by a link to host_dir."""
    shared_pyc.ok("pull", "-q", fixture_refs["busybox"])
    shared_pyc.ok("run", "--name", "symplant", fixture_refs["busybox"], "sh", "-c",
                  f"ln -s {host_dir} /a && ln -s / /l")
    shared_pyc.ok("commit", "symplant", "symbase:1")
    shared_pyc.ok("run", "--name", "symchanged", "symbase:1", "sh", "-c",
                  f"rm /a && mkdir /a && touch /a/file && rm /l && ln -s {host_dir} /l")
    yield "symchanged"
    shared_pyc("rm", "-f", "symplant", "symchanged")
    shared_pyc("rmi", "-f", "symbase:1", "symchanged:1")


def test_diff_does_not_look_through_links(shared_pyc, changed):
    lines = shared_pyc.ok("diff", changed).lines
    # /a/file is new: the image's /a was a link (to a host dir that has a `file`)
    assert "A /a/file" in lines, lines
    # /l changed from one link to another, even though the new one names a host directory
    assert "C /l" in lines, lines


def test_export_and_commit_keep_links_as_links(shared_pyc, changed, host_dir: Path,
                                               tmp_path: Path):
    os.chmod(tmp_path, 0o777)
    out = tmp_path / "fs.tar"
    shared_pyc.ok("export", "-o", str(out), changed)
    with tarfile.open(out) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert members["l"].issym() and members["l"].linkname == str(host_dir)
    assert members["a/file"].isfile() and members["a/file"].size == 0
    assert not any(name.startswith(("l/", "target/")) for name in members)
    shared_pyc.ok("commit", changed, "symchanged:1")
    res = shared_pyc.ok("run", "--rm", "symchanged:1", "sh", "-c",
                        "readlink /l; cat /a/file; ls /a")
    assert res.lines == [str(host_dir), "file"]


def first_member(pyc, src: str) -> tarfile.TarInfo:
    """The first entry of `pyc cp SRC -` (a tar stream on stdout)."""
    import io
    import subprocess

    res = subprocess.run(pyc.argv("cp", src, "-"), env=pyc.env, capture_output=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    with tarfile.open(fileobj=io.BytesIO(res.stdout), mode="r|") as tar:
        return next(iter(tar))


def test_cp_follow_link_resolves_inside_the_container(shared_pyc, linked, host_dir: Path,
                                                      tmp_path: Path) -> None:
    # without -L the link itself is copied; with -L what it points at, in the container
    shared_pyc.ok("cp", f"{linked}:/leak", str(tmp_path / "plain"))
    assert (tmp_path / "plain").is_symlink()
    shared_pyc.ok("cp", "-L", f"{linked}:/leak", str(tmp_path / "followed"))
    followed = tmp_path / "followed"
    assert not followed.is_symlink() and followed.read_text() == "CTR\n"
    # a host link given as SRC with -L: its target's content goes in, as a regular file
    (tmp_path / "target.txt").write_text("from the host\n")
    (tmp_path / "hostlink").symlink_to(tmp_path / "target.txt")
    shared_pyc.ok("cp", str(tmp_path / "hostlink"), f"{linked}:/as-link")
    assert first_member(shared_pyc, f"{linked}:/as-link").issym()
    shared_pyc.ok("cp", "-L", str(tmp_path / "hostlink"), f"{linked}:/copied")
    member = first_member(shared_pyc, f"{linked}:/copied")
    assert member.isfile() and member.size == len("from the host\n")


def test_cp_archive_keeps_the_source_owner(shared_pyc, fixture_refs, tmp_path: Path) -> None:
    src = tmp_path / "owned.txt"
    src.write_text("x\n")
    shared_pyc.ok("create", "--name", "cpowner", fixture_refs["busybox"], "true")
    try:
        shared_pyc.ok("cp", str(src), "cpowner:/as-root")
        shared_pyc.ok("cp", "-a", str(src), "cpowner:/as-source")
        assert first_member(shared_pyc, "cpowner:/as-root").uid == 0
        assert first_member(shared_pyc, "cpowner:/as-source").uid == os.getuid()
    finally:
        shared_pyc("rm", "-f", "cpowner")
