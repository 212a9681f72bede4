"""secure_join never hands back a path the kernel would resolve out of the root: a chain of
links longer than it follows is an error, not a link left in the result (issue 10, §4)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from pycontainer.runtime.builtin import mounts


def test_a_link_chain_too_long_to_follow_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    root.mkdir()
    os.symlink(str(tmp_path / "host"), root / "l41")  # what the kernel would reach
    for i in range(41):
        os.symlink(f"l{i + 1}", root / f"l{i}")
    with pytest.raises(OSError) as caught:
        mounts.secure_join(str(root), "/l0")
    assert caught.value.errno == errno.ELOOP


def test_a_chain_within_the_limit_resolves_inside(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    (root / "end").mkdir(parents=True)
    os.symlink("/end", root / "l10")
    for i in range(10):
        os.symlink(f"l{i + 1}", root / f"l{i}")
    assert mounts.secure_join(str(root), "/l0/x") == f"{root}/end/x"
