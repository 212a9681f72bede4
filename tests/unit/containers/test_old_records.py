"""Records written by the previous version (tests/fixtures/old-store, made by pyc at 4703e06:
`create` and `run` of busybox, a volume, a network) load as typed records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pycontainer.containers.lifecycle import Status
from pycontainer.containers.model import ContainerConfig, ContainerState
from pycontainer.oci.convert import ContainerSpec

pytestmark = pytest.mark.unit

OLD = Path(__file__).parents[2] / "fixtures" / "old-store" / "root" / "containers"
CREATED = "cf773a5c3b597f0cbc005afe68e13c890d82983c2f238932cd880cee98dbea32"
EXITED = "878eec752a2e0778c2f03685645e80538ada46a5360aff85a62ea5526d6e73ba"


def _load(cid: str) -> tuple[ContainerConfig, ContainerState]:
    d = OLD / cid
    return (ContainerConfig.from_dict(json.loads((d / "config.json").read_text())),
            ContainerState.from_dict(json.loads((d / "state.json").read_text())))


def test_an_old_created_containers_spec_is_typed() -> None:
    cfg, st = _load(CREATED)
    assert isinstance(cfg.spec, ContainerSpec)
    assert cfg.name == "old-created" and st.status == Status.CONFIGURED
    assert cfg.spec.labels == {"app": "old"}
    assert cfg.spec.env == ["FOO=bar"]
    assert cfg.spec.workdir == "/data" and cfg.spec.hostname == "oldhost"
    assert cfg.spec.command == ["sh", "-c", "echo from-old; cat /data/f 2>/dev/null; true"]
    assert cfg.spec.entrypoint is None
    assert [m["volume"] for m in cfg.spec.mounts] == ["oldvol"]
    assert cfg.spec.limits == {}


def test_an_old_exited_containers_records() -> None:
    cfg, st = _load(EXITED)
    assert st.status == Status.EXITED and st.exit_code == 3
    assert cfg.spec.restart == "on-failure:2"
    assert cfg.spec.labels == {"role": "exited"}
    assert cfg.spec.mounts[0]["type"] == "bind" and cfg.spec.mounts[0]["options"] == [
        "rbind", "ro"]
    assert cfg.network is not None and cfg.network.networks == ["oldnet"]


def test_a_record_saved_again_keeps_every_key_the_old_one_had() -> None:
    raw = json.loads((OLD / CREATED / "config.json").read_text())
    again = ContainerConfig.from_dict(raw).to_dict()
    assert set(raw) <= set(again)
    # every key the old spec had, with its value; fields added since take their defaults
    assert {k: again["spec"][k] for k in raw["spec"]} == raw["spec"]
    assert again["spec"]["console_size"] == []


def test_unknown_keys_are_ignored_and_missing_ones_defaulted() -> None:
    spec = ContainerSpec.from_dict({"image": "x", "tty": True, "from_the_future": 1,
                                    "env": None})
    assert spec.image == "x" and spec.tty is True
    assert spec.env == [] and spec.mounts == []
    # a record from before the limit flags has `resources` only (ops.limits reads those)
    assert spec.limits is None
    assert ContainerSpec.from_dict({"limits": {"memory": 1}}).limits == {"memory": 1}
