"""Every storage driver runs containers: native overlay, fuse-overlayfs, vfs (forced with
PYC_STORAGE_DRIVER, as `[storage] driver` in the config would)."""

from __future__ import annotations

import os

import pytest

DRIVERS = ["overlay", "fuse-overlayfs", "vfs"]


def _processes_mentioning(needle: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if needle.encode() in f.read():
                        found.append(int(entry))
            except OSError:
                continue
    return found


@pytest.mark.parametrize("driver", DRIVERS)
def test_driver_runs_and_cleans_up(pyc, fixture_refs, driver):
    env = dict(pyc.env, PYC_STORAGE_DRIVER=driver)
    bb = fixture_refs["busybox"]
    pyc.ok("pull", "-q", bb, env=env)
    res = pyc.ok("run", "--rm", bb, "sh", "-c",
                 "echo data > /etc/x; cat /etc/x; grep ' / ' /proc/mounts | cut -d' ' -f3",
                 env=env)
    fstype = {"overlay": "overlay", "fuse-overlayfs": "fuse.fuse-overlayfs"}.get(driver)
    assert res.lines[0] == "data"
    if fstype:
        assert res.lines[1] == fstype
    cid = pyc.ok("run", "-d", bb, "sleep", "60", env=env).out.strip()
    assert pyc.ok("exec", cid, "cat", "/etc/passwd", env=env).out
    pyc.ok("rm", "-f", cid, env=env)
    assert not _processes_mentioning(cid)
    with open("/proc/self/mountinfo") as f:
        assert cid not in f.read()
    assert not os.path.exists(os.path.join(str(pyc.root), "containers", cid))


@pytest.mark.parametrize("driver", ["overlay", "fuse-overlayfs"])
def test_stopped_container_files(pyc, fixture_refs, driver, tmp_path):
    env = dict(pyc.env, PYC_STORAGE_DRIVER=driver)
    bb = fixture_refs["busybox"]
    pyc.ok("pull", "-q", bb, env=env)
    pyc.ok("run", "--name", "st", bb, "sh", "-c", "echo hi > /hello", env=env)
    assert "A /hello" in pyc.ok("diff", "st", env=env).lines
    os.chmod(tmp_path, 0o777)
    pyc.ok("cp", "st:/hello", str(tmp_path / "hello"), env=env)
    assert (tmp_path / "hello").read_text() == "hi\n"
    assert not _processes_mentioning("fuse-overlayfs -o lowerdir=" + str(pyc.root))
    pyc.ok("rm", "st", env=env)
