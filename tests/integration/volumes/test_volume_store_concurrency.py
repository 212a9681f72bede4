"""The volume store with real concurrent processes and content owned by subordinate ids."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pycontainer.linux import userns
from pycontainer.volumes import VolumeStore

CREATE = """
import json, sys
from pathlib import Path
from pycontainer.volumes import VolumeStore
store = VolumeStore(Path(sys.argv[1]))
sys.stdin.read(2)  # start together
vols = [store.create(name) for name in sys.argv[2:]]
print(json.dumps([[v.name, v.created_at] for v in vols]))
"""


def test_concurrent_creates_of_one_name_make_one_volume(tmp_path: Path) -> None:
    root = tmp_path / "volumes"
    names = ["shared", "other"]
    procs = [subprocess.Popen([sys.executable, "-c", CREATE, str(root), *names],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for _ in range(8)]
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go")
        p.stdin.close()
    results = []
    for p in procs:
        assert p.stdout is not None
        out = p.stdout.read()
        assert p.wait(timeout=60) == 0
        results.append(json.loads(out))
    # every process got the same record: the first create's, returned by all the others
    assert all(r == results[0] for r in results)
    store = VolumeStore(root)
    assert [v.name for v in store.list()] == ["other", "shared"]
    assert sorted(os.listdir(root)) == [".lock", "other", "shared"]
    assert sorted(os.listdir(root / "shared")) == ["_data", "volume.json"]


def test_remove_deletes_content_owned_by_subordinate_ids(tmp_path: Path) -> None:
    mapping = userns.default_mapping()
    if mapping.single:
        pytest.skip("this user has no subordinate ids")
    store = VolumeStore(tmp_path / "volumes", mapping)
    vol = store.create("pgdata")

    def as_postgres() -> int:  # what a container running as uid 999 leaves behind
        private = vol.mountpoint / "pgdata"
        private.mkdir(mode=0o700)
        (private / "PG_VERSION").write_text("16")
        os.chown(private / "PG_VERSION", 999, 999)
        os.chown(private, 999, 999)
        return 0

    assert userns.run_in_userns(as_postgres, mapping) == 0
    assert os.stat(vol.mountpoint / "pgdata").st_uid != os.getuid()
    store.remove("pgdata")
    assert not vol.path.exists()
    assert not list(store.root.glob(".trash-*"))
