#!/usr/bin/env python3
"""Pull benchmark: the Debian fixture from the local registry into an empty store, pyc vs
`podman --runtime runc`, median of a few runs: wall time, CPU time (user+sys of the engine
and its children: steadier than wall time on a shared machine), and the store size.

Run as the unprivileged test user, e.g.:

    runuser -u pyctest -- env HOME=/home/pyctest /work/venv/bin/python benchmarks/bench_pull.py

Each run starts from an empty --root/--runroot (so nothing is cached); all are removed after
the last run with `unshare rm -rf` (layer files belong to subordinate ids). TMPDIR chooses
where the stores go. On ext4 without a journal, creating files where many were deleted in
the last minutes is far slower; a run with several seconds of sys time met such a block
group (see images.layers.mark_topdir): look at the CPU column before trusting a ratio.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_IMAGE = "127.0.0.1:5000/fixtures/debian:bookworm"


def pyc_cmd() -> list[str]:
    beside = Path(sys.executable).parent / "pyc"
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "pycontainer"]


def engines(image: str) -> dict[str, tuple[list[str], list[str]]]:
    """name -> (argv prefix taking --root/--runroot, pull args)."""
    return {
        "pyc": (pyc_cmd(), ["pull", "-q", image]),
        # Native overlay, as pyc uses: with a fresh --root podman would pick vfs here.
        "podman": (["podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs",
                    "--events-backend", "file", "--storage-driver", "overlay"],
                   ["pull", "-q", "--tls-verify=false", image]),
    }


def run_once(prefix: list[str], pull: list[str],
             cleanups: list[tuple[list[str], Path]]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds: user+sys of the engine and its children, store bytes).

    The store is removed only after the last run (`cleanup`): on ext4 without a journal,
    creating inodes in a block group where many were deleted in the last minute is several
    times slower (the allocator skips each recently deleted one), so removing a store
    between runs would slow the next run down, of either engine."""
    base = Path(tempfile.mkdtemp(prefix="bench-pull-"))
    state = ["--root", str(base / "root"), "--runroot", str(base / "run")]
    cleanups.append((prefix, base))
    try:
        # The previous run's store (either engine's, a few hundred MB) is still being written
        # back; each pull starts on a quiet disk instead of paying for the last one.
        os.sync()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        res = subprocess.run([*prefix, *state, *pull], capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if res.returncode != 0:
            raise SystemExit(f"{' '.join(prefix)} pull failed: {res.stderr.strip()}")
        du = subprocess.run([*prefix, *state, "unshare", "du", "-sb", str(base / "root")],
                            capture_output=True, text=True)
        size = int(du.stdout.split()[0]) if du.returncode == 0 else -1
        return elapsed, cpu, size
    except BaseException:
        cleanup(cleanups)
        raise


def cleanup(cleanups: list[tuple[list[str], Path]]) -> None:
    while cleanups:
        prefix, base = cleanups.pop()
        state = ["--root", str(base / "root"), "--runroot", str(base / "run")]
        subprocess.run([*prefix, *state, "unshare", "rm", "-rf", str(base)],
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image", default=DEFAULT_IMAGE)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--engines", default="pyc,podman")
    args = ap.parse_args()
    if os.getuid() == 0:
        raise SystemExit("run as an unprivileged user (rootless), e.g. runuser -u pyctest")
    names = [n for n in args.engines.split(",") if shutil.which(engines(args.image)[n][0][0])]
    times: dict[str, list[float]] = {n: [] for n in names}
    cpus: dict[str, list[float]] = {n: [] for n in names}
    sizes: dict[str, int] = {}
    cleanups: list[tuple[list[str], Path]] = []
    # Rounds alternate the engines, so load from other work on the machine hits both alike.
    for _ in range(args.runs):
        for name in names:
            prefix, pull = engines(args.image)[name]
            t, cpu, size = run_once(prefix, pull, cleanups)
            times[name].append(t)
            cpus[name].append(cpu)
            sizes[name] = size
    cleanup(cleanups)
    medians = {n: statistics.median(ts) for n, ts in times.items()}
    cpu_medians = {n: statistics.median(ts) for n, ts in cpus.items()}
    for n in names:
        print(f"{n:7s} median {medians[n]:6.2f} s  runs "
              f"{' '.join(f'{t:.2f}' for t in times[n])}  store {sizes[n] / 1e6:7.1f} MB")
        print(f"{'':7s} cpu    {cpu_medians[n]:6.2f} s  runs "
              f"{' '.join(f'{t:.2f}' for t in cpus[n])}  (user+sys)")
    if "pyc" in medians and "podman" in medians:
        ratio = medians["pyc"] / medians["podman"]
        cpu_ratio = cpu_medians["pyc"] / cpu_medians["podman"]
        print(f"pull {args.image}: pyc/podman = {ratio:.2f} "
              f"({'faster' if ratio < 1 else 'slower'} than podman), "
              f"cpu {cpu_ratio:.2f}; load {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
