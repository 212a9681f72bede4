"""Fixtures for the rootful tests: pyc as real root, which can touch the machine's mounts.

These tests run only as root inside a private mount namespace that scripts/test makes for
them (`unshare -m --propagation private`, then `mount --make-rshared /` inside, as systemd
leaves a host), so a runtime bug can only ever unmount things in that namespace. Anywhere
else every test here fails at once, before pyc runs.

    probes    (session) mount points that must survive every command: tmpfs probes under
                        /dev, /tmp, /mnt and /sys, and the namespace's /dev/pts, /dev/shm
                        and cgroup mounts
    rpyc      (function) a pyc as root with its own --root and --runroot
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.runner import Pyc

# /sys has no writable directories: a probe goes on an empty, unused directory of sysfs
SYS_CANDIDATES = ("/sys/kernel/config", "/sys/kernel/tracing", "/sys/fs/pstore",
                  "/sys/kernel/debug", "/sys/fs/bpf", "/sys/firmware/efi/efivars")


def mount_points() -> set[str]:
    with open("/proc/self/mountinfo") as f:
        return {line.split()[4] for line in f}


def _root_is_shared() -> bool:
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[4] == "/":
                return any(opt.startswith("shared:") for opt in fields[6:fields.index("-")])
    return False


@pytest.fixture(scope="session", autouse=True)
def _private_namespace() -> None:
    if os.getuid() != 0:
        pytest.fail("rootful tests run as root (scripts/test runs them)", pytrace=False)
    # the harness names the mount namespace it started in (pid 1's may not be visible)
    outer = os.environ.get("PYC_TEST_OUTER_MNTNS", "")
    if not outer or os.stat("/proc/self/ns/mnt").st_ino == int(outer):
        pytest.fail("rootful tests run only inside a private mount namespace of their own "
                    "(scripts/test makes it)", pytrace=False)
    if not _root_is_shared():
        pytest.fail("/ is not shared in the test namespace: the probes would prove nothing",
                    pytrace=False)


def _mount_tmpfs(path: str) -> bool:
    os.makedirs(path, exist_ok=True)
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "pyc-probe", path],
                         capture_output=True)
    return res.returncode == 0


@pytest.fixture(scope="session")
def probes() -> list[str]:
    made = ["/dev/pyc-probe", tempfile.mkdtemp(prefix="pyc-probe-", dir="/tmp"),
            "/mnt/pyc-probe"]
    for path in made:
        assert _mount_tmpfs(path), f"cannot mount a probe on {path}"
    present = mount_points()
    for candidate in SYS_CANDIDATES:
        if candidate not in present and os.path.isdir(candidate) and _mount_tmpfs(candidate):
            made.append(candidate)
            break
    else:
        pytest.fail("no empty sysfs directory to mount a probe on", pytrace=False)
    wanted = ["/dev/pts", "/dev/shm", *sorted(p for p in present
                                              if p.startswith("/sys/fs/cgroup"))]
    return made + [p for p in wanted if p in present]


@pytest.fixture
def rpyc(tmp_path: Path) -> Iterator[Pyc]:
    runner = Pyc.create(tmp_path / "pyc")
    yield runner
    runner.cleanup()
