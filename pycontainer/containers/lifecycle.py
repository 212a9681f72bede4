"""The container state machine: one table of legal transitions, one function that applies it.

States are Podman's vocabulary; Docker shows fewer (see DOCKER_STATE).
"""

from __future__ import annotations

from enum import StrEnum

from pycontainer.errors import InvalidTransition


class Status(StrEnum):
    CONFIGURED = "configured"  # record and bundle exist; never started (Docker: created)
    CREATED = "created"  # the runtime created the process; not yet exec'd
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"  # stop signal sent, not yet exited
    EXITED = "exited"
    REMOVING = "removing"


S = Status
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.CONFIGURED: frozenset({S.CREATED, S.RUNNING, S.REMOVING, S.EXITED}),
    S.CREATED: frozenset({S.RUNNING, S.EXITED, S.REMOVING, S.STOPPING}),
    S.RUNNING: frozenset({S.PAUSED, S.STOPPING, S.EXITED, S.REMOVING}),
    S.PAUSED: frozenset({S.RUNNING, S.STOPPING, S.EXITED, S.REMOVING}),
    S.STOPPING: frozenset({S.EXITED, S.STOPPING, S.REMOVING}),
    S.EXITED: frozenset({S.CREATED, S.RUNNING, S.REMOVING}),
    S.REMOVING: frozenset({S.REMOVING}),
}

#: Docker has no separate "configured" or "stopping": a stopping container still runs, and a
#: container that never ran is "created". Scripts compare `.State.Status` with these names.
DOCKER_STATE = {
    S.CONFIGURED: "created", S.CREATED: "created", S.RUNNING: "running", S.PAUSED: "paused",
    S.STOPPING: "running", S.EXITED: "exited", S.REMOVING: "removing",
}

ACTIVE = frozenset({S.CREATED, S.RUNNING, S.PAUSED, S.STOPPING})


def transition(container: str, current: Status, to: Status, action: str) -> Status:
    """Return `to` if the table allows current -> to, else raise InvalidTransition."""
    if to not in TRANSITIONS[current]:
        raise InvalidTransition(container, DOCKER_STATE[current], action)
    return to
