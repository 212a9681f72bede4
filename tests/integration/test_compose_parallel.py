"""`compose up` starts independent services at once (one thread each): every supervisor holds
only its own container's descriptors, none of its siblings' (pipes, sockets, files)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from tests.helpers.runner import Pyc

BB = "127.0.0.1:5000/fixtures/busybox:latest"
SERVICES = ["a", "b", "c", "d"]


def _compose(pyc: Pyc, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(pyc.argv("compose", *args), cwd=cwd, env=pyc.env, text=True,
                         capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    assert res.returncode == 0, f"compose {args}: {res.stdout}\n{res.stderr}"
    return res


def _supervisors(cids: dict[str, str]) -> dict[str, int]:
    """Each container's supervisor: the process whose argv names its run directory."""
    found: dict[str, int] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"pycontainer.supervisor" not in argv:
            continue
        for name, cid in cids.items():
            if cid.encode() in argv:
                found[name] = int(pid)
    return found


def _fds(pid: int) -> set[str]:
    out = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            out.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue
    return out


def test_independent_services_start_in_parallel_without_sharing_fds(
        pyc: Pyc, tmp_path: Path) -> None:
    body = "".join(f"""
  {s}:
    image: {BB}
    command: ["sleep", "3600"]
    init: true
""" for s in SERVICES)
    (tmp_path / "compose.yaml").write_text(f"name: par\nservices:{body}")
    pyc.ok("pull", "-q", BB)
    progress = _compose(pyc, tmp_path, "up", "-d").stderr
    try:
        ids = _compose(pyc, tmp_path, "ps", "-q").stdout.split()
        assert len(ids) == len(SERVICES)
        cids = {cid: cid for cid in ids}
        sups = _supervisors(cids)
        assert set(sups) == set(ids), sups
        fds = {cid: _fds(pid) for cid, pid in sups.items()}
        for cid, links in fds.items():
            others = set().union(*(fds[o] for o in fds if o != cid))
            # anonymous pipes and sockets are named by inode: a shared one is a leak
            shared = {x for x in links & others if x.startswith(("pipe:", "socket:"))}
            assert not shared, f"{cid[:12]} shares {shared} with a sibling's supervisor"
            foreign = {x for x in links for o in ids if o != cid and o in x}
            assert not foreign, f"{cid[:12]}'s supervisor holds {foreign}"
        # in parallel: every container's start began before the first one's had ended
        # (serialised, each "Starting" would follow the previous container's "Started")
        lines = progress.splitlines()
        starting = [n for n, line in enumerate(lines) if line.endswith(" Starting")]
        started = [n for n, line in enumerate(lines) if line.endswith(" Started")]
        assert len(starting) == len(started) == len(SERVICES), progress
        assert max(starting) < min(started), progress
    finally:
        _compose(pyc, tmp_path, "down", "-t", "0")



def test_start_interval_probes_during_the_start_period(pyc: Pyc, tmp_path: Path) -> None:
    """Docker >= 25: within `start_period` a starting container is probed every
    `start_interval`; only `interval` (here a minute) would leave `--wait` waiting."""
    (tmp_path / "compose.yaml").write_text(f"""name: startint
services:
  db:
    image: {BB}
    command: ["sleep", "3600"]
    init: true
    healthcheck:
      test: ["CMD", "true"]
      interval: 60s
      start_period: 60s
      start_interval: 300ms
""")
    pyc.ok("pull", "-q", BB)
    began = time.monotonic()
    _compose(pyc, tmp_path, "up", "-d", "--wait", "--wait-timeout", "30")
    try:
        assert time.monotonic() - began < 20
        cid = _compose(pyc, tmp_path, "ps", "-q").stdout.strip()
        res = pyc.ok("inspect", "-f",
                     "{{.State.Health.Status}} {{.Config.Healthcheck.StartInterval}}", cid)
        assert res.out.split() == ["healthy", "300000000"]
    finally:
        _compose(pyc, tmp_path, "down", "-t", "0")
