"""Concurrency probes: the same command many times at once on one store, then the user's
next commands (`images`, `ps -a`, `run`) and a check for leftovers (helpers.leftovers)."""

from __future__ import annotations

import json
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from helpers import registry as reg
from helpers.leftovers import leftovers
from helpers.runner import Pyc, Result


def _parallel(pyc: Pyc, n: int, *args: str, timeout: float = 120) -> list[Result]:
    """`pyc args...` n times at once (all started before any is waited for)."""
    procs = [subprocess.Popen(pyc.argv(*args), env=pyc.env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(n)]

    def collect(p: subprocess.Popen[str]) -> Result:
        out, err = p.communicate(timeout=timeout)
        return Result(p.returncode, out, err)

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(collect, procs))


def test_ten_parallel_pulls_into_an_empty_store(pyc: Pyc, fixture_refs: dict[str, str],
                                                registry: str) -> None:
    ref = fixture_refs["busybox"]
    results = _parallel(pyc, 10, "pull", "-q", ref)
    assert [r.rc for r in results] == [0] * 10, [r.err for r in results if r.rc]
    assert all(r.out == ref + "\n" for r in results)
    _, repo, tag = reg.split_ref(ref)
    found = reg.manifest(registry, repo, tag)
    assert found is not None
    images = pyc.ok("images", "--format", "{{.Repository}}:{{.Tag}}").lines
    assert images == [ref]
    obj = json.loads(pyc.ok("image", "inspect", ref).out)[0]
    assert obj["Digest"] == found[0]
    assert pyc.ok("run", "--rm", ref, "echo", "ok").out == "ok\n"
    assert leftovers(pyc) == []


CONFLICT = re.compile(r'^Error: Conflict\. The container name "/same" is already in use by '
                      r'container "([0-9a-f]{64})"\. You have to remove \(or rename\) that '
                      r"container to be able to reuse that name\.$")


def test_ten_parallel_runs_with_one_name_one_wins(pyc: Pyc, fixture_refs: dict[str, str]) -> None:
    bb = fixture_refs["busybox"]
    pyc.ok("pull", "-q", bb)
    results = _parallel(pyc, 10, "run", "-d", "--name", "same", bb, "sleep", "300")
    winners = [r for r in results if r.rc == 0]
    assert len(winners) == 1, [r.err for r in results]
    cid = winners[0].out.strip()
    for r in results:
        if r.rc != 0:
            assert r.rc == 125, r.err
            m = CONFLICT.match(r.err.strip())
            assert m and m.group(1) == cid, r.err
    assert pyc.ok("ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}}").lines == [
        f"{cid} same"]
    assert pyc.ok("inspect", "-f", "{{.State.Status}}", "same").out == "running\n"
    pyc.ok("rm", "-f", "same")
    assert pyc.ok("ps", "-aq").out == ""
    assert leftovers(pyc) == []


def test_parallel_builds_of_one_dockerfile(pyc: Pyc, fixture_refs: dict[str, str],
                                           tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "data.txt").write_text("from the context\n")
    (ctx / "Dockerfile").write_text(
        f"FROM {fixture_refs['busybox']}\nRUN echo built > /built\nCOPY data.txt /data.txt\n")
    pyc.ok("pull", "-q", fixture_refs["busybox"])
    results = _parallel(pyc, 3, "build", "-q", "-t", "par:latest", str(ctx), timeout=300)
    assert [r.rc for r in results] == [0] * 3, [r.err for r in results if r.rc]
    ids = {r.out.strip() for r in results}
    assert all(i.startswith("sha256:") for i in ids), ids
    tagged = pyc.ok("image", "inspect", "-f", "{{.Id}}", "par:latest").out.strip()
    assert tagged in ids
    assert pyc.ok("run", "--rm", "par", "cat", "/built", "/data.txt").out == \
        "built\nfrom the context\n"
    again = pyc.ok("build", "-t", "par:latest", str(ctx)).out
    assert again.count("--> Using cache") == 2, again
    assert pyc.ok("image", "inspect", "-f", "{{.Id}}", "par:latest").out.strip() in ids
    assert leftovers(pyc) == []
