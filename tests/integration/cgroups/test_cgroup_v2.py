"""cgroup v2's core features (no controller needed): moving, freezing, cgroup.kill, removal.

On a hybrid host the v2 hierarchy has no controllers, so limits are tested on v1; where a v2
hierarchy with controllers is delegated, the limit tests of v1 apply unchanged to it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import pytest
from cgroup_support import COUNTER, Child, MakeCgroup, count

from pycontainer.errors import HostError
from pycontainer.linux import cgroups
from pycontainer.linux.cgroups import CgroupInfo, Limits


def test_freeze_thaw_and_kill_on_v2(v2_cgroup: MakeCgroup, child: Callable[[str], Child]) -> None:
    cg = v2_cgroup()
    assert cg.version == "v2" and list(cg.dirs) == [""]
    c = child(COUNTER)
    cg.add(c.pid)
    c.go()
    count(c)
    assert cg.procs() == {c.pid}
    cg.freeze()
    assert cg.frozen()
    stopped = count(c)
    time.sleep(0.3)
    assert count(c) == stopped
    cg.thaw()
    time.sleep(0.3)
    assert count(c) > stopped
    assert cg.stats()["cpu"]["usage_ns"] > 0
    cg.kill_all()
    assert c.wait() == -9
    cg.remove()
    assert not os.path.exists(cg.dirs[""])


def test_v2_limit_without_the_controller_is_refused(v2_info: CgroupInfo) -> None:
    missing = {"memory", "pids"} - set(v2_info.delegated)
    if not missing:
        pytest.skip("this v2 subtree has the memory and pids controllers")
    limits = Limits(memory=32 * 1024 * 1024) if "memory" in missing else Limits(pids_limit=5)
    with pytest.raises(HostError, match="pyc system check"):
        cgroups.create(v2_info, "nolimit", limits)
    assert not os.path.exists(os.path.join(v2_info.parent, "pyc", "nolimit"))
