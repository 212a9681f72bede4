"""containers.lifecycle: every (from, to) pair against a legality table written out here.

The expected table is not read from `TRANSITIONS`: a change to the state machine has to be
made in both places, on purpose. Docker's rules behind it: a container that never ran or
has exited may start again or be removed; only a running one pauses or stops; a paused one
resumes, stops (Docker unpauses it first) or is force-removed; removal is final.
(`tests/unit/containers/test_container_verbs.py` checks the verbs built on it.)
"""

from __future__ import annotations

import itertools

import pytest

from pycontainer.containers.lifecycle import ACTIVE, DOCKER_STATE, Status, transition
from pycontainer.errors import InvalidTransition

S = Status
# rows: from; columns: to. Y allowed, . refused
COLUMNS = (S.CONFIGURED, S.CREATED, S.RUNNING, S.PAUSED, S.STOPPING, S.EXITED, S.REMOVING)
LEGAL = {
    #              conf  crea  run   paus  stop  exit  remo
    S.CONFIGURED: ".     Y     Y     .     .     Y     Y",
    S.CREATED:    ".     .     Y     .     Y     Y     Y",
    S.RUNNING:    ".     .     .     Y     Y     Y     Y",
    S.PAUSED:     ".     .     Y     .     Y     Y     Y",
    S.STOPPING:   ".     .     .     .     Y     Y     Y",
    S.EXITED:     ".     Y     Y     .     .     .     Y",
    S.REMOVING:   ".     .     .     .     .     .     Y",
}
EXPECTED = {(src, dst): mark == "Y" for src, row in LEGAL.items()
            for dst, mark in zip(COLUMNS, row.split(), strict=True)}
PAIRS = list(itertools.product(Status, Status))


def test_the_table_covers_every_pair():
    assert set(EXPECTED) == set(PAIRS)


@pytest.mark.parametrize(("current", "to"), PAIRS, ids=[f"{a.value}->{b.value}" for a, b in PAIRS])
def test_transition_is_allowed_exactly_as_expected(current, to):
    if EXPECTED[(current, to)]:
        assert transition("web", current, to, "act") == to
    else:
        with pytest.raises(InvalidTransition) as info:
            transition("web", current, to, "act")
        assert info.value.exit_code == 125
        # Docker's words: the verb, the container and the state Docker would show
        assert str(info.value) == f"cannot act container web: container state is " \
                                  f"{DOCKER_STATE[current]}"
        assert (info.value.current, info.value.action) == (DOCKER_STATE[current], "act")


@pytest.mark.parametrize(("status", "docker"), [
    (S.CONFIGURED, "created"), (S.CREATED, "created"), (S.RUNNING, "running"),
    (S.PAUSED, "paused"), (S.STOPPING, "running"), (S.EXITED, "exited"),
    (S.REMOVING, "removing"),
])
def test_docker_shows_its_own_state_names(status, docker):
    assert DOCKER_STATE[status] == docker


def test_active_states_are_those_with_a_process():
    assert frozenset({S.CREATED, S.RUNNING, S.PAUSED, S.STOPPING}) == ACTIVE
