"""Fixtures and helpers for real cgroups: the delegated subtree the harness gives the test user.

The harness (scripts/test) creates, for each v1 controller, a child `pyc-test` of its own
cgroup chowned to the test user and runs pytest inside it. cgroup v2 on this hybrid host has no
controllers, but freezing, killing and moving processes work there too: those tests run when
a v2 cgroup is delegated as well (`mkdir /sys/fs/cgroup/unified/pyc-test`, chown it, move
pytest in); PYC_TEST_CGROUP_V2=1 makes that a requirement instead of a skip.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pycontainer.linux import cgroups
from pycontainer.linux.cgroup_container import ContainerCgroup
from pycontainer.linux.cgroups import CgroupInfo, Limits

HOST_READY = os.environ.get("PYC_TEST_HOST_READY") == "1"
V2_REQUIRED = os.environ.get("PYC_TEST_CGROUP_V2") == "1"
NEEDED_V1 = {"memory", "pids", "cpu", "cpuacct", "cpuset", "freezer"}


def _missing(reason: str, required: bool) -> None:
    if required:
        pytest.fail(f"prerequisite missing: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def v1_info() -> CgroupInfo:
    info = cgroups.detect(hierarchy="v1")
    lacking = NEEDED_V1 - set(info.delegated)
    if info.version != "v1" or lacking:
        _missing(f"no delegated cgroup v1 subtree for {' '.join(sorted(lacking))} "
                 f"({info.reason})", HOST_READY)
    return info


@pytest.fixture(scope="session")
def v2_info() -> CgroupInfo:
    info = cgroups.detect(hierarchy="v2")
    if info.version != "v2" or not info.parent:
        _missing(f"no delegated cgroup v2 subtree ({info.reason})", V2_REQUIRED)
    return info


MakeCgroup = Callable[..., ContainerCgroup]


def _factory(info: CgroupInfo) -> Iterator[MakeCgroup]:
    made: list[ContainerCgroup] = []

    def make(limits: Limits | None = None) -> ContainerCgroup:
        cg = cgroups.create(info, "t" + secrets.token_hex(8), limits)
        made.append(cg)
        return cg

    yield make
    for cg in made:  # on every exit path, like the runtime must
        cg.remove()
        left = [d for d in cg.dirs.values() if os.path.exists(d)]
        assert not left, f"cgroup directories left behind: {left}"


@pytest.fixture
def v1_cgroup(v1_info: CgroupInfo) -> Iterator[MakeCgroup]:
    yield from _factory(v1_info)


@pytest.fixture
def v2_cgroup(v2_info: CgroupInfo) -> Iterator[MakeCgroup]:
    yield from _factory(v2_info)


class Child:
    """A Python process that waits for "go" on stdin before running `code`, so the test can
    put it into a cgroup first: the order the runtime follows (cgroup before exec)."""

    def __init__(self, code: str, tmp: Path) -> None:
        self.script = tmp / f"child-{secrets.token_hex(4)}.py"
        self.script.write_text("import sys\nsys.stdin.read(2)\n" + code)
        self.proc = subprocess.Popen([sys.executable, "-S", str(self.script)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("go")
        self.proc.stdin.close()

    def line(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().strip()

    def wait(self, timeout: float = 60) -> int:
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def child(tmp_path: Path) -> Iterator[Callable[[str], Child]]:
    started: list[Child] = []

    def start(code: str) -> Child:
        c = Child(code, tmp_path)
        started.append(c)
        return c

    yield start
    for c in started:
        c.kill()


COUNTER = """
import sys, time
path = sys.argv[0] + '.count'
n = 0
while True:
    n += 1
    with open(path + '.tmp', 'w') as f:
        f.write(str(n))
    import os; os.rename(path + '.tmp', path)
    time.sleep(0.01)
"""


def count(c: Child) -> int:
    path = f"{c.script}.count"
    for _ in range(200):
        if os.path.exists(path):
            return int(open(path).read())
        time.sleep(0.01)
    raise AssertionError("the counter never started")
