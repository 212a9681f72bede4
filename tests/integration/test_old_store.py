"""A store written by the previous version (tests/fixtures/old-store, made by pyc at 4703e06
with `volume create oldvol`, `network create oldnet`, `create --name old-created ...` and
`run --name old-exited ...`) is listed, inspected, started and removed by this one.

The fixture's host paths are `@ROOT@` (the store) and `@HOST@` (a bind source); what depends
on this host's image store and subordinate ids (the layer dirs, the id maps) is taken from a
container the current code creates in the same store.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

OLD = Path(__file__).parents[1] / "fixtures" / "old-store" / "root"
CREATED = "cf773a5c3b597f0cbc005afe68e13c890d82983c2f238932cd880cee98dbea32"
EXITED = "878eec752a2e0778c2f03685645e80538ada46a5360aff85a62ea5526d6e73ba"


def _copy_tree(src: Path, dst: Path, subst: dict[str, str]) -> None:
    for path in sorted(src.rglob("*")):
        target = dst / path.relative_to(src)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        text = path.read_text()
        for key, value in subst.items():
            text = text.replace(key, value)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        os.chmod(target, 0o600)


def _adopt_host_facts(config_path: Path, fresh: dict[str, Any]) -> None:
    """The layer dirs and id maps of this host (a fresh container's), the rest as written."""
    config = json.loads(config_path.read_text())
    cid = config["id"]
    plan = {k: (v.replace(fresh["id"], cid) if isinstance(v, str) else v)
            for k, v in fresh["rootfs"].items()}
    config.update(rootfs=plan, uid_map=fresh["uid_map"], gid_map=fresh["gid_map"],
                  single_mapping=fresh["single_mapping"], image_id=fresh["image_id"])
    config_path.write_text(json.dumps(config))


def _install_old_store(pyc: Any, image: str, host_dir: Path) -> None:
    fresh_id = pyc.ok("create", image, "true").out.strip()
    fresh = json.loads((pyc.root / "containers" / fresh_id / "config.json").read_text())
    pyc.ok("rm", fresh_id)
    if fresh["rootfs"].get("driver") == "vfs":
        pytest.skip("the old records name an overlay writable layer; this host uses vfs")
    _copy_tree(OLD, pyc.root, {"@ROOT@": str(pyc.root), "@HOST@": str(host_dir)})
    containers = pyc.root / "containers"
    for cid in (CREATED, EXITED):
        d = containers / cid
        _adopt_host_facts(d / "config.json", fresh)
        for sub in ("storage/diff", "storage/work", "bundle/rootfs"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        (d / "lock").touch()
        name = json.loads((d / "config.json").read_text())["name"]
        os.symlink(cid, containers / "names" / name)
    data = pyc.root / "volumes" / "oldvol" / "_data"
    data.mkdir(parents=True)
    (data / "f").write_text("kept-in-the-volume\n")


def test_a_store_written_by_the_previous_version_works(pyc, fixture_refs, tmp_path):
    image = fixture_refs["busybox"]
    pyc.ok("pull", "-q", image)
    host_dir = tmp_path / "host"
    host_dir.mkdir()
    _install_old_store(pyc, image, host_dir)

    rows = pyc.ok("ps", "-a", "--format", "{{.Names}}|{{.Status}}|{{.Labels}}").lines
    listed = {name: (status, labels) for name, status, labels in (r.split("|") for r in rows)}
    assert sorted(listed) == ["old-created", "old-exited"]
    assert listed["old-created"] == ("Created", "app=old")
    assert listed["old-exited"][0].startswith("Exited (3) ")
    assert listed["old-exited"][1] == "role=exited"

    created, exited = json.loads(pyc.ok("inspect", "old-created", "old-exited").out)
    assert created["Config"]["Labels"] == {"app": "old"}
    assert "FOO=bar" in created["Config"]["Env"]
    assert created["Config"]["WorkingDir"] == "/data"
    assert created["Config"]["Hostname"] == "oldhost"
    assert [(m["Type"], m["Name"], m["Destination"]) for m in created["Mounts"]] == [
        ("volume", "oldvol", "/data")]
    assert exited["State"]["ExitCode"] == 3
    assert exited["HostConfig"]["RestartPolicy"] == {"Name": "on-failure",
                                                      "MaximumRetryCount": 2}
    assert exited["HostConfig"]["Binds"] == [f"{host_dir}:/host:ro"]

    assert pyc.ok("network", "ls", "--format", "{{.Name}}").lines.count("oldnet") == 1
    assert "oldvol" in pyc.ok("volume", "ls", "--format", "{{.Name}}").lines
    assert pyc("volume", "rm", "oldvol").rc != 0  # an old container's spec still mounts it

    out = pyc.ok("start", "-a", "old-created").out
    assert out.splitlines() == ["from-old", "kept-in-the-volume"]
    assert "Exited (0)" in pyc.ok("ps", "-a", "--filter", "name=old-created",
                                  "--format", "{{.Status}}").out

    pyc.ok("rm", "old-created", "old-exited")
    assert pyc.ok("ps", "-aq").out == ""
    pyc.ok("volume", "rm", "oldvol")
    assert not (pyc.root / "containers" / CREATED).exists()
    shutil.rmtree(host_dir)
