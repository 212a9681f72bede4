"""The named-volume store on a temporary directory: records, Docker's rules and filters."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from pycontainer.errors import Conflict, UsageError, VolumeNotFound
from pycontainer.volumes import VolumeStore, inspect_json
from pycontainer.volumes.store import ANONYMOUS_LABEL


@pytest.fixture
def store(tmp_path: Path) -> VolumeStore:
    return VolumeStore(tmp_path / "volumes")


def test_create_lays_out_docker_style(store: VolumeStore) -> None:
    vol = store.create("pgdata", labels={"app": "db"}, options={"type": "tmpfs"})
    assert vol.mountpoint == store.root / "pgdata" / "_data"
    assert vol.mountpoint.is_dir()
    record = json.loads((store.root / "pgdata" / "volume.json").read_text())
    assert record["Name"] == "pgdata" and record["Anonymous"] is False
    assert inspect_json(vol) == {
        "CreatedAt": vol.created_at, "Driver": "local", "Labels": {"app": "db"},
        "Mountpoint": str(vol.mountpoint), "Name": "pgdata", "Options": {"type": "tmpfs"},
        "Scope": "local",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)", vol.created_at)


def test_inspect_prints_null_for_no_labels_or_options(store: VolumeStore) -> None:
    doc = inspect_json(store.create("plain"))
    assert doc["Labels"] is None and doc["Options"] is None


def test_create_is_idempotent(store: VolumeStore) -> None:
    first = store.create("data")
    (first.mountpoint / "keep").write_text("x")
    again = store.create("data", labels={"ignored": "1"})
    assert again == first
    assert (again.mountpoint / "keep").read_text() == "x"


def test_anonymous_volumes_get_a_random_name_and_docker_label(store: VolumeStore) -> None:
    vol = store.create()
    assert re.fullmatch(r"[0-9a-f]{64}", vol.name)
    assert vol.anonymous and vol.labels == {ANONYMOUS_LABEL: ""}
    assert store.get(vol.name) == vol


@pytest.mark.parametrize(("name", "message"), [
    ("a", "volume name is too short"),
    ("-x", "includes invalid characters"),
    ("a/b", "includes invalid characters"),
    ("..", "includes invalid characters"),
    ("/abs", "use absolute path"),
], ids=["short", "leading-dash", "slash", "dotdot", "absolute"])
def test_invalid_names_are_refused(store: VolumeStore, name: str, message: str) -> None:
    with pytest.raises(UsageError) as exc:
        store.create(name)
    assert message in exc.value.message


def test_unknown_option_or_driver_is_refused(store: VolumeStore) -> None:
    with pytest.raises(UsageError, match='invalid option key: "size"'):
        store.create("v1", options={"size": "1g"})
    with pytest.raises(UsageError, match="only \"local\""):
        store.create("v1", driver="nfs")


def test_get_a_missing_volume(store: VolumeStore) -> None:
    with pytest.raises(VolumeNotFound, match="No such volume: nope"):
        store.get("nope")
    assert not store.exists("nope")


def test_a_half_created_volume_is_invisible_then_completed(store: VolumeStore) -> None:
    (store.root / "crashed" / "_data").mkdir(parents=True)  # no volume.json: never committed
    assert store.list() == []
    assert not store.exists("crashed")
    assert store.create("crashed").name == "crashed"
    assert [v.name for v in store.list()] == ["crashed"]


@pytest.fixture
def populated(store: VolumeStore) -> VolumeStore:
    store.create("web-data", labels={"app": "web", "tier": "front"})
    store.create("db-data", labels={"app": "db"})
    store.create("cache")
    return store


IN_USE = {"web-data"}.__contains__


@pytest.mark.parametrize(("filters", "names"), [
    ({}, ["cache", "db-data", "web-data"]),
    ({"name": ["data"]}, ["db-data", "web-data"]),
    ({"name": ["cache", "db"]}, ["cache", "db-data"]),
    ({"label": ["app"]}, ["db-data", "web-data"]),
    ({"label": ["app=db"]}, ["db-data"]),
    ({"label": ["app"], "name": ["web"]}, ["web-data"]),
    ({"dangling": ["true"]}, ["cache", "db-data"]),
    ({"dangling": ["false"]}, ["web-data"]),
    ({"driver": ["local"]}, ["cache", "db-data", "web-data"]),
], ids=["all", "name-part", "names-or", "label-key", "label-value", "keys-and",
        "dangling", "in-use", "driver"])
def test_list_filters(populated: VolumeStore, filters: dict[str, list[str]],
                      names: list[str]) -> None:
    assert [v.name for v in populated.list(filters, in_use=IN_USE)] == names


@pytest.mark.parametrize("filters", [{"colour": ["red"]}, {"dangling": ["maybe"]}])
def test_list_refuses_unknown_filters(store: VolumeStore, filters: dict[str, list[str]]) -> None:
    with pytest.raises(UsageError, match="invalid filter"):
        store.list(filters)


def test_remove_deletes_record_and_content(store: VolumeStore) -> None:
    vol = store.create("gone")
    (vol.mountpoint / "sub").mkdir()
    (vol.mountpoint / "sub" / "file").write_text("x")
    store.remove("gone")
    assert not vol.path.exists()
    assert sorted(os.listdir(store.root)) == [".lock"]


def test_remove_is_refused_while_in_use(store: VolumeStore) -> None:
    store.create("busy")
    with pytest.raises(Conflict, match="remove busy: volume is in use$"):
        store.remove("busy", in_use=True)
    with pytest.raises(Conflict, match=r"volume is in use - \[abc123\]"):
        store.remove("busy", users=["abc123"])
    assert store.exists("busy")


def test_remove_missing(store: VolumeStore) -> None:
    with pytest.raises(VolumeNotFound, match="No such volume: nope"):
        store.remove("nope")
    store.remove("nope", force=True)


def test_prune_removes_unused_anonymous_volumes(store: VolumeStore) -> None:
    named = store.create("named")
    unused, busy = store.create(), store.create()
    (unused.mountpoint / "blob").write_bytes(b"x" * 8192)
    report = store.prune(in_use_names=[busy.name])
    assert report.removed == [unused.name]
    assert report.reclaimed >= 8192
    assert {v.name for v in store.list()} == {named.name, busy.name}


def test_prune_all_includes_named_volumes(store: VolumeStore) -> None:
    store.create("named")
    store.create("kept")
    report = store.prune(in_use_names=["kept"], all_volumes=True)
    assert report.removed == ["named"]
    assert [v.name for v in store.list()] == ["kept"]


def test_prune_honours_filters(store: VolumeStore) -> None:
    store.create("a1", labels={"x": "1"})
    store.create("a2")
    assert store.prune([], all_volumes=True, filters={"label": ["x"]}).removed == ["a1"]


def test_copy_up_happens_once(store: VolumeStore) -> None:
    vol = store.create("etc")
    assert store.needs_copy_up(vol)
    done = store.mark_copied(vol)
    assert done.copied_up and not store.needs_copy_up(done)
    assert not store.needs_copy_up(store.get("etc"))  # persisted
    assert store.create("etc").copied_up


def test_a_volume_with_content_needs_no_copy_up(store: VolumeStore) -> None:
    vol = store.create("filled")
    (vol.mountpoint / "mine").write_text("x")
    assert not store.needs_copy_up(vol)
