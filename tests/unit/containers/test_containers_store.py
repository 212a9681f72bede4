"""containers.store: name index, id resolution, records and sync from supervisor files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pycontainer import paths as paths_mod
from pycontainer.containers.lifecycle import Status
from pycontainer.containers.model import ContainerConfig, ContainerState
from pycontainer.containers.store import ContainerStore
from pycontainer.errors import Conflict, ContainerNotFound, UsageError
from pycontainer.oci.convert import ContainerSpec


@pytest.fixture
def store(tmp_path: Path) -> ContainerStore:
    s = ContainerStore(paths_mod.resolve(str(tmp_path / "root"), str(tmp_path / "run")))
    s.ensure()
    return s


def _add(store: ContainerStore, cid: str, name: str, state: ContainerState | None = None) -> None:
    store.reserve_name(name, cid)
    store.make_dirs(cid)
    cfg = ContainerConfig(cid, name, "2026-01-01T00:00:00Z", "img", "sha256:x", ContainerSpec(),
                          {})
    store.create(cfg, state or ContainerState())


def test_names_are_unique(store):
    _add(store, "a" * 64, "web")
    with pytest.raises(Conflict, match="already in use"):
        store.reserve_name("web", "b" * 64)
    with pytest.raises(UsageError):
        store.reserve_name("bad name", "b" * 64)


def test_resolve_by_id_prefix_and_name(store):
    _add(store, "ab" + "0" * 62, "one")
    _add(store, "ac" + "0" * 62, "two")
    assert store.resolve("one") == "ab" + "0" * 62
    assert store.resolve("/two") == "ac" + "0" * 62
    assert store.resolve("ab") == "ab" + "0" * 62
    with pytest.raises(Conflict):
        store.resolve("a")
    with pytest.raises(ContainerNotFound):
        store.resolve("three")


def test_records_round_trip_and_removal(store):
    cid = "c" * 64
    _add(store, cid, "rt", ContainerState(Status.EXITED, exit_code=3))
    c = store.load(cid)
    assert c.name == "rt" and c.state.exit_code == 3 and c.state.docker_status == "exited"
    store.remove_records(c)
    assert not store.exists("rt") and not store.dir(cid).exists()


def test_sync_reads_the_exit_file(store):
    cid = "d" * 64
    _add(store, cid, "s", ContainerState(Status.RUNNING, pid=2**22, supervisor_pid=2**22))
    run = store.run_dir(cid)
    run.mkdir(parents=True)
    (run / "exit.json").write_text(json.dumps({"exitCode": 137, "finishedAt": "t"}))
    c = store.load(cid)
    assert store.sync(c)
    assert c.state.status == Status.EXITED and c.state.exit_code == 137


def test_sync_notices_a_dead_supervisor(store):
    cid = "e" * 64
    _add(store, cid, "dead", ContainerState(Status.RUNNING, pid=2**22 - 1,
                                            supervisor_pid=2**22 - 1))
    c = store.load(cid)
    assert store.sync(c)
    assert c.state.status == Status.EXITED and "supervisor" in c.state.error


def test_sync_reads_an_exit_file_written_while_it_looked(store, monkeypatch):
    """The supervisor writes exit.json and exits between sync's first look and its check of
    the supervisor's pid: the record wins, never 255 'the supervisor died'."""
    from pycontainer.containers import store as store_mod

    cid = "f" * 64
    _add(store, cid, "racy", ContainerState(Status.RUNNING, pid=2**22 - 2,
                                            supervisor_pid=2**22 - 2))
    run = store.run_dir(cid)
    run.mkdir(parents=True)
    real_read = store_mod._read
    looks = []

    def read(path):
        if path.name == "exit.json":
            looks.append(path)
            if len(looks) == 1:  # the first look: not written yet; then it is
                (run / "exit.json").write_text(json.dumps({"exitCode": 0, "finishedAt": "t"}))
                return None
        return real_read(path)

    monkeypatch.setattr(store_mod, "_read", read)
    c = store.load(cid)
    assert store.sync(c)
    assert (c.state.status, c.state.exit_code, c.state.error) == (Status.EXITED, 0, "")


def test_sync_picks_up_a_start_the_cli_did_not_see(store):
    cid = "f" * 64
    _add(store, cid, "orphan", ContainerState(Status.CREATED, supervisor_pid=os.getpid()))
    run = store.run_dir(cid)
    run.mkdir(parents=True)
    (run / "pid.json").write_text(json.dumps({"pid": os.getpid(), "supervisor": os.getpid(),
                                              "startedAt": "now"}))
    c = store.load(cid)
    assert store.sync(c)
    assert c.state.status == Status.RUNNING and c.state.pid == os.getpid()
