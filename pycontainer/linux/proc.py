"""Processes: liveness that survives pid reuse, signal names, and reading /proc."""

from __future__ import annotations

import os
import signal

from pycontainer.errors import UsageError


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/PID/stat)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    # The command name may contain spaces and parentheses: split after the last ')'.
    fields = data[data.rfind(b")") + 2 :].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rfind(b")") + 2 :].split()[0].decode()


def alive(pid: int, started: int | None = None) -> bool:
    """True if `pid` runs and (when `started` is given) is the same process as before."""
    if pid <= 0:
        return False
    st = state(pid)
    if st is None or st in ("Z", "X"):
        return False
    return started is None or start_time(pid) == started


def parse_signal(value: str | int) -> int:
    """`9`, `KILL`, `SIGKILL`, `sigterm` -> the signal number (Docker's accepted forms)."""
    if isinstance(value, int):
        return value
    text = value.strip().upper()
    if text.isdigit():
        num = int(text)
        if 0 < num < signal.NSIG:
            return num
        raise UsageError(f"invalid signal: {value}")
    if not text.startswith("SIG"):
        text = "SIG" + text
    try:
        return int(getattr(signal.Signals, text))
    except AttributeError:
        if text.startswith("SIGRTMIN+") and text[9:].isdigit():
            return int(signal.SIGRTMIN) + int(text[9:])
        raise UsageError(f"invalid signal: {value}") from None


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def kill(pid: int, sig: int, started: int | None = None) -> bool:
    """Signal `pid` unless it has exited or been replaced; True if the signal was sent."""
    if not alive(pid, started):
        return False
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return False
    return True
