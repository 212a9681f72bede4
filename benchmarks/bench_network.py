#!/usr/bin/env python3
"""Networking benchmarks: pyc vs rootless `podman --runtime runc` (both on slirp4netns).

    runuser -u pyctest -- env HOME=/home/pyctest /work/venv/bin/python \\
        benchmarks/bench_network.py [-n 5] [case ...]

Cases (bench.py's framework: fresh storage per case and engine, medians):

    run-rm-net      run --rm busybox true               with the default network (slirp4netns)
    run-rm-none     run --rm --network none busybox true
    run-rm-port     run --rm -p PORT:80 busybox true    a published port on top
    port-256m       256 MiB from a container through `-p` to a host client (time; MB/s below)
    port-100m       the same with 100 MiB (benchmarks/run-all's row)
    port-first-byte first-response latency through `-p`: connect to the first byte of a
                    short answer, a new connection each round
    c2c-256m        256 MiB between two containers on a user-defined network, by name (time
                    of `exec client sh -c 'nc server 9000 >/dev/null'`, exec included)

Images are pulled in setup: no case times a pull.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench  # noqa: E402 - the framework lives beside this file
from bench import BUSYBOX, Engine, case  # noqa: E402

MIB = 256
SERVE = ["nc", "-ll", "-p", "9000", "-e", "dd", "if=/dev/zero", "bs=1M", f"count={MIB}"]
#: one short answer per connection, for the first-response latency
HELLO = ["nc", "-ll", "-p", "9000", "-e", "echo", "hello"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        return int(s.getsockname()[1])


@case("run-rm-net", setup=bench.pull_busybox)
def run_rm_net(engine: Engine) -> list[str]:
    """run --rm busybox true on the default network (slirp4netns)"""
    return ["run", "--rm", BUSYBOX, "true"]


@case("run-rm-none", setup=bench.pull_busybox)
def run_rm_none(engine: Engine) -> list[str]:
    """run --rm --network none busybox true"""
    return ["run", "--rm", "--network", "none", BUSYBOX, "true"]


@case("run-rm-port", setup=bench.pull_busybox)
def run_rm_port(engine: Engine) -> list[str]:
    """run --rm -p PORT:80 busybox true"""
    return ["run", "--rm", "-p", f"{free_port()}:80", BUSYBOX, "true"]


# --- throughput: measured here, reported in bench.py's table ---------------------------------


def _receive_all(port: int) -> int:
    deadline = time.monotonic() + 10
    while True:
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=30)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    total = 0
    with sock:
        while chunk := sock.recv(1 << 20):
            total += len(chunk)
    return total


def port_throughput(engine: Engine, n: int, warmup: int, mib: int = MIB) -> bench.Timing:
    t = bench.Timing(engine.name)
    try:
        engine.run("pull", BUSYBOX)
        port = free_port()
        serve = [*SERVE[:-1], f"count={mib}"]
        engine.run("run", "-d", "--name", "srv", "-p", f"{port}:9000", BUSYBOX, *serve)
        for i in range(warmup + n):
            start = time.perf_counter()
            got = _receive_all(port)
            elapsed = time.perf_counter() - start
            if got != mib << 20:
                raise RuntimeError(f"received {got} bytes, not {mib} MiB")
            if i >= warmup:
                t.times.append(elapsed)
        engine.run("rm", "-f", "srv")
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        t.error = str(exc)
    return t


def c2c_throughput(engine: Engine, n: int, warmup: int) -> bench.Timing:
    t = bench.Timing(engine.name)
    try:
        engine.run("pull", BUSYBOX)
        engine.run("network", "create", "benchnet")
        engine.run("run", "-d", "--name", "srv", "--network", "benchnet", BUSYBOX, *SERVE)
        engine.run("run", "-d", "--name", "cli", "--network", "benchnet", BUSYBOX, "sleep",
                   "3000")
        time.sleep(0.5)
        for i in range(warmup + n):
            start = time.perf_counter()
            res = engine.run("exec", "cli", "sh", "-c", "nc srv 9000 | wc -c")
            elapsed = time.perf_counter() - start
            if res.stdout.strip() != str(MIB << 20):
                raise RuntimeError(f"received {res.stdout.strip()} bytes, not {MIB} MiB")
            if i >= warmup:
                t.times.append(elapsed)
        engine.run("rm", "-f", "srv", "cli")
        engine.run("network", "rm", "benchnet")
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        t.error = str(exc)
    return t


def _first_byte(port: int) -> float:
    """Seconds from connect() to the first byte of the answer."""
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        if not sock.recv(1):
            raise RuntimeError("the connection closed without an answer")
        return time.perf_counter() - start


def port_first_byte(engine: Engine, n: int, warmup: int) -> bench.Timing:
    """First-response latency through `-p`: a new connection per round."""
    t = bench.Timing(engine.name)
    try:
        engine.run("pull", BUSYBOX)
        port = free_port()
        engine.run("run", "-d", "--name", "srv", "-p", f"{port}:9000", BUSYBOX, *HELLO)
        _receive_all(port)  # waits until the forwarder and the server are up
        for i in range(warmup + n):
            elapsed = _first_byte(port)
            if i >= warmup:
                t.times.append(elapsed)
        engine.run("rm", "-f", "srv")
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        t.error = str(exc)
    return t


COMPOUND = {"port-256m": port_throughput, "c2c-256m": c2c_throughput,
            "port-100m": lambda e, n, w: port_throughput(e, n, w, 100),
            "port-first-byte": port_first_byte}


def _mb_s(timing: bench.Timing, mib: int) -> str:
    return f"{mib * 1.048576 / timing.median:.0f} MB/s" if timing.median else "error"


def main(argv: list[str]) -> int:
    wanted = [a for a in argv if not a.startswith("-") and not a.isdigit()]
    n = int(argv[argv.index("-n") + 1]) if "-n" in argv else 5
    simple = [a for a in argv if a not in COMPOUND]
    code = 0
    if not wanted or any(w in bench.CASES for w in wanted):
        code = bench.main(simple)
    rows = []
    for name, fn in COMPOUND.items():
        if wanted and name not in wanted:
            continue
        timings = []
        for make in (lambda: bench.make_pyc(bench.default_pyc()),
                     lambda: bench.make_podman("podman")):
            engine = make()
            try:
                timings.append(fn(engine, n, 1))
            finally:
                bench.remove_state(engine)
        rows.append((name, timings[0], timings[1]))
        for tm in timings:
            if tm.error:
                sys.stderr.write(f"{name}: {tm.engine}: {tm.error}\n")
    if rows:
        print()
        print(bench.table(rows))
        for name, p, q in rows:
            if name != "port-first-byte":  # port-256m: 256 MiB
                mib = int(name.split("-")[1].rstrip("m"))
                print(f"{name}: pyc {_mb_s(p, mib)}, podman {_mb_s(q, mib)}")
        code = code or int(any(p.error or q.error for _, p, q in rows))
    return code


if __name__ == "__main__":
    bench.CASES.pop("version", None)
    raise SystemExit(main(sys.argv[1:]))
