"""Healthchecks: the image's HEALTHCHECK and `--health-*`, run without systemd.

The supervisor only keeps time: every Interval it spawns `pyc healthcheck run ID` (a fresh
process, so the supervisor imports nothing of the CLI), which runs the test through the
same path as `pyc exec`, and folds the result into `<runroot>/containers/<id>/health.json`
(Docker's State.Health, written atomically under `health.lock`). A fresh start has a fresh
run dir, so health begins at "starting" again, as Docker's does.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from pycontainer.containers.model import Container
from pycontainer.containers.store import ContainerStore
from pycontainer.errors import Conflict, PycError, UsageError
from pycontainer.linux.fs import atomic_write_json
from pycontainer.linux.locks import FileLock
from pycontainer.ops import events
from pycontainer.paths import Paths

if TYPE_CHECKING:
    from pycontainer.jsontypes import JSON
    from pycontainer.oci.imagespec import HealthConfig
    from pycontainer.supervisor.protocol import HealthSettings

SECOND = 1_000_000_000
_Number = Literal["Interval", "Timeout", "StartPeriod", "StartInterval", "Retries"]
_NUMBERS: dict[str, _Number] = {k: k for k in ("Interval", "Timeout", "StartPeriod",
                                               "StartInterval", "Retries")}
DEFAULTS: dict[_Number, int] = {"Interval": 30 * SECOND, "Timeout": 30 * SECOND,
                                "StartPeriod": 0, "StartInterval": 5 * SECOND, "Retries": 3}
MAX_OUTPUT = 4096
KEEP = 5
STATUSES = ("starting", "healthy", "unhealthy", "none")


def parse_duration(text: str, flag: str) -> int:
    """Go's time.ParseDuration for the --health-* flags ("1s", "1m30s", "500ms") -> ns."""
    from pycontainer.formats.durations import parse_duration as go_duration

    try:
        return go_duration(text.strip())
    except UsageError as exc:  # pflag's wording
        raise UsageError(f"invalid argument \"{text}\" for \"{flag}\" flag: {exc}") from None


def flags_config(cmd: str | None, interval: str | None, timeout: str | None,
                 retries: int | None, start_period: str | None, disabled: bool) -> HealthConfig:
    """The --health-* flags as a (partial) Docker Healthcheck config."""
    out: HealthConfig = {}
    if disabled:
        # docker/cli: any --health-* setting beside --no-healthcheck is an error
        if cmd or any(v is not None for v in (interval, timeout, retries, start_period)):
            raise UsageError("--no-healthcheck conflicts with --health-* options")
        return {"Test": ["NONE"]}
    if cmd:
        out["Test"] = ["CMD-SHELL", cmd]
    durations: tuple[tuple[_Number, str | None, str], ...] = (
        ("Interval", interval, "--health-interval"), ("Timeout", timeout, "--health-timeout"),
        ("StartPeriod", start_period, "--health-start-period"))
    for key, value, flag in durations:
        if value is not None:
            ns = parse_duration(value, flag)
            if ns < 0 or (ns and ns < 1_000_000):
                raise UsageError(f"{flag} cannot be less than 1ms")
            out[key] = ns
    if retries is not None:
        if retries < 0:
            raise UsageError("--health-retries cannot be negative")
        out["Retries"] = retries
    return out


def config_of(c: Container) -> HealthConfig:
    """The effective Healthcheck (flags over the image's); {} when there is none."""
    image: Mapping[str, object] = c.config.image_config.get("Healthcheck") or {}
    flags = c.config.spec.healthcheck
    merged = _known({**image, **{k: v for k, v in flags.items() if v}})
    test = merged.get("Test") or []
    if not test or test[0] == "NONE":
        return {}
    return merged


def _known(obj: Mapping[str, object]) -> HealthConfig:
    """Docker's Healthcheck fields of `obj` (the image's or an API body's): Test a list of
    strings, the others integers (nanoseconds, a count), as Docker's Go struct reads them."""
    out: HealthConfig = {}
    for key, value in obj.items():
        number = _NUMBERS.get(key)
        if key == "Test" and isinstance(value, list):
            out["Test"] = [str(v) for v in value]
        elif number and isinstance(value, int) and not isinstance(value, bool):
            out[number] = value
    return out


def effective(c: Container) -> HealthConfig:
    """config_of with Docker's defaults filled in (0 means the default)."""
    cfg = config_of(c)
    if not cfg:
        return {}
    for key, default in DEFAULTS.items():
        cfg[key] = cfg.get(key) or default
    return cfg


def supervisor_settings(paths: Paths, c: Container) -> HealthSettings:
    """What the supervisor needs: the helper's argv and the interval in seconds."""
    cfg = effective(c)
    if not cfg:
        return {}
    from pycontainer.selfexec import self_argv

    argv = self_argv() + ["--root", str(paths.data), "--runroot", str(paths.runtime),
                          "healthcheck", "run", c.id]
    # Docker >= 25: probes every StartInterval while starting within the start period
    return {"argv": argv, "interval": cfg["Interval"] / SECOND,
            "start_period": cfg["StartPeriod"] / SECOND,
            "start_interval": cfg["StartInterval"] / SECOND}


def _health_file(store: ContainerStore, cid: str) -> str:
    return str(store.run_dir(cid) / "health.json")


def state_of(store: ContainerStore, c: Container) -> JSON | None:
    """State.Health for inspect and ps; None without a healthcheck."""
    if not config_of(c):
        return None
    try:
        with open(_health_file(store, c.id)) as f:
            return dict(json.load(f))
    except (OSError, ValueError):
        return {"Status": "starting", "FailingStreak": 0, "Log": []}


def ps_health(store: ContainerStore, c: Container) -> str:
    """"healthy", "unhealthy", "starting" or "" (no healthcheck, or not running)."""
    if not c.state.running:
        return ""
    st = state_of(store, c)
    return str(st["Status"]) if st else ""


def _now() -> str:
    from pycontainer.formats.timestamps import rfc3339

    return rfc3339(digits=6, fixed=True)


def _probe(paths: Paths, cid: str, test: list[str], timeout: float) -> tuple[int, str]:
    """Run the test like `pyc exec` in a forked child; (exit code, output)."""
    import tempfile  # here: every create, start and stop imports this module; few containers probe

    from pycontainer.ops import exec as ops_exec

    argv = ["/bin/sh", "-c", test[1]] if test[0] == "CMD-SHELL" else list(test[1:])
    with tempfile.TemporaryFile() as out:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the probe
            code = 125
            try:
                os.setpgid(0, 0)
                os.dup2(out.fileno(), 1)
                os.dup2(out.fileno(), 2)
                code = ops_exec.exec_in(paths, cid, ops_exec.ExecOptions(command=argv)) or 0
            except PycError as exc:
                os.write(2, (exc.message + "\n").encode())
                code = exc.exit_code
            except BaseException:  # noqa: BLE001 - the probe's outcome is its exit code
                code = 125
            finally:
                os._exit(code & 0xFF)
        deadline = time.monotonic() + timeout
        status = None
        while time.monotonic() < deadline:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
                break
            time.sleep(0.01)
        if status is None:
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return -1, f"Health check exceeded timeout ({timeout:g}s)"
        out.seek(0)
        text = out.read(MAX_OUTPUT).decode(errors="replace")
        return os.waitstatus_to_exitcode(status), text


def _in_start_period(c: Container, cfg: HealthConfig) -> bool:
    period = cfg.get("StartPeriod") or 0
    if not period or not c.state.started_at:
        return False
    from pycontainer.ops.restarts import _seconds

    started = _seconds(c.state.started_at)
    return started is not None and time.time() - started < period / SECOND


def run(paths: Paths, ref: str) -> str:
    """`pyc healthcheck run`: one probe, recorded; the resulting status."""
    store = ContainerStore(paths)
    cid = store.resolve(ref)
    c = store.load(cid)
    store.sync(c)
    cfg = effective(c)
    if not cfg:
        raise Conflict(f"container {cid} has no defined healthcheck")
    if not c.state.running:
        raise Conflict(f"container {cid} is not running")
    start = _now()
    code, output = _probe(paths, cid, list(cfg["Test"]), cfg["Timeout"] / SECOND)
    entry = {"Start": start, "End": _now(), "ExitCode": code, "Output": output}
    path = _health_file(store, cid)
    if not os.path.isdir(os.path.dirname(path)):
        raise Conflict(f"container {cid} is not running")
    with FileLock(str(store.run_dir(cid) / "health.lock")):
        try:
            with open(path) as f:
                health = dict(json.load(f))
        except (OSError, ValueError):
            health = {"Status": "starting", "FailingStreak": 0, "Log": []}
        previous = health.get("Status")
        if code == 0:
            health["Status"], health["FailingStreak"] = "healthy", 0
        elif not _in_start_period(c, cfg):
            health["FailingStreak"] = int(health.get("FailingStreak", 0)) + 1
            if health["FailingStreak"] >= int(cfg["Retries"]):
                health["Status"] = "unhealthy"
        health["Log"] = (list(health.get("Log") or []) + [entry])[-KEEP:]
        atomic_write_json(path, health, 0o600)
    if health["Status"] != previous:  # Docker logs the changes only
        events.container(paths, c, f"health_status: {health['Status']}")
    return str(health["Status"])
