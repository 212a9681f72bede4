"""The archive endpoint's pure rules: Go's FileMode bits, container paths that never climb
out of the root, and the tar checks made before anything is extracted."""

from __future__ import annotations

import io
import stat
import tarfile

import pytest

from pycontainer.errors import UnsafeArchive, UsageError
from pycontainer.ops import archive


def test_go_mode_type_and_special_bits() -> None:
    assert archive.go_mode(stat.S_IFDIR | 0o755) == (1 << 31) | 0o755
    assert archive.go_mode(stat.S_IFLNK | 0o777) == (1 << 27) | 0o777
    assert archive.go_mode(stat.S_IFREG | 0o644) == 0o644
    assert archive.go_mode(stat.S_IFCHR | 0o666) == (1 << 26) | (1 << 21) | 0o666
    assert archive.go_mode(stat.S_IFREG | stat.S_ISUID | 0o755) == (1 << 23) | 0o755
    assert archive.go_mode(stat.S_IFDIR | stat.S_ISVTX | 0o777) == (1 << 31) | (1 << 20) | 0o777


@pytest.mark.parametrize(("given", "want"), [
    ("/etc/passwd", "/etc/passwd"), ("etc//x/", "/etc/x"), ("/a/../b", "/b"),
    ("/srv/d/.", "/srv/d/."), ("/", "/"), ("/a/b/../..", "/"),
])
def test_container_path_normalises(given: str, want: str) -> None:
    assert archive.container_path(given) == want


@pytest.mark.parametrize("given", ["/..", "/../etc/passwd", "a/../../b", "/x/../../../y"])
def test_container_path_refuses_climbing_out(given: str) -> None:
    with pytest.raises(UnsafeArchive):
        archive.container_path(given)


def _tar(*names: str, link: str = "") -> io.BytesIO:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name in names:
            info = tarfile.TarInfo(name)
            if link:
                info.type, info.linkname = tarfile.LNKTYPE, link
            tar.addfile(info, io.BytesIO(b""))
    buf.seek(0)
    return buf


def test_check_tar_accepts_members_below_the_target() -> None:
    spool = _tar("a", "./b/c", "d/../e")
    archive.check_tar(spool)
    assert spool.tell() == 0  # rewound for the extraction


@pytest.mark.parametrize("spool", [_tar("ok", "../x"), _tar("/abs"), _tar("a/../../x"),
                                   _tar("h", link="../../etc/passwd")])
def test_check_tar_refuses_escaping_members(spool: io.BytesIO) -> None:
    with pytest.raises(UnsafeArchive):
        archive.check_tar(spool)


def test_check_tar_refuses_what_is_not_a_tar() -> None:
    with pytest.raises(UsageError, match="not a tar"):
        archive.check_tar(io.BytesIO(b"plain text, not a tar" * 50))
