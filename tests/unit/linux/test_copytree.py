"""linux.copytree: a volume's copy-up keeps modes, times, symlinks and content."""

from __future__ import annotations

import os
import stat

from pycontainer.linux.copytree import copy_tree


def test_copy_tree_keeps_modes_times_links_and_content(tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "f").write_bytes(b"x" * 100_000)
    os.chmod(src / "sub" / "f", 0o640)
    os.symlink("sub/f", src / "link")
    os.mkfifo(src / "fifo")
    os.utime(src / "sub" / "f", ns=(1_000_000_000, 2_000_000_000))
    os.chmod(src / "sub", 0o2750)
    os.chmod(src, 0o1777)
    dst = tmp_path / "dst"
    dst.mkdir()
    copy_tree(str(src), str(dst))
    assert (dst / "sub" / "f").read_bytes() == b"x" * 100_000
    assert stat.S_IMODE(os.stat(dst / "sub" / "f").st_mode) == 0o640
    assert os.stat(dst / "sub" / "f").st_mtime_ns == 2_000_000_000
    assert os.readlink(dst / "link") == "sub/f"
    assert stat.S_ISFIFO(os.lstat(dst / "fifo").st_mode)
    assert stat.S_IMODE(os.stat(dst / "sub").st_mode) == 0o2750
    assert stat.S_IMODE(os.stat(dst).st_mode) == 0o1777  # the volume takes the target's mode
