#!/usr/bin/env python3
"""Time pyc and rootless `podman --runtime runc` side by side on the same work.

    sudo -u pyctest $VENV/bin/python benchmarks/bench.py [-n 10] [case ...]

($VENV: the venv scripts/test made, /var/tmp/pyc-test/<checkout>-<hash>/venv.)

Each engine gets its own throw-away storage (--root/--runroot), so nothing a developer has
pulled or run affects the numbers, and both engines start each case from the same state.
Every case runs `warmup` untimed rounds, then `n` timed ones; the table shows the medians and
pyc/podman. A failing command fails that cell (shown as "error"), not the whole run.

Adding a case: write a function decorated with @case(...) that returns the arguments both
engines run (Docker's command line, so they are the same), optionally with a `setup` run
once before timing and a `before_each` run before every round (untimed). See README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

REGISTRY = os.environ.get("PYC_TEST_REGISTRY", "127.0.0.1:5000")
BUSYBOX = f"{REGISTRY}/fixtures/busybox:latest"
DEBIAN = f"{REGISTRY}/fixtures/debian:bookworm"

# podman as it is run rootless on the test host: runc (not crun), no systemd (cgroupfs and
# file events: there is no user session bus after su/runuser), and the local registry as
# plain HTTP through a private registries.conf, the same as `--tls-verify=false` on each pull.
# Native overlay, as pyc uses: with a fresh --root podman would otherwise pick the slow vfs
# driver here and the comparison would flatter pyc.
PODMAN_GLOBALS = ["--runtime", "runc", "--cgroup-manager", "cgroupfs",
                  "--events-backend", "file", "--storage-driver", "overlay"]
REGISTRIES_CONF = f"""\
unqualified-search-registries = []

[[registry]]
location = "{REGISTRY}"
insecure = true
"""


@dataclass
class Engine:
    """One engine with its own storage; `argv(*args)` is a full command line."""

    name: str
    base: list[str]
    env: dict[str, str]
    state: Path

    def argv(self, *args: str) -> list[str]:
        return [*self.base, *args]

    def run(self, *args: str, check: bool = True,
            timeout: float = 600) -> subprocess.CompletedProcess[str]:
        res = subprocess.run(self.argv(*args), env=self.env, capture_output=True, text=True,
                             stdin=subprocess.DEVNULL, timeout=timeout)
        if check and res.returncode != 0:
            raise RuntimeError(f"{self.name} {' '.join(args)} exited {res.returncode}: "
                               f"{res.stderr.strip()[-500:]}")
        return res


def make_pyc(command: Sequence[str]) -> Engine:
    # Runroot right under /tmp: unix socket paths inside it must stay under 108 bytes.
    state = Path(tempfile.mkdtemp(prefix="pycb-", dir="/tmp"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYC_")}
    return Engine("pyc", [*command, "--root", str(state / "root"), "--runroot",
                          str(state / "run")], env, state)


def make_podman(binary: str) -> Engine:
    state = Path(tempfile.mkdtemp(prefix="podb-", dir="/tmp"))
    conf = state / "registries.conf"
    conf.write_text(REGISTRIES_CONF)
    env = dict(os.environ)
    env["CONTAINERS_REGISTRIES_CONF"] = str(conf)
    # rootless podman wants XDG_RUNTIME_DIR for its own state; point it at a private dir so a
    # missing or foreign one (after su) does not change what is measured
    (state / "xdg").mkdir(mode=0o700)
    env["XDG_RUNTIME_DIR"] = str(state / "xdg")
    base = [binary, "--root", str(state / "root"), "--runroot", str(state / "run"),
            "--tmpdir", str(state / "tmp"), *PODMAN_GLOBALS]
    return Engine("podman", base, env, state)


def remove_state(engine: Engine) -> None:
    """Remove an engine's storage, which holds files owned by subordinate ids."""
    if engine.name == "podman":
        subprocess.run([*engine.base, "system", "reset", "--force"], env=engine.env,
                       capture_output=True, timeout=300)
        subprocess.run(["podman", "unshare", "rm", "-rf", str(engine.state)],
                       env=engine.env, capture_output=True, timeout=300)
    else:
        engine.run("rm", "-af", check=False, timeout=300)
        engine.run("unshare", "rm", "-rf", str(engine.state), check=False, timeout=300)
        if engine.state.exists():
            # files owned by container ids: podman's user namespace maps the same subuids
            subprocess.run(["podman", "unshare", "rm", "-rf", str(engine.state)],
                           capture_output=True, timeout=300)
    shutil.rmtree(engine.state, ignore_errors=True)


# --- cases -----------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    args: Callable[[Engine], list[str]]
    setup: Callable[[Engine], None] | None = None
    before_each: Callable[[Engine], None] | None = None
    description: str = ""


CASES: dict[str, Case] = {}


def case(name: str, setup: Callable[[Engine], None] | None = None,
         before_each: Callable[[Engine], None] | None = None,
         ) -> Callable[[Callable[[Engine], list[str]]], Callable[[Engine], list[str]]]:
    """Register a case: the decorated function returns the arguments to time."""
    def register(fn: Callable[[Engine], list[str]]) -> Callable[[Engine], list[str]]:
        CASES[name] = Case(name, fn, setup, before_each, (fn.__doc__ or "").strip())
        return fn
    return register


# helpers for setup / before_each

def pull_busybox(engine: Engine) -> None:
    engine.run("pull", BUSYBOX)


def remove_images(engine: Engine) -> None:
    engine.run("rmi", "-af", check=False)


@case("version")
def version(engine: Engine) -> list[str]:
    """Start-up cost: the CLI parses, prints its version and exits."""
    return ["version"]


# --- measuring -------------------------------------------------------------------------------


@dataclass
class Timing:
    engine: str
    times: list[float] = field(default_factory=list)
    error: str = ""

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times and not self.error else None


def measure(c: Case, engine: Engine, n: int, warmup: int) -> Timing:
    t = Timing(engine.name)
    try:
        if c.setup:
            c.setup(engine)
        args = c.args(engine)
        for i in range(warmup + n):
            if c.before_each:
                c.before_each(engine)
            start = time.perf_counter()
            res = subprocess.run(engine.argv(*args), env=engine.env, capture_output=True,
                                 stdin=subprocess.DEVNULL, timeout=600)
            elapsed = time.perf_counter() - start
            if res.returncode != 0:
                raise RuntimeError(f"exit {res.returncode}: "
                                   f"{res.stderr.decode(errors='replace').strip()[-300:]}")
            if i >= warmup:
                t.times.append(elapsed)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        t.error = str(exc)
    return t


def fmt(seconds: float | None) -> str:
    return "error" if seconds is None else f"{seconds * 1000:.0f} ms"


def table(rows: list[tuple[str, Timing, Timing]]) -> str:
    head = ("case", "pyc", "podman", "pyc/podman")
    body = []
    for name, p, q in rows:
        ratio = f"{p.median / q.median:.2f}x" if p.median and q.median else "-"
        body.append((name, fmt(p.median), fmt(q.median), ratio))
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(4)]
    lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w)
                       for i, (h, w) in enumerate(zip(head, widths, strict=True)))]
    lines.append("  ".join("-" * w for w in widths))
    for r in body:
        lines.append("  ".join(v.ljust(w) if i == 0 else v.rjust(w)
                               for i, (v, w) in enumerate(zip(r, widths, strict=True))))
    return "\n".join(lines)


def default_pyc() -> list[str]:
    beside = Path(sys.executable).parent / "pyc"
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("pyc")
    return [found] if found else [sys.executable, "-m", "pycontainer"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="pyc vs rootless podman (runc), median times")
    ap.add_argument("cases", nargs="*", help=f"cases to run (default all: {', '.join(CASES)})")
    ap.add_argument("-n", type=int, default=5, help="timed rounds per case (default 5)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    ap.add_argument("--pyc", default=None,
                    help='pyc command, e.g. "python3 dist/pyc.pyz" (default: the venv\'s pyc)')
    ap.add_argument("--podman", default="podman")
    ap.add_argument("--json", type=Path, help="also write the raw times here")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    args = ap.parse_args(argv)
    if args.list:
        for c in CASES.values():
            print(f"{c.name:<16} {c.description}")
        return 0
    if os.getuid() == 0:
        sys.stderr.write("bench.py compares rootless engines: run it as the test user, e.g. "
                         "sudo -u pyctest /var/tmp/pyc-test/<checkout>-<hash>/venv/bin/python "
                         "benchmarks/bench.py\n")
        return 2
    unknown = [c for c in args.cases if c not in CASES]
    if unknown:
        ap.error(f"unknown case(s): {', '.join(unknown)}; --list shows them")
    pyc_cmd = args.pyc.split() if args.pyc else default_pyc()
    rows: list[tuple[str, Timing, Timing]] = []
    raw: dict[str, dict[str, list[float] | str]] = {}
    for name in args.cases or list(CASES):
        c = CASES[name]
        timings = []
        # fresh storage per case and engine: no case sees another's images or containers
        makers: list[Callable[[], Engine]] = [partial(make_pyc, pyc_cmd),
                                              partial(make_podman, args.podman)]
        for make in makers:
            engine = make()
            try:
                timings.append(measure(c, engine, args.n, args.warmup))
            finally:
                remove_state(engine)
        p, q = timings
        rows.append((name, p, q))
        for t in (p, q):
            if t.error:
                sys.stderr.write(f"{name}: {t.engine}: {t.error}\n")
        raw[name] = {"pyc": p.error or p.times, "podman": q.error or q.times}
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(raw, indent=2))
    return 1 if any(p.error or q.error for _, p, q in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
