"""Stop order: services grouped by dependency depth, the deepest stopping first."""

from __future__ import annotations

from pycontainer.compose import graph
from pycontainer.ops.compose_verbs import _depths


def test_depths_follow_the_longest_dependency_chain() -> None:
    services: dict[str, dict[str, object]] = {
        "web": {}, "db": {}, "cache": {"depends_on": ["db"]},
        "worker": {"depends_on": {"db": {"condition": "service_healthy"}, "cache": {}}},
        "proxy": {"depends_on": ["web"]},
    }
    depth = _depths(services, graph.order(services))
    assert depth == {"web": 0, "db": 0, "cache": 1, "proxy": 1, "worker": 2}
