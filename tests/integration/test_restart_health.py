"""Restart policies and healthchecks, run without a daemon: the supervisor's exit command
restarts a container, the supervisor runs its healthcheck."""

from __future__ import annotations

import os
import time

import pytest


@pytest.fixture(scope="module")
def bb(shared_pyc, fixture_refs) -> str:
    shared_pyc.ok("pull", "-q", fixture_refs["busybox"])
    return fixture_refs["busybox"]


def _wait_for(pred, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


def _fmt(pyc, ref: str, fmt: str) -> str:
    return pyc.ok("inspect", "-f", fmt, ref).out.strip()


def _ps_status(pyc, cid: str) -> str:
    return pyc.ok("ps", "-a", "--filter", f"id={cid}", "--format", "{{.Status}}").out.strip()


def _processes_mentioning(cid: str) -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if cid.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def test_restart_on_failure_retries_then_stays_exited(pyc, bb):
    cid = pyc.ok("run", "-d", "--restart", "on-failure:2", bb, "sh", "-c", "exit 1").out.strip()
    assert _fmt(pyc, cid, "{{.HostConfig.RestartPolicy.Name}}:"
                "{{.HostConfig.RestartPolicy.MaximumRetryCount}}") == "on-failure:2"
    assert _wait_for(lambda: _fmt(pyc, cid, "{{.RestartCount}} {{.State.Status}}")
                     == "2 exited")
    time.sleep(1.5)  # no third run
    assert _fmt(pyc, cid, "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}") \
        == "2 exited 1"
    assert not _processes_mentioning(cid)


def test_restart_always_until_stop(pyc, bb):
    cid = pyc.ok("run", "-d", "--restart", "always", bb, "sh", "-c",
                 "sleep 0.3; exit 3").out.strip()
    assert _wait_for(lambda: int(_fmt(pyc, cid, "{{.RestartCount}}")) >= 2)
    seen = set()
    assert _wait_for(lambda: seen.add(_ps_status(pyc, cid)) or any(
        s.startswith("Restarting (3)") for s in seen), timeout=20), seen
    start = time.monotonic()
    pyc.ok("stop", cid)
    assert time.monotonic() - start < 5
    count = _fmt(pyc, cid, "{{.RestartCount}}")
    time.sleep(2)
    assert _fmt(pyc, cid, "{{.State.Status}} {{.RestartCount}}") == f"exited {count}"
    assert _ps_status(pyc, cid).startswith("Exited (")
    assert not _processes_mentioning(cid)


def test_rm_force_during_backoff_leaves_nothing(pyc, bb):
    cid = pyc.ok("run", "-d", "--restart", "always", bb, "true").out.strip()
    # after a few quick exits the backoff is long enough to catch it waiting
    assert _wait_for(lambda: int(_fmt(pyc, cid, "{{.RestartCount}}")) >= 4)
    assert _wait_for(lambda: _fmt(pyc, cid, "{{.State.Status}}") == "restarting")
    assert _fmt(pyc, cid, "{{.State.Restarting}}") == "true"
    pyc.ok("rm", "-f", cid)
    time.sleep(1)
    assert pyc("inspect", cid).rc != 0
    assert not _processes_mentioning(cid)
    assert not any(cid in name for name in os.listdir(pyc.runroot / "containers")) \
        if (pyc.runroot / "containers").exists() else True


def test_restart_and_rm_conflict(pyc, bb):
    res = pyc.fail("run", "--rm", "--restart", "always", bb, "true")
    assert res.rc == 125
    assert "Conflicting options: --restart and --rm" in res.err
    assert pyc.fail("run", "--restart", "sometimes", bb, "true").rc == 125


def _health(pyc, cid: str) -> str:
    return _fmt(pyc, cid, "{{.State.Health.Status}}")


def test_healthy_check_shows_in_ps_and_inspect(pyc, bb):
    cid = pyc.ok("run", "-d", "--health-cmd", "echo ok; test -d /", "--health-interval", "1s",
                 bb, "sleep", "60").out.strip()
    assert _ps_status(pyc, cid).endswith("(health: starting)")
    assert _health(pyc, cid) == "starting"
    assert _wait_for(lambda: _ps_status(pyc, cid).endswith("(healthy)"), timeout=10)
    assert _health(pyc, cid) == "healthy"
    assert _fmt(pyc, cid, "{{.State.Health.FailingStreak}}") == "0"
    log = _fmt(pyc, cid, "{{json .State.Health.Log}}")
    assert '"ExitCode":0' in log.replace(" ", "") and "ok" in log
    assert _fmt(pyc, cid, "{{json .Config.Healthcheck.Test}}") == \
        '["CMD-SHELL","echo ok; test -d /"]'
    assert pyc.ok("ps", "-q", "--no-trunc", "--filter", "health=healthy").out.split() == [cid]
    assert pyc.ok("ps", "-q", "--filter", "health=unhealthy").out.split() == []
    res = pyc.ok("healthcheck", "run", cid)
    assert res.out.strip() == "healthy"
    assert _wait_for(lambda: len(json_log(pyc, cid)) == 5, timeout=10)  # the last 5 kept
    time.sleep(1.5)
    assert len(json_log(pyc, cid)) == 5
    pyc.ok("rm", "-f", cid)
    assert not _processes_mentioning(cid)


def json_log(pyc, cid: str) -> list:
    import json

    return json.loads(_fmt(pyc, cid, "{{json .State.Health.Log}}"))


def test_unhealthy_check_after_retries(pyc, bb):
    cid = pyc.ok("run", "-d", "--health-cmd", "echo broken >&2; exit 3",
                 "--health-interval", "1s", "--health-retries", "2", bb,
                 "sleep", "60").out.strip()
    assert _wait_for(lambda: _ps_status(pyc, cid).endswith("(unhealthy)"), timeout=10)
    assert _health(pyc, cid) == "unhealthy"
    assert int(_fmt(pyc, cid, "{{.State.Health.FailingStreak}}")) >= 2
    entry = json_log(pyc, cid)[-1]
    assert entry["ExitCode"] == 3 and "broken" in entry["Output"]
    assert entry["Start"] <= entry["End"]
    assert pyc.ok("ps", "-q", "--no-trunc", "--filter", "health=unhealthy").out.split() == [cid]
    assert pyc("healthcheck", "run", cid).rc == 1
    pyc.ok("rm", "-f", cid)


def test_health_timeout_and_no_healthcheck(pyc, bb):
    cid = pyc.ok("run", "-d", "--health-cmd", "sleep 5", "--health-interval", "1s",
                 "--health-timeout", "1s", "--health-retries", "1", bb,
                 "sleep", "60").out.strip()
    assert _wait_for(lambda: _health(pyc, cid) == "unhealthy", timeout=10)
    entry = json_log(pyc, cid)[-1]
    assert entry["ExitCode"] == -1 and "timeout" in entry["Output"]
    pyc.ok("rm", "-f", cid)
    cid = pyc.ok("run", "-d", "--no-healthcheck", bb, "sleep", "60").out.strip()
    assert _fmt(pyc, cid, "{{json .State.Health}}") == "null"
    assert _ps_status(pyc, cid).startswith("Up ") and "(" not in _ps_status(pyc, cid)
    pyc.ok("rm", "-f", cid)


def test_image_healthcheck_and_flags_over_it(pyc, bb, tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(f"FROM {bb}\nHEALTHCHECK --interval=1s --retries=1 "
                                    "CMD [\"sh\", \"-c\", \"exit 1\"]\n")
    pyc.ok("build", "-q", "-t", "hc-image", str(ctx))
    cid = pyc.ok("run", "-d", "hc-image", "sleep", "60").out.strip()
    assert _wait_for(lambda: _health(pyc, cid) == "unhealthy", timeout=10)
    pyc.ok("rm", "-f", cid)
    # --health-cmd replaces the test, the image's interval stays
    cid = pyc.ok("run", "-d", "--health-cmd", "true", "hc-image", "sleep", "60").out.strip()
    assert _fmt(pyc, cid, "{{.Config.Healthcheck.Interval}}") == "1000000000"
    assert _wait_for(lambda: _health(pyc, cid) == "healthy", timeout=10)
    pyc.ok("rm", "-f", cid)
    cid = pyc.ok("run", "-d", "--no-healthcheck", "hc-image", "sleep", "60").out.strip()
    assert _fmt(pyc, cid, "{{json .State.Health}}") == "null"
    pyc.ok("rm", "-f", cid)
