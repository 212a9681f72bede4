"""ops.restarts: `--restart` parsing, Docker's restart decision and its backoff, as tables.

Docker's rules (docs: "Restart policies", the Engine API's RestartPolicy, moby's
restartmanager): `no` never restarts; `always` and `unless-stopped` restart whatever the exit
status unless the user stopped the container; `on-failure[:N]` restarts on a non-zero status,
at most N times (0: no limit). Before each restart a delay, 100 ms doubling up to one minute,
back to 100 ms once a run lasted 10 s or more.
"""

from __future__ import annotations

import os
import signal

import pytest

from pycontainer.containers.lifecycle import Status
from pycontainer.containers.model import Container, ContainerConfig, ContainerState
from pycontainer.errors import UsageError
from pycontainer.oci.convert import ContainerSpec
from pycontainer.ops import restarts


def _container(policy: str | None, **state: object) -> Container:
    spec = {} if policy is None else {"restart": policy}
    cfg = ContainerConfig("a" * 64, "web", "2026-01-01T00:00:00Z", "img", "sha256:x",
                          ContainerSpec.from_dict(spec), {})
    return Container(cfg, ContainerState(**state))  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "expected"), [
    (None, ("no", 0)),
    ("", ("no", 0)),
    ("no", ("no", 0)),
    ("always", ("always", 0)),
    ("unless-stopped", ("unless-stopped", 0)),
    ("on-failure", ("on-failure", 0)),
    ("on-failure:0", ("on-failure", 0)),  # Docker: 0 means no limit
    ("on-failure:5", ("on-failure", 5)),
    (" always ", ("always", 0)),
])
def test_parse_policy(text: str | None, expected: tuple[str, int]) -> None:
    assert restarts.parse_policy(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("sometimes", "invalid restart policy 'sometimes'"),
    ("Always", "invalid restart policy 'Always'"),  # names are case-sensitive, as Docker's
    ("always:3", "maximum retry count can only be used with 'on-failure'"),
    ("unless-stopped:1", "maximum retry count can only be used with 'on-failure'"),
    ("no:1", "maximum retry count can only be used with 'on-failure'"),
    ("on-failure:x", "maximum retry count must be an integer"),
    ("on-failure:-1", "maximum retry count cannot be negative"),
])
def test_parse_policy_refuses(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as info:
        restarts.parse_policy(text)
    assert info.value.exit_code == 125
    assert "\n" not in str(info.value)


def test_a_broken_stored_policy_means_no_restart() -> None:
    assert restarts.policy_of(_container("bogus:policy")) == ("no", 0)
    assert restarts.policy_of(_container(None)) == ("no", 0)


EXITED = Status.EXITED
#: (policy, status, exit code, stopped by the user, restarts so far) -> restart?
DECISIONS = [
    ("no", EXITED, 1, False, 0, False),
    ("no", EXITED, 0, False, 0, False),
    ("always", EXITED, 0, False, 0, True),
    ("always", EXITED, 137, False, 7, True),
    ("always", EXITED, 0, True, 0, False),  # `stop`: not restarted
    ("unless-stopped", EXITED, 0, False, 0, True),
    ("unless-stopped", EXITED, 2, True, 0, False),
    ("on-failure", EXITED, 0, False, 0, False),  # success: never
    ("on-failure", EXITED, 1, False, 0, True),
    ("on-failure", EXITED, 1, False, 100, True),  # no limit
    ("on-failure", EXITED, 1, True, 0, False),
    ("on-failure:3", EXITED, 1, False, 2, True),
    ("on-failure:3", EXITED, 1, False, 3, False),  # the third retry was the last
    ("on-failure:3", EXITED, 0, False, 0, False),
    ("always", Status.RUNNING, 0, False, 0, False),  # only an exited container restarts
    ("always", Status.CONFIGURED, 0, False, 0, False),
    ("always", Status.REMOVING, 0, False, 0, False),
]


@pytest.mark.parametrize(("policy", "status", "code", "by_user", "count", "expected"),
                         DECISIONS)
def test_should_restart(policy: str, status: Status, code: int, by_user: bool, count: int,
                        expected: bool) -> None:
    c = _container(policy, status=status, exit_code=code, stopped_by_user=by_user,
                   restart_count=count)
    assert restarts.should_restart(c) is expected


def _ran(c: Container, seconds: float) -> None:
    from pycontainer.formats.timestamps import rfc3339

    c.state.started_at = rfc3339(1_700_000_000 * 10**9)
    c.state.finished_at = rfc3339(int((1_700_000_000 + seconds) * 10**9))


def test_backoff_doubles_from_100ms_up_to_a_minute() -> None:
    c = _container("always", status=EXITED)
    delays = []
    for _ in range(12):
        _ran(c, 1.0)
        delays.append(restarts.mark(c))
    assert delays == [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 51.2, 60.0, 60.0]
    assert c.state.restarting and c.state.restart_pid == os.getpid()
    assert c.state.restart_delay == 60.0


@pytest.mark.parametrize(("ran", "expected"), [(9.9, 1.6), (10.0, 0.1), (3600.0, 0.1)])
def test_backoff_resets_after_a_run_of_10s(ran: float, expected: float) -> None:
    c = _container("always", status=EXITED, restart_delay=0.8)
    _ran(c, ran)
    assert restarts.mark(c) == pytest.approx(expected)


def test_backoff_without_times_keeps_doubling() -> None:
    c = _container("always", status=EXITED, restart_delay=0.4)  # no started/finished stamps
    assert restarts.mark(c) == pytest.approx(0.8)


def test_cancel(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[int, int]] = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: sent.append((pid, sig)))
    idle = _container("always", status=EXITED)
    assert restarts.cancel(idle) is False
    assert not idle.state.stopped_by_user and sent == []

    waiting = _container("always", status=EXITED, restarting=True, restart_pid=4242)
    assert restarts.cancel(waiting) is True
    st = waiting.state
    assert (st.restarting, st.restart_pid, st.stopped_by_user) == (False, 0, True)
    assert not restarts.should_restart(waiting)  # and the exit is the user's
    assert sent == [(4242, signal.SIGTERM)]  # the sleeping exit command ends

    mine = _container("always", status=EXITED, restarting=True, restart_pid=os.getpid())
    assert restarts.cancel(mine) is True
    assert sent == [(4242, signal.SIGTERM)]  # never itself

