"""containers.lifecycle: every (from, to) pair against the table."""

from __future__ import annotations

import itertools

import pytest

from pycontainer.containers.lifecycle import DOCKER_STATE, TRANSITIONS, Status, transition
from pycontainer.errors import InvalidTransition

PAIRS = list(itertools.product(Status, Status))


@pytest.mark.parametrize(("current", "to"), PAIRS, ids=[f"{a.value}->{b.value}" for a, b in PAIRS])
def test_transition_follows_the_table(current, to):
    if to in TRANSITIONS[current]:
        assert transition("c", current, to, "act") == to
    else:
        with pytest.raises(InvalidTransition) as info:
            transition("c", current, to, "act")
        assert info.value.exit_code == 125
        assert DOCKER_STATE[current] in str(info.value)


def test_every_status_has_a_docker_name():
    assert set(DOCKER_STATE) == set(Status)
    assert set(DOCKER_STATE.values()) <= {"created", "running", "paused", "exited", "removing"}


def test_removal_is_final():
    assert TRANSITIONS[Status.REMOVING] == frozenset({Status.REMOVING})
