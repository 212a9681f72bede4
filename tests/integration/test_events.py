"""`pyc events`: the user's event log, written by every pyc process and the supervisor, read
and followed by `pyc events` (issue 12)."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from helpers.runner import Pyc


def _log(pyc: Pyc) -> Path:
    return Path(pyc.runroot) / "events" / "events.log"


class Follower:
    """A `pyc events` process; each output line with the time it arrived (ns)."""

    def __init__(self, pyc: Pyc, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(pyc.argv("events", *args), env={**pyc.env, **(env or {})},
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[tuple[str, int]] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put((line.rstrip("\n"), time.time_ns()))

    def next(self, timeout: float = 10) -> tuple[str, int]:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no event line within the timeout") from None

    def until(self, text: str, timeout: float = 10) -> list[str]:
        """Lines up to and including one containing `text`."""
        seen = []
        while True:
            line, _ = self.next(timeout)
            seen.append(line)
            if text in line:
                return seen


@contextmanager
def following(pyc: Pyc, *args: str, env: dict[str, str] | None = None,
              marker: str = "probe") -> Iterator[Follower]:
    """A follower that has provably started reading: it printed a probe volume's event
    (a line containing `marker`)."""
    f = Follower(pyc, "--filter", "type=volume", *args, env=env)
    try:
        deadline = time.monotonic() + 30
        while True:  # the follower may open the log after a probe: create until it shows one
            pyc.ok("volume", "create", "probe", env=env)
            try:
                f.until(marker, timeout=1)
                break
            except AssertionError:
                assert time.monotonic() < deadline, "the follower never started"
                assert f.proc.poll() is None, f.proc.stderr.read() if f.proc.stderr else ""
        yield f
    finally:
        f.proc.terminate()
        f.proc.wait(10)


def test_die_event_carries_the_exit_code(pyc, fixture_refs):
    image = fixture_refs["busybox"]
    pyc.ok("pull", "-q", image)
    res = pyc("run", "--rm", image, "sh", "-c", "exit 3")
    assert res.rc == 3
    out = pyc.ok("events", "--since", "1m", "--until", "0s", "--filter", "type=container",
                 "--filter", "event=die", "--format", "{{.Actor.Attributes.exitCode}}",
                 timeout=30).out
    assert out == "3\n"
    # Docker's sequence for `run --rm`, all for one container
    events = [json.loads(line) for line in pyc.ok(
        "events", "--stream=false", "--filter", "type=container", "--format", "json").out.split()]
    assert [e["Action"] for e in events] == ["create", "attach", "start", "die", "destroy"]
    assert len({e["Actor"]["ID"] for e in events}) == 1
    assert events[0]["from"] == image and events[0]["Actor"]["Attributes"]["image"] == image


def test_follower_sees_create_and_start_within_100ms(pyc, fixture_refs):
    image = fixture_refs["busybox"]
    pyc.ok("pull", "-q", image)
    with following(pyc, "--filter", "type=container",
                   "--format", "{{.Type}} {{.Action}} {{.timeNano}}", marker="volume") as f:
        cid = pyc.ok("run", "-d", image, "sleep", "30").out.strip()
        got = []
        for _ in range(2):
            line, arrived = f.next()
            kind, action, ns = line.split()
            assert kind == "container"
            got.append(action)
            lag_ms = (arrived - int(ns)) / 1e6
            assert lag_ms < 100, f"{action} arrived {lag_ms:.0f} ms after it happened"
        assert got == ["create", "start"]
        pyc.ok("rm", "-f", cid)
        assert f.until("destroy")[-1].split()[1] == "destroy"


def test_stream_false_prints_the_log_and_exits(pyc):
    pyc.ok("volume", "create", "v1")
    pyc.ok("volume", "rm", "v1")
    res = pyc.ok("events", "--stream=false", timeout=20)
    lines = res.out.splitlines()
    assert [line.split()[1:4] for line in lines] == [["volume", "create", "v1"],
                                                     ["volume", "destroy", "v1"]]
    assert lines[0].endswith(" (driver=local)")


def test_ten_concurrent_writers_write_ten_whole_lines(pyc):
    procs = [subprocess.Popen(pyc.argv("volume", "create", f"vol{i}"), env=pyc.env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
             for i in range(10)]
    assert [p.wait(60) for p in procs] == [0] * 10
    lines = _log(pyc).read_bytes().split(b"\n")
    assert lines[-1] == b""
    events = [json.loads(line) for line in lines[:-1]]  # every line whole JSON
    assert sorted(e["Actor"]["ID"] for e in events) == sorted(f"vol{i}" for i in range(10))
    assert {(e["Type"], e["Action"]) for e in events} == {("volume", "create")}


def test_a_follower_keeps_going_across_rotations(pyc):
    env = {"PYC_EVENTS_LOGFILE_MAX_SIZE": "1500"}  # a rotation every ~7 events
    with following(pyc, "--format", "{{.Action}} {{.Actor.ID}}", env=env) as f:
        names = [f"rot{i}" for i in range(25)]
        for name in names:
            pyc.ok("volume", "create", name, env=env)
        got = [line.split()[1] for line in f.until("rot24")]
        assert got == names
    log = _log(pyc)
    assert Path(f"{log}.1").exists()
    assert log.stat().st_size < 1500 + 400


def test_a_container_on_a_user_network_connects_and_disconnects(pyc, fixture_refs):
    bb = fixture_refs["busybox"]
    pyc.ok("pull", "-q", bb)
    net_id = pyc.ok("network", "create", "evnet").out.strip()
    cid = pyc.ok("run", "-d", "--network", "evnet", bb, "sleep", "60").out.strip()
    pyc.ok("rm", "-f", cid)
    out = pyc.ok("events", "--stream=false", "--filter", "type=network", "--format",
                 "{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.container}}").out.split("\n")
    assert [line for line in out if line] == [f"create {net_id} <no value>",
                                              f"connect {net_id} {cid}",
                                              f"disconnect {net_id} {cid}"]
