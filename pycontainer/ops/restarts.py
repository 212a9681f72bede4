"""Restart policies (`--restart`), run by the supervisor's exit command.

There is no daemon: when a container with a policy exits, its supervisor records the exit
and runs its exit command (`pyc container cleanup ID`, Podman's design), which decides with
Docker's rules, marks the container "restarting", sleeps Docker's backoff (100 ms, doubling,
back to 100 ms after a run of 10 s or more) and starts it again. `stop`/`kill`/`rm -f`
clear the mark (and end the sleeping process), so it is not started. After a reboot nothing
restarts: no process is left to do it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time

from pycontainer.containers.lifecycle import Status
from pycontainer.containers.model import Container
from pycontainer.errors import UsageError

FIRST_DELAY = 0.1
MAX_DELAY = 60.0
RESET_AFTER = 10.0
POLICIES = ("no", "always", "unless-stopped", "on-failure")


def parse_policy(text: str | None) -> tuple[str, int]:
    """`no|always|unless-stopped|on-failure[:N]` -> (name, maximum retries; 0: no limit)."""
    text = (text or "no").strip()
    name, _, count = text.partition(":")
    if name not in POLICIES:
        raise UsageError(f"invalid restart policy '{text}'")
    if count and name != "on-failure":
        raise UsageError(f"invalid restart policy '{text}': maximum retry count can only be "
                         "used with 'on-failure'")
    try:
        retries = int(count) if count else 0
    except ValueError:
        raise UsageError(f"invalid restart policy '{text}': maximum retry count must be an "
                         "integer") from None
    if retries < 0:
        raise UsageError("invalid restart policy: maximum retry count cannot be negative")
    return name, retries


def policy_of(c: Container) -> tuple[str, int]:
    try:
        return parse_policy(c.config.spec.restart)
    except UsageError:
        return "no", 0


def should_restart(c: Container) -> bool:
    name, retries = policy_of(c)
    st = c.state
    if name == "no" or st.status != Status.EXITED or st.stopped_by_user:
        return False
    if name == "on-failure":
        return st.exit_code != 0 and (retries == 0 or st.restart_count < retries)
    return True  # always, unless-stopped


def _seconds(ts: str) -> float | None:
    from pycontainer.formats.timestamps import parse_rfc3339

    try:
        return parse_rfc3339(ts) if isinstance(ts, str) else None
    except UsageError:
        return None


def mark(c: Container) -> float:
    """Mark `c` restarting (by this process); the delay to sleep first."""
    st = c.state
    started, finished = _seconds(st.started_at), _seconds(st.finished_at)
    ran = (finished - started) if started is not None and finished is not None else 0.0
    if ran >= RESET_AFTER or st.restart_delay <= 0:
        delay = FIRST_DELAY
    else:
        delay = min(st.restart_delay * 2, MAX_DELAY)
    st.restarting = True
    st.restart_pid = os.getpid()
    st.restart_delay = delay
    return delay


def cancel(c: Container) -> bool:
    """Clear a pending restart (stop, kill, rm -f); True if there was one."""
    st = c.state
    if not st.restarting:
        return False
    pid, st.restarting, st.restart_pid = st.restart_pid, False, 0
    st.stopped_by_user = True
    if pid and pid != os.getpid():
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    return True


def sleep(delay: float) -> None:
    time.sleep(delay)
