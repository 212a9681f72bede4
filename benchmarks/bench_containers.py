#!/usr/bin/env python3
"""Container lifecycle benchmarks: pyc vs rootless `podman --runtime runc`.

    runuser -u pyctest -- env HOME=/home/pyctest /work/venv/bin/python \\
        benchmarks/bench_containers.py [-n 10] [case ...]

Cases (bench.py's framework: fresh storage per case and engine, medians):

    run-rm          run --rm busybox true            create, start, wait, remove
    run-d           run -d busybox sleep 300         (stop and rm untimed)
    run-d-stop      run -d busybox sleep 300; stop   (timed together; PID 1 ignores TERM,
                                                     so stop uses -t 0 on both engines)
    run-d-stop-rm   run -d ...; stop -t 0; rm        (timed together)
    exec            exec CTR true                    in a running container
    ps-a-50         ps -a with 50 containers
    supervisor-rss  resident memory (kB) of the per-container supervisor: pyc's vs conmon
    idle-rss-p      resident memory (kB) of everything an idle `run -d -p` container adds
                    outside itself: pyc's supervisor and slirp4netns; podman's conmon,
                    slirp4netns and rootlessport (podman's shared catatonit pause process
                    is left out: it serves every container)

Images are pulled in setup: no case times a pull.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench  # noqa: E402 - the framework lives beside this file
from bench import BUSYBOX, Engine, case  # noqa: E402


def running_container(engine: Engine) -> None:
    engine.run("pull", BUSYBOX)
    engine.run("run", "-d", "--name", "bench-ctr", BUSYBOX, "sleep", "3000")


def fifty_containers(engine: Engine) -> None:
    engine.run("pull", BUSYBOX)
    for i in range(50):
        engine.run("create", "--name", f"c{i}", BUSYBOX, "true")


@case("run-rm", setup=bench.pull_busybox)
def run_rm(engine: Engine) -> list[str]:
    """run --rm busybox true: create, start, wait for exit, remove"""
    return ["run", "--rm", BUSYBOX, "true"]


@case("exec", setup=running_container)
def exec_true(engine: Engine) -> list[str]:
    """exec CTR true in a running container"""
    return ["exec", "bench-ctr", "true"]


@case("ps-a-50", setup=fifty_containers)
def ps_all(engine: Engine) -> list[str]:
    """ps -a with 50 containers"""
    return ["ps", "-a"]


# --- compound cases: measured here, reported in bench.py's table --------------------------

def _run_d_rounds(engine: Engine, n: int, warmup: int, timed: int) -> bench.Timing:
    """Rounds of run -d, stop -t 0, rm; the first `timed` of these three are timed."""
    t = bench.Timing(engine.name)
    try:
        engine.run("pull", BUSYBOX)
        for i in range(warmup + n):
            start = time.perf_counter()
            cid = engine.run("run", "-d", BUSYBOX, "sleep", "300").stdout.strip()
            elapsed = time.perf_counter() - start
            engine.run("stop", "-t", "0", cid)
            elapsed = time.perf_counter() - start if timed >= 2 else elapsed
            engine.run("rm", cid)
            elapsed = time.perf_counter() - start if timed >= 3 else elapsed
            if i >= warmup:
                t.times.append(elapsed)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        t.error = str(exc)
    return t


def run_d(engine: Engine, n: int, warmup: int) -> bench.Timing:
    return _run_d_rounds(engine, n, warmup, 1)


def run_d_stop(engine: Engine, n: int, warmup: int) -> bench.Timing:
    return _run_d_rounds(engine, n, warmup, 2)


def run_d_stop_rm(engine: Engine, n: int, warmup: int) -> bench.Timing:
    return _run_d_rounds(engine, n, warmup, 3)


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _supervisor_pid(engine: Engine, cid: str) -> int:
    if engine.name == "podman":
        return int(engine.run("inspect", "-f", "{{.State.ConmonPid}}", cid).stdout)
    run_dir = Path(engine.base[engine.base.index("--runroot") + 1]) / "containers" / cid
    return int(json.loads((run_dir / "pid.json").read_text())["supervisor"])


def supervisor_rss(engine: Engine, n: int, warmup: int) -> bench.Timing:
    """Median RSS per container in KiB (reported in the ms column's place)."""
    t = bench.Timing(engine.name)
    try:
        engine.run("pull", BUSYBOX)
        ids = [engine.run("run", "-d", BUSYBOX, "sleep", "300").stdout.strip()
               for _ in range(max(n, 1))]
        time.sleep(0.5)
        for cid in ids:
            t.times.append(_rss_kib(_supervisor_pid(engine, cid)) / 1000.0)  # shown as "ms"
        engine.run("rm", "-f", *ids)
    except (RuntimeError, OSError, subprocess.TimeoutExpired, ValueError) as exc:
        t.error = str(exc)
    return t


def _host_pids(uid: int) -> set[int]:
    """This user's processes in our PID namespace (the containers' own are in theirs)."""
    mine = os.readlink("/proc/self/ns/pid")
    pids = set()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            if os.stat(f"/proc/{name}").st_uid == uid and \
                    os.readlink(f"/proc/{name}/ns/pid") == mine:
                pids.add(int(name))
        except OSError:
            continue
    return pids


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def idle_rss_p(engine: Engine, n: int, warmup: int) -> bench.Timing:
    """Per container with a published port: the RSS of the helper processes it added."""
    t = bench.Timing(engine.name)
    uid = os.getuid()
    try:
        engine.run("pull", BUSYBOX)
        engine.run("run", "--rm", BUSYBOX, "true")  # podman's pause process exists now
        for _ in range(max(n, 1)):
            before = _host_pids(uid)
            cid = engine.run("run", "-d", "-p", f"{free_port()}:80", BUSYBOX,
                             "sleep", "300").stdout.strip()
            time.sleep(0.5)
            added = [p for p in _host_pids(uid) - before if _comm(p) != "catatonit"]
            t.times.append(sum(_rss_kib(p) for p in added) / 1000.0)  # shown as "ms"
            engine.run("rm", "-f", cid)
    except (RuntimeError, OSError, subprocess.TimeoutExpired, ValueError) as exc:
        t.error = str(exc)
    return t


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


COMPOUND = {"run-d": run_d, "run-d-stop": run_d_stop, "run-d-stop-rm": run_d_stop_rm,
            "supervisor-rss": supervisor_rss,
            "idle-rss-p": idle_rss_p}


def main(argv: list[str]) -> int:
    import argparse

    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("cases", nargs="*")
    ap.add_argument("-n", type=int, default=5)
    ap.add_argument("--pyc", default=None)
    ap.add_argument("--podman", default="podman")
    known, _ = ap.parse_known_args(argv)
    simple = [c for c in known.cases if c in bench.CASES]
    compound = [c for c in known.cases if c in COMPOUND] or (
        [] if known.cases else list(COMPOUND))
    code = 0
    if simple or not known.cases:
        code = bench.main([a for a in argv if a not in COMPOUND])
    pyc_cmd = known.pyc.split() if known.pyc else bench.default_pyc()
    rows = []
    for name in compound:
        timings = []
        for make in (lambda: bench.make_pyc(pyc_cmd), lambda: bench.make_podman(known.podman)):
            engine = make()
            try:
                timings.append(COMPOUND[name](engine, known.n, 1))
            finally:
                bench.remove_state(engine)
        rows.append((name, timings[0], timings[1]))
    if rows:
        print()
        print("(supervisor-rss and idle-rss-p are resident kB, not ms)")
        print(bench.table(rows))
        code = code or int(any(p.error or q.error for _, p, q in rows))
    return code


if __name__ == "__main__":
    bench.CASES.pop("version", None)
    raise SystemExit(main(sys.argv[1:]))
