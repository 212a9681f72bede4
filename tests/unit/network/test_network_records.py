"""ops.networks reads the network records without importing network.bridge: the same store."""

from __future__ import annotations

from pathlib import Path

from pycontainer import paths
from pycontainer.network import bridge
from pycontainer.ops import networks


def test_the_records_are_bridges_store(tmp_path: Path) -> None:
    p = paths.resolve(str(tmp_path / "root"), str(tmp_path / "run"))
    assert networks._records(p).root == bridge.store(p).root
    made = networks.create(p, "n1")
    assert [n.name for n in bridge.store(p).networks()] == ["n1"]
    assert made["Name"] == "n1"
