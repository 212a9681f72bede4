"""A user without a delegated cgroup: a requested limit fails plainly, no limit still runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cgroup_support import HOST_READY, _missing

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


NOSUB_USER = os.environ.get("PYC_TEST_NOSUB_USER", "pycnosub")
AS_OTHER_USER = """
from pycontainer.errors import HostError
from pycontainer.linux import cgroups
info = cgroups.detect()
assert not info.can_limit, info
try:
    cgroups.create(info, "nosub", cgroups.Limits(memory=32 * 1024 * 1024))
except HostError as exc:
    print(exc.message)
cgroups.create(info, "nosub").remove()
print("no limits: ok")
"""


def test_a_user_without_a_delegated_cgroup_gets_the_message() -> None:
    # sudo keeps us in the test user's delegated cgroup, which the other user may not write
    prefix = ["sudo", "-n", "-u", NOSUB_USER, "--"]
    probe = subprocess.run([*prefix, "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        _missing(f"cannot run commands as {NOSUB_USER}: {probe.stderr.strip()}", HOST_READY)
    src = str(Path(cgroups.__file__).resolve().parents[2])
    out = subprocess.run([*prefix, sys.executable, "-c", AS_OTHER_USER], capture_output=True,
                         text=True, env={"PYTHONPATH": src}, cwd="/")
    assert out.returncode == 0, out.stderr
    message, ok = out.stdout.splitlines()
    assert "--memory" in message and "pyc system check" in message
    assert ok == "no limits: ok"
