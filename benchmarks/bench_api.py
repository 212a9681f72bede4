#!/usr/bin/env python3
"""Engine API benchmarks: `pyc system service` vs `podman system service`, same docker-py.

    runuser -u pyctest -- env HOME=/home/pyctest $VENV/bin/python \\
        benchmarks/bench_api.py [-n 10] [case ...]

Each engine gets bench.py's throw-away storage and serves it on a unix socket in that
storage (`system service --time 0 unix://SOCK`, the same command line for both); the client
is docker-py (it must be importable: the test venv has it). Images and containers are made
with each engine's own CLI, untimed.

Cases:

    list-50      client.containers.list(all=True) with 50 created containers (docker-py
                 lists, then inspects each one: 51 requests)
    idle-rss     resident memory (kB) of the idle service, after a ping and a list
    run-rm       client.containers.run(BUSYBOX, "true", remove=True)
    throughput   10 concurrent docker-py clients, each create/start/wait/remove in a loop:
                 containers per second (higher is better)

run-rm and throughput need `POST /containers/create`: an engine that answers it with 404
(or 405) is skipped with a message (not an error).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench  # noqa: E402 - the framework lives beside this file
from bench import BUSYBOX, Engine  # noqa: E402

#: throughput: clients at once, containers each makes per round
CLIENTS = 10
PER_CLIENT = 5


class Skip(Exception):
    """The case cannot run against this engine (an endpoint is missing)."""


@dataclass
class Result:
    engine: str
    unit: str  # "ms", "kB" or "c/s"
    values: list[float] = field(default_factory=list)
    error: str = ""
    skipped: str = ""

    @property
    def median(self) -> float | None:
        if self.error or self.skipped or not self.values:
            return None
        return statistics.median(self.values)


# --- the service -----------------------------------------------------------------------------


@dataclass
class Service:
    engine: Engine
    sock: Path
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"unix://{self.sock}"

    def client(self):  # type: ignore[no-untyped-def]
        import docker

        return docker.DockerClient(base_url=self.url, version="1.41", timeout=300)


def start(engine: Engine) -> Service:
    sock = engine.state / "api.sock"
    log = open(engine.state / "service.log", "wb")  # noqa: SIM115 - the service keeps it
    proc = subprocess.Popen(engine.argv("system", "service", "--time", "0", f"unix://{sock}"),
                            env=engine.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    log.close()
    deadline = time.monotonic() + 30
    while True:
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(sock))
            return Service(engine, sock, proc)
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{engine.name} system service did not start: "
                                   f"{(engine.state / 'service.log').read_text()[-300:]}") from None
            time.sleep(0.05)
        finally:
            probe.close()


def stop(service: Service) -> None:
    service.proc.terminate()
    try:
        service.proc.wait(30)
    except subprocess.TimeoutExpired:
        service.proc.kill()
        service.proc.wait()


def require_create(service: Service) -> None:
    """Skip when the service has no `POST /containers/create` yet: 404 page not found, or
    405 (pyc's `DELETE /containers/{id}` route matches the path, not the method)."""
    api = service.client().api
    res = api.post(api._url("/containers/create"), json={"Image": BUSYBOX, "Cmd": ["true"]})
    if res.status_code == 405 or (res.status_code == 404 and "page not found" in res.text):
        raise Skip(f"{service.engine.name} has no POST /containers/create yet "
                   f"({res.status_code})")
    if res.status_code == 201:
        api.remove_container(res.json()["Id"], force=True)


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# --- cases: each returns the measured values ---------------------------------------------------


def list_50(service: Service, n: int, warmup: int) -> list[float]:
    for i in range(50):
        service.engine.run("create", "--name", f"c{i}", BUSYBOX, "true")
    client = service.client()
    times = []
    for i in range(warmup + n):
        begin = time.perf_counter()
        found = client.containers.list(all=True)
        elapsed = time.perf_counter() - begin
        if len(found) != 50:
            raise RuntimeError(f"listed {len(found)} containers, not 50")
        if i >= warmup:
            times.append(elapsed * 1000)
    return times


def idle_rss(service: Service, n: int, warmup: int) -> list[float]:
    client = service.client()
    client.ping()
    client.containers.list(all=True)
    time.sleep(1.0)  # idle: whatever the first requests started has settled
    return [float(rss_kib(service.proc.pid))]


def run_rm(service: Service, n: int, warmup: int) -> list[float]:
    require_create(service)
    client = service.client()
    times = []
    for i in range(warmup + n):
        begin = time.perf_counter()
        client.containers.run(BUSYBOX, "true", remove=True)
        elapsed = time.perf_counter() - begin
        if i >= warmup:
            times.append(elapsed * 1000)
    return times


def _churn(service: Service, count: int, failures: list[str]) -> None:
    client = service.client()
    try:
        for _ in range(count):
            container = client.containers.create(BUSYBOX, "true")
            container.start()
            status = container.wait()["StatusCode"]
            container.remove()
            if status != 0:
                raise RuntimeError(f"a container exited {status}")
    except Exception as exc:  # noqa: BLE001 - reported as the case's error
        failures.append(f"{type(exc).__name__}: {exc}")


def throughput(service: Service, n: int, warmup: int) -> list[float]:
    require_create(service)
    rates = []
    for i in range(warmup + n):
        failures: list[str] = []
        threads = [threading.Thread(target=_churn, args=(service, PER_CLIENT, failures))
                   for _ in range(CLIENTS)]
        begin = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - begin
        if failures:
            raise RuntimeError(failures[0])
        if i >= warmup:
            rates.append(CLIENTS * PER_CLIENT / elapsed)
    return rates


CASES: dict[str, tuple[str, Callable[[Service, int, int], list[float]]]] = {
    "list-50": ("ms", list_50),
    "idle-rss": ("kB", idle_rss),
    "run-rm": ("ms", run_rm),
    "throughput": ("c/s", throughput),
}


# --- running and reporting -------------------------------------------------------------------


def measure(name: str, engine: Engine, n: int, warmup: int) -> Result:
    unit, fn = CASES[name]
    result = Result(engine.name, unit)
    try:
        engine.run("pull", BUSYBOX)
        service = start(engine)
        try:
            result.values = fn(service, n, warmup)
        finally:
            stop(service)
    except Skip as exc:
        result.skipped = str(exc)
    except Exception as exc:  # noqa: BLE001 - one failed cell, not the whole run
        result.error = f"{type(exc).__name__}: {exc}"
    return result


def cell(r: Result) -> str:
    if r.skipped:
        return "skipped"
    if r.median is None:
        return "error"
    return f"{r.median:.1f} {r.unit}" if r.unit == "c/s" else f"{r.median:.0f} {r.unit}"


def table(rows: list[tuple[str, Result, Result]]) -> str:
    head = ("case", "pyc", "podman", "pyc/podman")
    body = []
    for name, p, q in rows:
        ratio = f"{p.median / q.median:.2f}x" if p.median and q.median else "-"
        body.append((name, cell(p), cell(q), ratio))
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(4)]
    return "\n".join("  ".join(v.ljust(w) if i == 0 else v.rjust(w)
                               for i, (v, w) in enumerate(zip(r, widths, strict=True)))
                     for r in [head, tuple("-" * w for w in widths), *body])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="pyc vs podman system service, docker-py client")
    ap.add_argument("cases", nargs="*", help=f"cases (default all: {', '.join(CASES)})")
    ap.add_argument("-n", type=int, default=5, help="timed rounds per case (default 5)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    ap.add_argument("--pyc", default=None, help='pyc command (default: the venv\'s pyc)')
    ap.add_argument("--podman", default="podman")
    args = ap.parse_args(argv)
    if os.getuid() == 0:
        sys.stderr.write("bench_api.py compares rootless services: run it as the test user\n")
        return 2
    unknown = [c for c in args.cases if c not in CASES]
    if unknown:
        ap.error(f"unknown case(s): {', '.join(unknown)}")
    pyc_cmd = args.pyc.split() if args.pyc else bench.default_pyc()
    rows = []
    for name in args.cases or list(CASES):
        results = []
        for make in (lambda: bench.make_pyc(pyc_cmd), lambda: bench.make_podman(args.podman)):
            engine = make()
            try:
                results.append(measure(name, engine, args.n, args.warmup))
            finally:
                bench.remove_state(engine)
        for r in results:
            if r.error or r.skipped:
                sys.stderr.write(f"{name}: {r.engine}: {r.error or r.skipped}\n")
        rows.append((name, results[0], results[1]))
    print(table(rows))
    print("(ms and kB: lower is better; c/s, containers per second: higher is better)")
    return 1 if any(p.error or q.error for _, p, q in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
