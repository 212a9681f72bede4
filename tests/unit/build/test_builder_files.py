"""COPY/ADD planning and hashing (build.copier), and the upper dir -> layer tar diff
(storage.diff), on real files in a temp dir. Ownership changes need the user namespace and
are covered by the integration tests; here everything stays the test user's."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from pycontainer.build import copier
from pycontainer.build.context import DockerIgnore
from pycontainer.build.copier import FsOp, HashCache
from pycontainer.errors import BuildError
from pycontainer.storage import diff


def tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.mark.parametrize(("pattern", "expected"), [
    ("a.txt", ["a.txt"]),
    ("*.txt", ["a.txt", "b.txt"]),
    ("dir", ["dir"]),
    ("dir/*.py", ["dir/x.py"]),
    ("./dir/../a.txt", ["a.txt"]),
    ("*.log", []),  # ignored
    ("missing", []),
], ids=["plain", "glob", "dir", "glob-in-dir", "cleaned", "ignored", "missing"])
def test_match_sources(tmp_path: Path, pattern: str, expected: list[str]) -> None:
    root = tree(tmp_path, {"a.txt": "", "b.txt": "", "c.log": "", "dir/x.py": "",
                           "dir/y.md": ""})
    assert copier.match_sources(str(root), pattern, DockerIgnore("*.log\n")) == expected


def test_walk_source_honours_exceptions_inside_ignored_dirs(tmp_path: Path) -> None:
    root = tree(tmp_path, {"d/keep.txt": "", "d/drop.txt": "", "e/x": ""})
    ignore = DockerIgnore("d\n!d/keep.txt\n")
    assert list(copier.walk_source(str(root), ".", ignore)) == [".", "d/keep.txt", "e", "e/x"]


def test_content_hash_follows_bytes_and_modes_not_times(tmp_path: Path) -> None:
    root = tree(tmp_path / "ctx", {"src/a": "1", "src/b": "2"})
    op = FsOp("copy", "/app/", ["src"], str(root))
    cache = HashCache(tmp_path / "files.json")
    first = copier.content_hash(op, cache)
    os.utime(root / "src" / "a", (1, 1))
    assert copier.content_hash(op, cache) == first
    (root / "src" / "a").write_text("changed")
    changed = copier.content_hash(op, cache)
    assert changed != first
    os.chmod(root / "src" / "b", 0o600)
    assert copier.content_hash(op, cache) != changed


def test_hash_cache_reads_a_file_only_when_its_metadata_changed(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_text("abc")
    cache = HashCache(tmp_path / "files.json")
    digest = cache.file_hash(str(path), path.stat())
    cache.save()
    reloaded = HashCache(tmp_path / "files.json")
    assert reloaded.file_hash(str(path), path.stat()) == digest
    assert not reloaded.dirty  # answered from the remembered metadata
    path.write_text("abcd")
    assert reloaded.file_hash(str(path), path.stat()) != digest and reloaded.dirty


def test_apply_copies_into_a_root_like_docker(tmp_path: Path) -> None:
    ctx = tree(tmp_path / "ctx", {"dir/a": "A", "dir/sub/b": "B", "one": "1", "x.log": "l"})
    root = tmp_path / "root"
    (root / "usr" / "bin").mkdir(parents=True)
    (root / "bin").symlink_to("/usr/bin")  # resolved inside the root, not on the host
    uid, gid = os.getuid(), os.getgid()
    for op in (FsOp("copy", "/app/", ["dir"], str(ctx), chown=f"{uid}:{gid}"),
               FsOp("copy", "/bin/tool", ["one"], str(ctx), chown=f"{uid}:{gid}",
                    chmod="0755"),
               FsOp("copy", "/logs/", ["*.log", "one"], str(ctx), chown=f"{uid}:{gid}")):
        copier.apply(op, str(root))
    assert (root / "app" / "a").read_text() == "A"
    assert (root / "app" / "sub" / "b").read_text() == "B"
    assert (root / "usr" / "bin" / "tool").stat().st_mode & 0o777 == 0o755
    assert sorted(os.listdir(root / "logs")) == ["one", "x.log"]


def test_several_sources_need_a_directory_destination(tmp_path: Path) -> None:
    ctx = tree(tmp_path / "ctx", {"a": "", "b": ""})
    op = FsOp("copy", "/dest", ["a", "b"], str(ctx), chown=f"{os.getuid()}:{os.getgid()}")
    with pytest.raises(BuildError, match="must be a directory and end with a /"):
        copier.apply(op, str(tmp_path))


def _tar(members: list[tuple[str, str]]) -> tarfile.TarFile:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, link in members:
            info = tarfile.TarInfo(name)
            if link:
                info.type, info.linkname = tarfile.SYMTYPE, link
            t.addfile(info, io.BytesIO(b""))
    buf.seek(0)
    return tarfile.open(fileobj=buf)


@pytest.mark.parametrize("members", [
    [("../escape", "")],
    [("link", "/"), ("link/etc-file", "")],
    [("up", ".."), ("up/x", "")],
], ids=["dotdot", "through-absolute-symlink", "through-relative-symlink"])
def test_extract_tar_refuses_to_leave_the_destination(tmp_path: Path,
                                                      members: list[tuple[str, str]]) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(BuildError, match="would leave|points outside"):
        copier.extract_tar(_tar(members), str(dest))


def test_url_names() -> None:
    assert copier.url_name("https://example.com/files/app.tar.gz?x=1") == "app.tar.gz"
    assert copier.url_name("https://example.com/") == "download"


# -- storage.diff ---------------------------------------------------------------------------


def layer_of(upper: Path, epoch: int | None = None) -> list[tarfile.TarInfo]:
    buf = io.BytesIO()
    diff.write_tar(str(upper), buf, epoch)
    buf.seek(0)
    with tarfile.open(fileobj=buf) as t:
        return t.getmembers()


def test_diff_is_sorted_parents_first_with_opaque_markers(tmp_path: Path) -> None:
    upper = tree(tmp_path / "upper", {"b/z": "z", "a/y": "y", "a/x": "x"})
    os.setxattr(upper / "b", "user.overlay.opaque", b"y")
    os.link(upper / "a" / "x", upper / "a" / "hard")
    (upper / "a" / "link").symlink_to("x")
    members = layer_of(upper)
    assert [m.name for m in members] == ["a", "a/hard", "a/link", "a/x", "a/y", "b",
                                         "b/.wh..wh..opq", "b/z"]
    hard, x = members[1], members[3]
    assert hard.isfile() and x.islnk() and x.linkname == "a/hard"
    assert members[2].issym() and members[2].linkname == "x"
    assert all(m.uname == "" and m.gname == "" for m in members)
    assert all("SCHILY.xattr.user.overlay.opaque" not in m.pax_headers for m in members)


def test_diff_clamps_times_to_source_date_epoch(tmp_path: Path) -> None:
    upper = tree(tmp_path / "upper", {"new": "n", "old": "o"})
    os.utime(upper / "old", (100, 100))
    times = {m.name: m.mtime for m in layer_of(upper, epoch=1000)}
    assert times == {"new": 1000, "old": 100}


def test_remove_stubs_drops_empty_mount_points_absent_below(tmp_path: Path) -> None:
    upper = tree(tmp_path / "upper", {"real/file": "data"})
    (upper / "etc").mkdir()
    (upper / "etc" / "hosts").write_text("")
    (upper / "cache" / "deep").mkdir(parents=True)
    (upper / "proc").mkdir()
    lower = tree(tmp_path / "lower", {"proc/.keep": ""})
    diff.remove_stubs(str(upper), ["/etc/hosts", "/cache/deep", "/proc", "/real/file"],
                      [str(lower)])
    assert sorted(os.listdir(upper)) == ["proc", "real"]  # /proc is in the lower: kept
