"""cgroup discovery and container cgroups against fake cgroup trees (plain directories).

The kernel's behaviour (limits enforced, freezing, killing) is tested for real in
tests/integration/cgroups; here the logic: which directory is chosen, what is written where.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pycontainer.errors import HostError, UsageError
from pycontainer.linux import cgroups
from pycontainer.linux.cgroup_container import ContainerCgroup
from pycontainer.linux.cgroups import CgroupInfo, Limits

M = 1024 * 1024


def fake_v2_cgroup(path: Path, controllers: str = "cpu memory pids") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "cgroup.controllers").write_text(controllers + "\n")
    (path / "cgroup.procs").write_text("")
    (path / "cgroup.subtree_control").write_text("")
    return path


def test_v2_uses_the_topmost_delegated_ancestor(tmp_path: Path) -> None:
    # like systemd: user@1000.service (no processes) > app.slice > the scope pyc runs in
    mount = tmp_path / "cg"
    (mount / "user.slice").mkdir(parents=True)  # not delegated: no control files
    service = fake_v2_cgroup(mount / "user.slice/user@1000.service")
    fake_v2_cgroup(service / "app.slice")
    fake_v2_cgroup(service / "app.slice/run-1.scope")
    info = cgroups._detect_v2(str(mount), "/user.slice/user@1000.service/app.slice/run-1.scope",
                              None)
    assert info.version == "v2"
    assert info.parent == str(service)
    assert info.delegated == {c: str(service) for c in ("cpu", "memory", "pids")}
    assert info.can_limit


def test_v2_without_delegation_says_so(tmp_path: Path) -> None:
    mount = tmp_path / "cg"
    (mount / "session.scope").mkdir(parents=True)
    info = cgroups._detect_v2(str(mount), "/session.scope", None)
    assert info.delegated == {} and info.parent == ""
    assert "not delegated to this user" in info.reason
    assert not info.can_limit


def test_v2_override_names_the_parent(tmp_path: Path) -> None:
    mount = tmp_path / "cg"
    fake_v2_cgroup(mount / "mine", controllers="memory")
    info = cgroups._detect_v2(str(mount), "/elsewhere", "/mine")
    assert info.parent == str(mount / "mine")
    assert info.delegated == {"memory": str(mount / "mine")}


def test_v1_takes_each_controllers_own_cgroup(tmp_path: Path) -> None:
    mounts, own = {}, {}
    for ctrl in ("memory", "pids"):
        base = tmp_path / ctrl / "pyc-test"
        base.mkdir(parents=True)
        (base / "cgroup.procs").write_text("")
        mounts[ctrl] = str(tmp_path / ctrl)
        own[ctrl] = "/pyc-test"
    mounts["cpu"] = str(tmp_path / "cpu")  # present on the host, not delegated
    (tmp_path / "cpu").mkdir()
    own["cpu"] = "/missing"
    info = cgroups._detect_v1(mounts, own, None)
    assert info.delegated == {"memory": str(tmp_path / "memory/pyc-test"),
                              "pids": str(tmp_path / "pids/pyc-test")}
    assert info.unusable == ["cpu"]


NO_CGROUPS = CgroupInfo("v1", reason="cgroup v1 without a subtree delegated to this user")


def test_a_limit_without_a_cgroup_is_a_host_error() -> None:
    with pytest.raises(HostError) as exc:
        cgroups.create(NO_CGROUPS, "c1", Limits(memory=32 * M))
    assert "--memory" in exc.value.message
    assert "without a subtree delegated" in exc.value.message
    assert "pyc system check" in exc.value.message


def test_warn_mode_runs_without_the_limit() -> None:
    cg = cgroups.create(NO_CGROUPS, "c1", Limits(memory=32 * M, pids_limit=5), on_missing="warn")
    assert not cg.enabled
    assert len(cg.warnings) == 1 and "--memory, --pids-limit" in cg.warnings[0]


def test_no_limits_and_no_cgroups_is_a_no_op_cgroup() -> None:
    cg = cgroups.create(NO_CGROUPS, "c1")
    assert not cg.enabled
    cg.add(12345)  # nothing to move into
    assert cg.stats() == {} and not cg.oom_killed()
    cg.kill_all()
    cg.remove()
    with pytest.raises(HostError, match="freezer"):
        cg.freeze()


@pytest.mark.parametrize("bad", ["", "../x", "a/b", ".hidden"])
def test_container_ids_cannot_escape(bad: str) -> None:
    with pytest.raises(UsageError):
        cgroups.create(NO_CGROUPS, bad)


def test_create_and_remove_v1_dirs(tmp_path: Path) -> None:
    info = CgroupInfo("v1", delegated={"memory": str(tmp_path / "memory"),
                                       "pids": str(tmp_path / "pids")})
    for d in info.delegated.values():
        Path(d).mkdir()
    cg = cgroups.create(info, "c1")
    assert cg.dirs == {"memory": str(tmp_path / "memory/pyc/c1"),
                       "pids": str(tmp_path / "pids/pyc/c1")}
    assert all(Path(d).is_dir() for d in cg.dirs.values())
    cg.remove()
    assert not (tmp_path / "memory/pyc").exists() and (tmp_path / "memory").is_dir()


def test_record_round_trip() -> None:
    cg = ContainerCgroup("v2", {"": "/sys/fs/cgroup/x/pyc/c1"})
    again = ContainerCgroup.from_dict(cg.to_dict())
    assert (again.version, again.dirs) == ("v2", cg.dirs)


def test_a_failed_create_removes_what_it_made(tmp_path: Path) -> None:
    # memory is created first (sorted), then pids fails: its base is missing
    info = CgroupInfo("v1", delegated={"memory": str(tmp_path / "memory"),
                                       "pids": str(tmp_path / "pids" / "missing")})
    (tmp_path / "memory").mkdir()
    with pytest.raises(Exception):  # noqa: B017 - whatever the failure, nothing may remain
        cgroups.create(info, "c1")
    assert os.listdir(tmp_path / "memory") == []


def test_remove_takes_nested_cgroups_first(tmp_path: Path) -> None:
    cg = ContainerCgroup("v2", {"": str(tmp_path / "pyc" / "c1")})
    (tmp_path / "pyc" / "c1" / "init.scope" / "deeper").mkdir(parents=True)
    cg.remove()
    assert not (tmp_path / "pyc").exists()


def test_v2_outside_the_user_service_points_to_systemd_run(tmp_path: Path) -> None:
    # an ssh login: the session scope is root's, user@UID.service is the user's
    mount = tmp_path / "cg"
    user_slice = mount / f"user.slice/user-{os.getuid()}.slice"
    (user_slice / "session-1.scope").mkdir(parents=True)
    fake_v2_cgroup(user_slice / f"user@{os.getuid()}.service")
    own = f"/user.slice/user-{os.getuid()}.slice/session-1.scope"
    info = cgroups._detect_v2(str(mount), own, None)
    assert not info.delegated
    assert "systemd-run --user --scope" in info.reason


def test_v2_enable_error_explains_the_no_internal_process_rule() -> None:
    import errno

    msg = cgroups._enable_error("/cg/mine", "memory", OSError(errno.EBUSY, "busy"))
    assert "has processes of its own" in msg and "pyc system check" in msg
