"""The pure parts of pods: --share parsing, Podman's pod status, the records' round trip,
and the store's names, lookup and removal (on a temp dir, no namespaces)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pycontainer.errors import Conflict, PodNotFound, UsageError
from pycontainer.paths import Paths
from pycontainer.pods.model import PodConfig, PodState, parse_share, status
from pycontainer.pods.store import PodStore


@pytest.mark.parametrize(("value", "want"), [
    (None, ["net", "ipc", "uts"]),
    ("none", []),
    ("net", ["net"]),
    ("uts,net", ["net", "uts"]),
    ("+ipc", ["net", "ipc", "uts"]),
])
def test_parse_share(value: str | None, want: list[str]) -> None:
    assert parse_share(value) == want


@pytest.mark.parametrize("value", ["pid", "cgroup", "bogus", "net,mnt"])
def test_parse_share_refuses(value: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_share(value)
    assert value.split(",")[-1] in err.value.message


@pytest.mark.parametrize(("infra", "containers", "want"), [
    ("created", [], "Created"),
    (None, [], "Created"),
    ("created", ["created"], "Created"),
    ("running", [], "Running"),
    ("running", ["running", "running"], "Running"),
    ("running", ["running", "exited"], "Degraded"),
    ("exited", ["running"], "Degraded"),
    ("running", ["paused", "paused"], "Paused"),
    ("running", ["paused", "exited"], "Degraded"),
    ("exited", ["exited", "exited"], "Exited"),
    ("exited", [], "Exited"),
    (None, ["exited", "created"], "Exited"),
    (None, ["running"], "Running"),
])
def test_status(infra: str | None, containers: list[str], want: str) -> None:
    assert status(infra, containers) == want


def test_records_round_trip_and_ignore_unknown_keys() -> None:
    cfg = PodConfig(id="a" * 64, name="p", created="2026-01-01T00:00:00.000000000Z",
                    labels={"k": "v"}, publish=["8080:80"])
    again = PodConfig.from_dict(json.loads(json.dumps({**cfg.to_dict(), "later": 1})))
    assert again == cfg
    assert cfg.shares("net") and not PodConfig("b" * 64, "q", "", infra=False).shares("net")
    st = PodState(infra_pid=5, infra_started=7, slirp={"pid": 9}, ports=[{"host_port": 1}])
    assert PodState.from_dict(json.loads(json.dumps(st.to_dict()))) == st
    assert PodState.from_dict({"ports": None}) == PodState()


def _store(tmp_path: Path) -> PodStore:
    s = PodStore(Paths(tmp_path / "data", tmp_path / "run", tmp_path / "cfg"))
    s.ensure()
    return s


def _make(store: PodStore, pod_id: str, name: str) -> None:
    lock = store.begin(pod_id)
    store.reserve_name(name, pod_id)
    store.create(PodConfig(pod_id, name, "2026"), PodState())
    lock.release()


def test_store_names_lookup_and_delete(tmp_path: Path) -> None:
    store = _store(tmp_path)
    a, b = "ab" + "0" * 62, "ac" + "0" * 62
    _make(store, a, "one")
    _make(store, b, "two")
    assert store.resolve("one") == a and store.resolve(b) == b and store.resolve("ab") == a
    with pytest.raises(Conflict):
        store.resolve("a")  # ambiguous prefix
    with pytest.raises(Conflict) as err:
        store.reserve_name("one", "f" * 64)
    assert "already in use" in err.value.message
    with pytest.raises(UsageError):
        store.reserve_name("-bad", "f" * 64)
    assert sorted(store.ids()) == [a, b]
    store.delete(store.load(a))
    with pytest.raises(PodNotFound):
        store.resolve("one")
    assert store.ids() == [b]
    assert sorted(p.name for p in store.root.iterdir()) == [b, "names"]
    _make(store, "d" * 64, "one")  # the name is free again
    assert store.resolve("one") == "d" * 64


def test_store_reclaims_a_name_whose_pod_is_gone(tmp_path: Path) -> None:
    store = _store(tmp_path)
    (store.root / "names" / "ghost").symlink_to("e" * 64)  # a killed create's
    _make(store, "1" * 64, "ghost")
    assert store.resolve("ghost") == "1" * 64


def test_store_name_of_a_create_under_way_is_taken(tmp_path: Path) -> None:
    store = _store(tmp_path)
    lock = store.begin("3" * 64)
    store.reserve_name("busy", "3" * 64)
    with pytest.raises(Conflict):
        store.reserve_name("busy", "4" * 64)
    lock.release()  # a create killed here: its name is reclaimed
    _make(store, "4" * 64, "busy")
    assert store.resolve("busy") == "4" * 64
    assert not (store.root / (".new-" + "3" * 64)).exists()


def test_store_files_are_private(tmp_path: Path) -> None:
    store = _store(tmp_path)
    _make(store, "2" * 64, "priv")
    assert (store.dir("2" * 64).stat().st_mode & 0o777) == 0o700
    assert ((store.dir("2" * 64) / "config.json").stat().st_mode & 0o777) == 0o600
