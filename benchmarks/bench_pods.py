#!/usr/bin/env python3
"""Pod benchmarks: pyc vs rootless `podman --runtime runc` (both on slirp4netns).

    runuser -u pyctest -- env HOME=/home/pyctest $VENV/bin/python \\
        benchmarks/bench_pods.py [-n 5]

Cases (bench.py's engines: fresh storage per engine, medians):

    pod-first       `pod create P` + `pod start P` + `run -d --pod P busybox sleep` (the pod's
                    first container): the sum of the three commands' wall times; the pod
                    is removed after each round, untimed
    infra-rss       the RSS of the pod's infra process (pyc: catatonit -P, found by `pod
                    inspect`'s InfraPid; podman: the infra container's catatonit, and its
                    conmon shown beside it), after `pod create` + `pod start`; also its
                    private memory (what it costs beyond the shared binary pages)

The busybox image is pulled first; nothing times a pull.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench  # noqa: E402 - the framework lives beside this file
from bench import BUSYBOX, Engine  # noqa: E402


def _round(engine: Engine, name: str) -> float:
    start = time.perf_counter()
    engine.run("pod", "create", "--name", name)
    engine.run("pod", "start", name)
    engine.run("run", "-d", "--pod", name, BUSYBOX, "sleep", "300")
    elapsed = time.perf_counter() - start
    engine.run("pod", "rm", "-f", "-t", "0", name)
    return elapsed


def pod_first(engine: Engine, n: int, warmup: int) -> bench.Timing:
    t = bench.Timing(engine.name)
    try:
        engine.run("pull", BUSYBOX)
        for i in range(warmup + n):
            elapsed = _round(engine, f"bp{i}")
            if i >= warmup:
                t.times.append(elapsed)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        t.error = str(exc)
    return t


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def private_kib(pid: int) -> int:
    """What the process costs beyond the pages it shares (the binary's text, the libraries):
    Private_Clean + Private_Dirty of smaps_rollup."""
    total = 0
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                total += int(line.split()[1])
    return total


def infra_pids(engine: Engine, pod: str) -> tuple[int, int]:
    """(infra process, its monitor or 0)."""
    if engine.name == "pyc":
        data = json.loads(engine.run("pod", "inspect", pod).stdout)
        return int(data[0]["InfraPid"]), 0
    cid = engine.run("pod", "inspect", "--format", "{{.InfraContainerID}}", pod).stdout.strip()
    out = engine.run("inspect", "--format", "{{.State.Pid}} {{.State.ConmonPid}}", cid).stdout
    pid, conmon = out.split()
    return int(pid), int(conmon)


def infra_rss(engine: Engine) -> tuple[int, int, int] | str:
    try:
        engine.run("pod", "create", "--name", "rss")
        engine.run("pod", "start", "rss")
        time.sleep(0.5)
        pid, monitor = infra_pids(engine, "rss")
        got = rss_kib(pid), rss_kib(monitor) if monitor else 0, private_kib(pid)
        engine.run("pod", "rm", "-f", "-t", "0", "rss")
        return got
    except (RuntimeError, OSError, subprocess.TimeoutExpired, ValueError, KeyError) as exc:
        return str(exc)


def main(argv: list[str]) -> int:
    n = int(argv[argv.index("-n") + 1]) if "-n" in argv else 5
    pyc_cmd = bench.default_pyc()
    engines = [bench.make_pyc(pyc_cmd), bench.make_podman("podman")]
    try:
        timings = [pod_first(e, n, 1) for e in engines]
        rss = [infra_rss(e) for e in engines]
    finally:
        for e in engines:
            bench.remove_state(e)
    print(bench.table([("pod-first", timings[0], timings[1])]))
    print()
    code = 0
    for e, r in zip(engines, rss, strict=True):
        if isinstance(r, str):
            print(f"infra-rss  {e.name}: error: {r}")
            code = 1
        else:
            extra = f" (+ conmon {r[1]} KiB)" if r[1] else " (no monitor process)"
            print(f"infra-rss  {e.name}: {r[0]} KiB, private {r[2]} KiB{extra}")
    ok = [r for r in rss if not isinstance(r, str)]
    if len(ok) == 2 and ok[1][0]:
        print(f"infra-rss  pyc/podman: {ok[0][0] / ok[1][0]:.2f}x (infra process), "
              f"{ok[0][0] / (ok[1][0] + ok[1][1]):.2f}x (with podman's conmon)")
    for t in timings:
        if t.error:
            sys.stderr.write(f"pod-first: {t.engine}: {t.error}\n")
            code = 1
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
