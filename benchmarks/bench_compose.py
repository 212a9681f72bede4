#!/usr/bin/env python3
"""Compose benchmark: `compose up -d` and `down -v` of a three-service project, pyc's built-in
`pyc compose` vs `podman-compose` (PyPI) driving rootless `podman --runtime runc`.

    runuser -u pyctest -- env HOME=/home/pyctest $VENV/bin/python \\
        benchmarks/bench_compose.py [-n 5] [--podman-compose PATH] [up|down ...]

The project is issue 14's: `web` (busybox httpd publishing 127.0.0.1:18080), `db` (a
healthcheck and a named volume), `worker` built from a local Dockerfile and depending on
`db: {condition: service_healthy}`; each with `init: true`, so that `down` stops them on
SIGTERM rather than timing the 10 s stop timeout of a PID 1 that ignores it. Cases
(bench.py's framework: fresh storage per case and engine, medians; the images are pulled and
the worker built once in setup, untimed):

    up      `compose up -d` from nothing (the previous round's `down -v` is untimed)
    down    `compose down -v` of the running project (its `up -d` is untimed)

podman-compose: install it in its own venv (`python3 -m venv /var/tmp/pyc-bench/venv &&
/var/tmp/pyc-bench/venv/bin/pip install podman-compose`; the default path below); it runs
podman through a wrapper script that adds bench.py's globals (storage, runc, cgroupfs).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench  # noqa: E402 - the framework lives beside this file
from bench import BUSYBOX, Case, Engine, Timing  # noqa: E402

PODMAN_COMPOSE = "/var/tmp/pyc-bench/podman-compose-venv/bin/podman-compose"
PROJECT = "benchproj"

COMPOSE_FILE = f"""\
services:
  web:
    image: {BUSYBOX}
    command: ["httpd", "-f", "-p", "8080", "-h", "/etc"]
    ports: ["127.0.0.1:18080:8080"]
    init: true
  db:
    image: {BUSYBOX}
    command: ["sh", "-c", "echo ready > /data/ready && exec sleep 3600"]
    volumes: ["data:/data"]
    init: true
    healthcheck:
      test: ["CMD", "test", "-f", "/data/ready"]
      interval: 1s
      timeout: 2s
      retries: 30
  worker:
    build: ./worker
    command: ["sleep", "3600"]
    init: true
    depends_on:
      db:
        condition: service_healthy
volumes:
  data: {{}}
"""
DOCKERFILE = f"""\
FROM {BUSYBOX}
RUN echo built > /built
"""


def project_dir(engine: Engine) -> Path:
    """The project's files, inside the engine's throw-away state (one per engine)."""
    d = engine.state / PROJECT
    if not d.exists():
        (d / "worker").mkdir(parents=True)
        (d / "compose.yaml").write_text(COMPOSE_FILE)
        (d / "worker" / "Dockerfile").write_text(DOCKERFILE)
    return d


def compose_engine(plain: Engine, podman_compose: str) -> Engine:
    """The engine's compose front end: `pyc ... compose`, or podman-compose with a podman
    wrapper that carries the plain engine's globals (its storage and runtime)."""
    if plain.name == "pyc":
        return Engine("pyc", [*plain.base, "compose"], plain.env, plain.state)
    # rootless CNI keeps networks in ~/.config/cni/net.d, shared by every podman of the user
    # (another bench's `system reset` would remove this project's network mid-case): a
    # private directory, in the engine's state like its storage
    (plain.state / "cni").mkdir()
    plain.base[1:1] = ["--network-config-dir", str(plain.state / "cni")]
    wrapper = plain.state / "podman"
    wrapper.write_text(f"#!/bin/sh\nexec {shlex.join(plain.base)} \"$@\"\n")
    wrapper.chmod(0o755)
    return Engine("podman", [podman_compose, "--podman-path", str(wrapper)], plain.env,
                  plain.state)


def _args(engine: Engine, *args: str) -> list[str]:
    return ["-f", str(project_dir(engine) / "compose.yaml"), "-p", PROJECT, *args]


def prepare(engine: Engine) -> None:
    """Untimed, once: the base image pulled and the worker built (by the compose front end
    itself, so it gets the image name it looks for)."""
    PLAIN[str(engine.state)].run("pull", BUSYBOX)
    engine.run(*_args(engine, "build"))


def down(engine: Engine) -> None:
    engine.run(*_args(engine, "down", "-v"), check=False)


def up(engine: Engine) -> None:
    engine.run(*_args(engine, "up", "-d"))


CASES = {
    "up": Case("up", lambda e: _args(e, "up", "-d"), prepare, down,
               "compose up -d of web + db (healthcheck, volume) + built worker"),
    "down": Case("down", lambda e: _args(e, "down", "-v"), prepare, up,
                 "compose down -v of the running project"),
}
#: the plain engine (pyc / podman) behind each compose engine, by state dir
PLAIN: dict[str, Engine] = {}


def run_case(c: Case, make: Callable[[], Engine], podman_compose: str, n: int,
             warmup: int) -> Timing:
    plain = make()
    try:
        engine = compose_engine(plain, podman_compose)
        PLAIN[str(engine.state)] = plain
        try:
            return bench.measure(c, engine, n, warmup)
        finally:
            down(engine)
    finally:
        bench.remove_state(plain)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="pyc compose vs podman-compose, median times")
    ap.add_argument("cases", nargs="*", help=f"cases to run (default all: {', '.join(CASES)})")
    ap.add_argument("-n", type=int, default=5, help="timed rounds per case (default 5)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    ap.add_argument("--pyc", default=None, help='pyc command (default: the venv\'s pyc)')
    ap.add_argument("--podman", default="podman")
    ap.add_argument("--podman-compose", default=PODMAN_COMPOSE)
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    args = ap.parse_args(argv)
    if args.list:
        for c in CASES.values():
            print(f"{c.name:<8} {c.description}")
        return 0
    if os.getuid() == 0:
        sys.stderr.write("bench_compose.py compares rootless engines: run it as the test user\n")
        return 2
    unknown = [c for c in args.cases if c not in CASES]
    if unknown:
        ap.error(f"unknown case(s): {', '.join(unknown)}; --list shows them")
    if not os.access(args.podman_compose, os.X_OK):
        ap.error(f"no podman-compose at {args.podman_compose}: see this file's docstring")
    pyc_cmd = args.pyc.split() if args.pyc else bench.default_pyc()
    makers: list[Callable[[], Engine]] = [lambda: bench.make_pyc(pyc_cmd),
                                          lambda: bench.make_podman(args.podman)]
    rows: list[tuple[str, Timing, Timing]] = []
    for name in args.cases or list(CASES):
        p, q = (run_case(CASES[name], make, args.podman_compose, args.n, args.warmup)
                for make in makers)
        for t in (p, q):
            if t.error:
                sys.stderr.write(f"{name}: {t.engine}: {t.error}\n")
        rows.append((name, p, q))
    print(bench.table(rows))
    print("(pyc: `pyc compose`; podman: podman-compose on rootless podman --runtime runc)")
    return 1 if any(p.error or q.error for _, p, q in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
