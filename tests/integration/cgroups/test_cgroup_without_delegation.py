"""A user without a delegated cgroup: a requested limit fails plainly, no limit still runs."""

from __future__ import annotations

import pytest

from pycontainer.errors import HostError
from pycontainer.linux import cgroups
from pycontainer.linux.cgroups import Limits


@pytest.mark.parametrize("hierarchy", ["v1", "v2"])
def test_a_limit_without_delegation_is_refused(hierarchy: str) -> None:
    # the root cgroup: there on every host, never writable by an unprivileged user
    info = cgroups.detect(parent_override="/", hierarchy=hierarchy)
    if info.version != hierarchy:
        pytest.skip(f"no cgroup {hierarchy} on this host")
    assert not info.delegated and not info.can_limit
    with pytest.raises(HostError) as exc:
        cgroups.create(info, "nodelegation", Limits(memory=32 * 1024 * 1024))
    assert "--memory" in exc.value.message
    assert "pyc system check" in exc.value.message
    assert exc.value.exit_code == 125
    cg = cgroups.create(info, "nodelegation")  # without limits the container still runs
    assert not cg.enabled
    cg.remove()
