"""Where a layer is unpacked: a temp dir whose block group creates files cheaply."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pycontainer.images import layers


def test_a_hot_placement_is_retried_and_the_rejects_removed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    costs = iter([900_000, 700_000, 12_000])
    monkeypatch.setattr(layers, "_create_cost", lambda d: next(costs))
    chosen = layers.make_layer_dir(tmp_path)
    assert os.listdir(tmp_path) == [chosen.name] and chosen.name.startswith(".tmp-")
    assert os.listdir(chosen) == []


def test_all_hot_takes_the_cheapest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    costs = iter([900_000, 300_000, 700_000, 800_000])
    made: list[Path] = []

    def cost(d: Path) -> int:
        made.append(d)
        return next(costs)
    monkeypatch.setattr(layers, "_create_cost", cost)
    assert layers.make_layer_dir(tmp_path) == made[1]
    assert os.listdir(tmp_path) == [made[1].name]


def test_the_probe_leaves_the_dir_empty(tmp_path: Path) -> None:
    assert layers._create_cost(tmp_path) > 0
    assert os.listdir(tmp_path) == []
