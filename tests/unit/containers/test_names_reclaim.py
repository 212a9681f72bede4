"""containers.store: a name taken by a `create` that died before its records is reclaimed;
one whose create is still running (its lock held) or finished is not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pycontainer import paths as paths_mod
from pycontainer.containers.model import ContainerConfig, ContainerState
from pycontainer.containers.store import ContainerStore
from pycontainer.errors import Conflict
from pycontainer.oci.convert import ContainerSpec

A, B = "a" * 64, "b" * 64


@pytest.fixture
def store(tmp_path: Path) -> ContainerStore:
    s = ContainerStore(paths_mod.resolve(str(tmp_path / "root"), str(tmp_path / "run")))
    s.ensure()
    return s


def _killed_create(store: ContainerStore, cid: str, name: str) -> None:
    store.claim_dirs(cid).release()  # released: as when the creating process died
    store.reserve_name(name, cid)


def test_a_killed_creates_name_and_dir_are_reclaimed(store: ContainerStore) -> None:
    _killed_create(store, A, "web")
    store.reserve_name("web", B)
    assert os.readlink(store.root / "names" / "web") == B
    assert not store.dir(A).exists()


def test_a_name_whose_create_is_running_is_taken(store: ContainerStore) -> None:
    lock = store.claim_dirs(A)
    store.reserve_name("web", A)
    with pytest.raises(Conflict, match=f'"/web" is already in use by container "{A}"'):
        store.reserve_name("web", B)
    assert store.dir(A).is_dir()
    lock.release()


def test_a_created_containers_name_is_taken(store: ContainerStore) -> None:
    lock = store.claim_dirs(A)
    store.reserve_name("web", A)
    store.create(ContainerConfig(A, "web", "2026-01-01T00:00:00Z", "img", "sha256:x",
                                 ContainerSpec(), {}),
                 ContainerState())
    lock.release()
    with pytest.raises(Conflict):
        store.reserve_name("web", B)
    assert store.resolve("web") == A


def test_sweep_unfinished_removes_dead_creates_only(store: ContainerStore) -> None:
    _killed_create(store, A, "dead")
    lock = store.claim_dirs(B)
    store.reserve_name("alive", B)
    assert store.sweep_unfinished() == [A]
    assert not store.dir(A).exists() and not os.path.lexists(store.root / "names" / "dead")
    assert store.dir(B).is_dir() and os.readlink(store.root / "names" / "alive") == B
    lock.release()
