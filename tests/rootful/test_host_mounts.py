"""Rootful pyc never unmounts the host's mounts (issue 10, section 1).

On a host whose / is shared (every systemd machine) a mount namespace pyc makes as root is a
peer of the host's until pyc changes that, and an unmount in a peer propagates back: once a
`pyc run` took the host's /dev/pts, /dev/shm and cgroup mounts with it (slirp4netns's sandbox
made only / private, then detached the old root). Each command that makes a mount namespace
runs here, and every probe mount must still be there after it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.runner import Pyc

from .conftest import mount_points

REGISTRY = "127.0.0.1:5000"
BUSYBOX = f"{REGISTRY}/fixtures/busybox:latest"


def assert_probes_mounted(probes: list[str], after: str) -> None:
    lost = [p for p in probes if p not in mount_points()]
    assert not lost, f"{after} unmounted {lost} in the test's mount namespace"


@pytest.fixture
def bb(rpyc: Pyc, probes: list[str]) -> str:
    rpyc.ok("pull", "-q", BUSYBOX)
    assert_probes_mounted(probes, "pull")
    return BUSYBOX


@pytest.mark.parametrize("runtime", ["builtin", "runc"])
def test_run_keeps_host_mounts(rpyc: Pyc, bb: str, probes: list[str], runtime: str) -> None:
    res = rpyc.ok("run", "--rm", "--runtime", runtime, bb, "sh", "-c", "echo hello")
    assert res.out == "hello\n"
    assert_probes_mounted(probes, f"run --runtime {runtime}")
    rpyc.ok("run", "--rm", "--network", "none", bb, "true")
    assert_probes_mounted(probes, "run --network none")


def test_exec_cp_diff_keep_host_mounts(rpyc: Pyc, bb: str, probes: list[str],
                                       tmp_path: Path) -> None:
    cid = rpyc.ok("run", "-d", bb, "sleep", "600").out.strip()
    assert rpyc.ok("exec", cid, "cat", "/etc/hostname").out.strip() == cid[:12]
    assert_probes_mounted(probes, "exec")
    src = tmp_path / "in.txt"
    src.write_text("into the container\n")
    rpyc.ok("cp", str(src), f"{cid}:/tmp/in.txt")
    rpyc.ok("cp", f"{cid}:/tmp/in.txt", str(tmp_path / "out.txt"))
    assert (tmp_path / "out.txt").read_text() == "into the container\n"
    assert_probes_mounted(probes, "cp into and out of a running container")
    assert "A /tmp/in.txt" in rpyc.ok("diff", cid).out
    assert_probes_mounted(probes, "diff")
    rpyc.ok("rm", "-f", cid)
    stopped = rpyc.ok("create", bb, "true").out.strip()
    rpyc.ok("cp", str(src), f"{stopped}:/in.txt")
    assert "A /in.txt" in rpyc.ok("diff", stopped).out
    rpyc.ok("export", "-o", str(tmp_path / "fs.tar"), stopped)
    assert_probes_mounted(probes, "cp, diff and export of a stopped container")
    rpyc.ok("rm", stopped)
    assert_probes_mounted(probes, "rm")


def test_build_keeps_host_mounts(rpyc: Pyc, bb: str, probes: list[str],
                                 tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "file").write_text("copied\n")
    (ctx / "Dockerfile").write_text(f"FROM {bb}\nCOPY file /file\nRUN cat /file > /ran\n")
    rpyc.ok("build", "-q", "-t", "probe-build", str(ctx), timeout=300)
    assert_probes_mounted(probes, "build (COPY, RUN)")
    assert rpyc.ok("run", "--rm", "probe-build", "cat", "/ran").out == "copied\n"


def test_user_network_keeps_host_mounts(rpyc: Pyc, bb: str, probes: list[str]) -> None:
    rpyc.ok("network", "create", "probenet")
    assert_probes_mounted(probes, "network create")
    rpyc.ok("run", "-d", "--name", "server", "--network", "probenet", bb, "sleep", "600")
    res = rpyc.ok("run", "--rm", "--network", "probenet", bb, "ping", "-c", "1", "-W", "5",
                  "server")
    assert "1 packets received" in res.out
    assert_probes_mounted(probes, "run --network probenet")
    rpyc.ok("rm", "-f", "server")
    rpyc.ok("network", "rm", "probenet")
    assert_probes_mounted(probes, "network rm")
