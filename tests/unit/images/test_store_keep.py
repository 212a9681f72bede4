"""Keep files: the build cache's step entries keep blobs and layers from garbage collection."""

from __future__ import annotations

import json
from pathlib import Path

from pycontainer.images.store import ImageStore, keep_refs
from pycontainer.paths import Paths

BLOB, LAYER = "sha256:" + "a" * 64, "sha256:" + "b" * 64


def test_keep_refs_reads_new_and_old_entries_and_ignores_broken_ones(tmp_path: Path) -> None:
    new = tmp_path / "new.json"
    new.write_text(json.dumps({"id": "x", "layers": [{"digest": BLOB}], "diff_ids": [LAYER]}))
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"layers": [{"digest": BLOB}], "config": json.dumps(
        {"rootfs": {"type": "layers", "diff_ids": [LAYER]}})}))
    assert keep_refs(new) == keep_refs(old) == ({BLOB}, {LAYER})
    for text in ("{", "[]", '{"layers": [{}]}', '{"diff_ids": 3}'):
        broken = tmp_path / "broken.json"
        broken.write_text(text)
        assert keep_refs(broken) == (set(), set())
    assert keep_refs(tmp_path / "missing.json") == (set(), set())


def test_referenced_includes_the_build_cache_unless_told_not(tmp_path: Path) -> None:
    paths = Paths(tmp_path, tmp_path / "run", tmp_path / "cfg")
    steps = paths.build_cache / "steps"
    steps.mkdir(parents=True)
    (steps / "k.json").write_text(json.dumps({"layers": [{"digest": BLOB}],
                                              "diff_ids": [LAYER]}))
    (steps / "k.json.tmp").write_text("not an entry")
    store = ImageStore(paths)
    assert store.referenced() == ({BLOB}, {LAYER})
    assert store.referenced(keep_files=False) == (set(), set())
