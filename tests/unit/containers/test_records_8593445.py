"""Records written by pyc at 8593445 (tests/fixtures/records-8593445: `run -d` of busybox on
slirp4netns with `-p 127.0.0.1::80 --expose 81 --dns 9.9.9.9 --add-host h1:1.2.3.4 --memory
64m`, and on a user-defined network `fixnet` with `--network-alias al1 -p 127.0.0.1::8080
--pids-limit 50`, with a delegated cgroup v1; each container's config.json, state.json,
network.json and what `inspect` printed) load as typed records and are shown as before."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pycontainer.containers.model import Container, ContainerConfig, ContainerState
from pycontainer.containers.netrecord import Endpoint, NetworkPlan, NetworkState
from pycontainer.containers.store import ContainerStore
from pycontainer.paths import Paths

pytestmark = pytest.mark.unit

RECORDS = Path(__file__).parents[2] / "fixtures" / "records-8593445"
NAMES = ("net-slirp", "net-user")


def _raw(name: str, what: str) -> Any:
    return json.loads((RECORDS / name / f"{what}.json").read_text())


def _store(tmp_path: Path, name: str) -> tuple[ContainerStore, Container]:
    """The records in a store of their own at `@ROOT@` = tmp_path/root (the fixture's)."""
    root = tmp_path / "root"
    paths = Paths(root, tmp_path / "run", tmp_path / "cfg")
    cid = _raw(name, "config")["id"]
    d = root / "containers" / cid
    d.mkdir(parents=True)
    for what in ("config", "state", "network"):
        text = (RECORDS / name / f"{what}.json").read_text().replace("@ROOT@", str(root))
        (d / f"{what}.json").write_text(text)
    store = ContainerStore(paths)
    return store, store.load(cid)


@pytest.mark.parametrize("name", NAMES)
def test_the_network_plan_is_typed_and_saved_as_it_was(name: str) -> None:
    raw = _raw(name, "config")
    cfg = ContainerConfig.from_dict(raw)
    assert isinstance(cfg.network, NetworkPlan)
    assert cfg.to_dict()["network"] == raw["network"]


def test_the_slirp_records() -> None:
    net = ContainerConfig.from_dict(_raw("net-slirp", "config")).network
    assert net is not None
    assert (net.kind, net.values, net.publish, net.exposed) == (
        "slirp4netns", [], ["127.0.0.1::80"], ["81/tcp"])
    assert net.dns == ["9.9.9.9"] and net.add_hosts == [["h1", "1.2.3.4"]]
    state = NetworkState.from_dict(_raw("net-slirp", "network"))
    assert state.kind == "slirp4netns" and state.ip == "10.0.2.100"
    assert state.slirp["api_socket"] == "/tmp/pyc-1001/ec576fb05ba3.sock"
    assert state.ports == [{"host_ip": "127.0.0.1", "host_port": 32829, "container_port": 80,
                            "protocol": "tcp"}]
    assert state.networks == {} and state.published == []


def test_the_user_network_records() -> None:
    net = ContainerConfig.from_dict(_raw("net-user", "config")).network
    assert net is not None
    assert (net.kind, net.networks, net.aliases) == ("user", ["fixnet"], ["al1"])
    assert net.user_networks == ["fixnet"]
    raw = _raw("net-user", "network")
    state = NetworkState.from_dict(raw)
    assert state.networks == {"fixnet": Endpoint("10.89.0.2", "02:42:0a:59:00:02")}
    assert state.published == [{"id": 1, "protocol": "tcp", "host_port": 39147}]
    again = state.to_dict()
    assert {k: again[k] for k in raw} == raw


def test_no_network_record_is_a_container_from_before_networking() -> None:
    raw = _raw("net-slirp", "config")
    cfg = ContainerConfig.from_dict({**raw, "network": {}})
    assert cfg.network is None and cfg.to_dict()["network"] == {}
    # a partial record (what a test or an older version wrote): its `values` stay unknown
    part = NetworkPlan.from_dict({"networks": ["planned"], "from_the_future": 1,
                                  "dns": None})
    assert part.values is None and part.kind == "" and part.networks == ["planned"]
    assert part.dns == [] and part.user_networks == []
    assert NetworkState.from_dict({"networks": {"n": {"ip": "1.2.3.4"}}}).networks == {
        "n": Endpoint("1.2.3.4", "")}


@pytest.mark.parametrize("name", NAMES)
def test_inspect_shows_the_old_records_as_the_old_code_did(tmp_path: Path, name: str) -> None:
    from pycontainer.ops import inspect

    store, c = _store(tmp_path, name)
    got = inspect.to_docker(store, c)
    old = json.loads((RECORDS / name / "inspect.json").read_text().replace(
        "@ROOT@", str(tmp_path / "root")))[0]
    for key in ("HostConfig", "GraphDriver", "Driver", "Config", "Mounts"):
        assert got[key] == old[key], key
    if name == "net-slirp":  # a user network's endpoints live in the network store
        assert got["NetworkSettings"] == old["NetworkSettings"]
    else:
        assert got["NetworkSettings"]["Ports"] == old["NetworkSettings"]["Ports"]


@pytest.mark.parametrize("name", NAMES)
def test_the_rootfs_plan_is_typed_and_saved_as_it_was(name: str) -> None:
    from pycontainer.oci.rootfs import RootfsPlan
    from pycontainer.storage.driver import RootfsPlan as StorageRootfsPlan

    raw = _raw(name, "config")
    cfg = ContainerConfig.from_dict(raw)
    assert isinstance(cfg.rootfs, RootfsPlan) and StorageRootfsPlan is RootfsPlan
    assert cfg.rootfs.driver == "overlay" and len(cfg.rootfs.lowers) == 3
    assert cfg.rootfs.diff_dir == f"@ROOT@/containers/{raw['id']}/storage/diff"
    assert cfg.to_dict()["rootfs"] == raw["rootfs"]
    # a record whose create stopped before the plan, and one from the old constructor form
    assert ContainerConfig.from_dict({**raw, "rootfs": {}}).rootfs is None
    assert ContainerConfig.from_dict({**raw, "rootfs": {}}).to_dict()["rootfs"] == {}
    assert RootfsPlan.from_dict({"upper": "/u", "lowers": None, "new": 1}) == RootfsPlan(
        "vfs", [], "/u")


@pytest.mark.parametrize("name", NAMES)
def test_the_cgroup_record_is_typed_and_saved_as_it_was(name: str) -> None:
    from pycontainer.linux.cgroup_container import ContainerCgroup
    from pycontainer.linux.cgroup_record import CgroupRecord

    raw = _raw(name, "state")
    st = ContainerState.from_dict(raw)
    assert isinstance(st.cgroup, CgroupRecord) and st.cgroup.version == "v1"
    cid = _raw(name, "config")["id"]
    assert st.cgroup.dirs["memory"].endswith(f"/pyc/{cid}") and len(st.cgroup.dirs) == 7
    assert st.to_dict()["cgroup"] == raw["cgroup"]
    cg = ContainerCgroup.from_record(st.cgroup)
    assert cg.enabled and cg.record() == st.cgroup and cg.to_dict() == raw["cgroup"]
    # no cgroup (no limits, no delegation): `{}` on disk, the no-op cgroup in code
    none = ContainerState.from_dict({**raw, "cgroup": {}})
    assert none.cgroup is None and none.to_dict()["cgroup"] == {}
    assert not ContainerCgroup.from_record(None).enabled
    assert ContainerState.from_dict({"status": "running"}).cgroup is None


def test_loading_a_containers_state_imports_no_cgroup_code() -> None:
    import subprocess
    import sys

    # (a guard: `ps` and `run --rm` load states and must not pay for the cgroup code)
    code = ("import sys, pycontainer.containers.store; "
            "print('pycontainer.linux.cgroup_container' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"
