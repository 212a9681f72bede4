#!/usr/bin/env python3
"""Store size (the `store-size` row): the Debian fixture pulled into an empty store, pyc vs
`podman --runtime runc` (native overlay), `du -s` of each data dir (disk blocks) and
`du -sb` (bytes), and the ratio pyc/podman.

    runuser -u pyctest -- env HOME=/home/pyctest $VENV/bin/python benchmarks/bench_store.py

The engines are driven as in bench_pull.py (private --root/--runroot, removed afterwards).
Sizes are deterministic: one pull per engine is enough (`--runs` to check).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_pull import DEFAULT_IMAGE, cleanup, engines  # noqa: E402


def store_size(prefix: list[str], pull: list[str],
               cleanups: list[tuple[list[str], Path]]) -> tuple[int, int]:
    """(KiB on disk, bytes) of the data dir after one pull into an empty store."""
    base = Path(tempfile.mkdtemp(prefix="bench-store-"))
    state = ["--root", str(base / "root"), "--runroot", str(base / "run")]
    cleanups.append((prefix, base))
    res = subprocess.run([*prefix, *state, *pull], capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"{' '.join(prefix)} pull failed: {res.stderr.strip()}")
    out = []
    for flag in ("-sk", "-sb"):  # in the user namespace: layer dirs belong to subuids
        du = subprocess.run([*prefix, *state, "unshare", "du", flag, str(base / "root")],
                            capture_output=True, text=True)
        if du.returncode != 0:
            raise SystemExit(f"du failed: {du.stderr.strip()}")
        out.append(int(du.stdout.split()[0]))
    return out[0], out[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image", default=DEFAULT_IMAGE)
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    if os.getuid() == 0:
        raise SystemExit("run as an unprivileged user (rootless), e.g. runuser -u pyctest")
    names = [n for n in ("pyc", "podman") if shutil.which(engines(args.image)[n][0][0])]
    sizes: dict[str, list[tuple[int, int]]] = {n: [] for n in names}
    cleanups: list[tuple[list[str], Path]] = []
    try:
        for _ in range(args.runs):
            for name in names:
                prefix, pull = engines(args.image)[name]
                sizes[name].append(store_size(prefix, pull, cleanups))
    finally:
        cleanup(cleanups)
    for n in names:
        kib, size = max(sizes[n])
        print(f"{n:7s} du -s {kib / 1024:7.1f} MiB  du -sb {size / 1e6:7.1f} MB")
    if len(names) == 2:
        (pk, pb), (qk, qb) = max(sizes["pyc"]), max(sizes["podman"])
        print(f"store-size {args.image}: pyc/podman = {pk / qk:.3f} (du -s), "
              f"{pb / qb:.3f} (du -sb)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
