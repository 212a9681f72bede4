"""`pyc volume create|ls|inspect|rm|prune|exists` as the unprivileged user: Docker's output,
exit codes, and the in-use rule (a container whose config mounts the volume)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pycontainer.oci.convert import ContainerSpec
from pycontainer.ops.volumes import volume_names_of
from pycontainer.volumes.store import ANONYMOUS_LABEL, VolumeStore

HEX64 = re.compile(r"^[0-9a-f]{64}$")


@pytest.fixture
def bb(pyc, fixture_refs) -> str:
    pyc.ok("pull", "-q", fixture_refs["busybox"])
    return fixture_refs["busybox"]


def _mount_volume(pyc, bb: str, volume: str, how: str = "source") -> str:
    """A container whose config mounts `volume`, as `run -v NAME:/data` records it."""
    cid = pyc.ok("create", bb, "true").out.strip()
    config_path = pyc.root / "containers" / cid / "config.json"
    config = json.loads(config_path.read_text())
    mount = {"destination": "/data", "type": "bind", "options": ["rbind"]}
    if how == "source":
        mount["source"] = str(pyc.root / "volumes" / volume / "_data")
    else:
        mount["volume"] = volume
    config["spec"]["mounts"] = [mount]
    config_path.write_text(json.dumps(config))
    return cid


# --- create / ls ---------------------------------------------------------------------------


def test_create_prints_the_name_and_is_idempotent(pyc):
    assert pyc.ok("volume", "create", "data1").out == "data1\n"
    assert pyc.ok("volume", "create", "data1").out == "data1\n"
    assert pyc.ok("volume", "create", "--name", "data2").out == "data2\n"
    assert pyc.ok("volume", "ls", "-q").lines == ["data1", "data2"]


def test_create_without_a_name_is_a_named_volume(pyc):
    name = pyc.ok("volume", "create").out.strip()
    assert HEX64.match(name)
    labels = pyc.ok("volume", "inspect", "-f", "{{json .Labels}}", name).out.strip()
    assert labels == "null"  # not anonymous: `prune` without -a keeps it
    pyc.ok("volume", "prune", "-f")
    pyc.ok("volume", "exists", name)


def test_ls_default_table(pyc):
    assert pyc.ok("volume", "ls").out == "DRIVER    VOLUME NAME\n"
    for name in ("v10", "v2", "alpha"):
        pyc.ok("volume", "create", name)
    assert pyc.ok("volume", "ls").out == (
        "DRIVER    VOLUME NAME\n"
        "local     alpha\n"
        "local     v2\n"
        "local     v10\n"
    )


def test_ls_formats_and_filters(pyc):
    pyc.ok("volume", "create", "--label", "app=web", "--label", "tier", "web")
    pyc.ok("volume", "create", "db")
    out = pyc.ok("volume", "ls", "--format", "json").lines
    rows = [json.loads(line) for line in out]
    assert [r["Name"] for r in rows] == ["db", "web"]
    assert sorted(rows[1]) == ["Availability", "Driver", "Group", "Labels", "Links",
                               "Mountpoint", "Name", "Scope", "Size", "Status"]
    assert rows[1]["Driver"] == "local" and rows[1]["Links"] == "N/A"
    assert rows[1]["Mountpoint"] == str(pyc.root / "volumes" / "web" / "_data")
    fmt = '{{.Name}} {{.Label "app"}} {{.Scope}}'
    assert pyc.ok("volume", "ls", "--format", fmt).lines == ["db  local", "web web local"]
    assert pyc.ok("volume", "ls", "-q", "--filter", "label=app=web").lines == ["web"]
    assert pyc.ok("volume", "ls", "-q", "--filter", "label=tier").lines == ["web"]
    assert pyc.ok("volume", "ls", "-q", "-f", "name=d").lines == ["db"]
    assert pyc.ok("volume", "ls", "-q", "-f", "driver=local").lines == ["db", "web"]
    table = pyc.ok("volume", "ls", "--format", "table {{.Name}}\t{{.Mountpoint}}").lines
    assert table[0].split() == ["VOLUME", "NAME", "MOUNTPOINT"]
    err = pyc.fail("volume", "ls", "--filter", "colour=red").err
    assert "Error: invalid filter 'colour'" in err
    pyc.fail("volume", "ls", "--filter", "dangling=maybe")
    pyc.fail("volume", "ls", "--filter", "novalue")


def test_create_errors_are_125(pyc):
    err = pyc.fail("volume", "create", "a/b").err
    assert "includes invalid characters for a local volume name" in err
    assert "not supported" in pyc.fail("volume", "create", "-d", "nfs", "x1").err
    assert 'invalid option key: "size"' in pyc.fail("volume", "create", "-o", "size=1", "x2").err
    assert "--group" in pyc.fail("volume", "create", "--group", "g", "x3").err
    assert "conflicting options" in pyc.fail("volume", "create", "--name", "a1", "b1").err
    assert pyc.ok("volume", "ls", "-q").out == ""


# --- inspect / exists ----------------------------------------------------------------------


def test_inspect_is_a_json_array_with_dockers_keys(pyc):
    pyc.ok("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "--label", "k=v", "v1")
    objs = json.loads(pyc.ok("volume", "inspect", "v1").out)
    assert len(objs) == 1
    v = objs[0]
    assert list(v) == ["CreatedAt", "Driver", "Labels", "Mountpoint", "Name", "Options",
                       "Scope"]
    assert v["Name"] == "v1" and v["Driver"] == "local" and v["Scope"] == "local"
    assert v["Labels"] == {"k": "v"} and v["Options"] == {"type": "tmpfs", "device": "tmpfs"}
    assert Path(v["Mountpoint"]).is_dir()
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$", v["CreatedAt"])
    assert pyc.ok("volume", "inspect", "-f", "{{.Name}}:{{.Driver}}", "v1").out == "v1:local\n"
    compact = pyc.ok("volume", "inspect", "--format", "json", "v1").out
    assert compact.startswith('[{"CreatedAt":') and json.loads(compact)[0]["Name"] == "v1"


def test_inspect_of_a_missing_volume(pyc):
    pyc.ok("volume", "create", "here")
    res = pyc.fail("volume", "inspect", "here", "gone")
    assert [o["Name"] for o in json.loads(res.out)] == ["here"]
    assert res.err == "Error: No such volume: gone\n"
    res = pyc.fail("volume", "inspect", "gone")
    assert res.out == "[]\n"
    assert "Nope" in pyc.fail("volume", "inspect", "-f", "{{.Nope}}", "here").err


def test_exists(pyc):
    pyc.ok("volume", "create", "there")
    assert pyc("volume", "exists", "there").rc == 0
    res = pyc("volume", "exists", "nothere")
    assert res.rc == 1 and res.out == "" and res.err == ""


# --- rm ------------------------------------------------------------------------------------


def test_rm_prints_each_name_and_reports_missing_ones(pyc):
    for name in ("r1", "r2"):
        pyc.ok("volume", "create", name)
    res = pyc.fail("volume", "rm", "r1", "missing", "r2")
    assert res.lines == ["r1", "r2"]
    assert res.err == "Error: No such volume: missing\n"
    assert pyc.ok("volume", "ls", "-q").out == ""
    assert pyc.ok("volume", "rm", "-f", "missing").out == ""
    assert not (pyc.root / "volumes" / "r1").exists()


@pytest.mark.parametrize("how", ["source", "volume"])
def test_rm_is_refused_while_a_container_uses_the_volume(pyc, bb, how):
    pyc.ok("volume", "create", "busy")
    cid = _mount_volume(pyc, bb, "busy", how)
    for args in (("rm",), ("rm", "-f")):
        err = pyc.fail("volume", *args, "busy").err
        assert err == f"Error: remove busy: volume is in use - [{cid}]\n"
    assert pyc.ok("volume", "ls", "-q", "--filter", "dangling=true").out == ""
    assert pyc.ok("volume", "ls", "-q", "--filter", "dangling=false").lines == ["busy"]
    assert "busy" not in pyc.ok("volume", "prune", "-af").out
    pyc.ok("rm", cid)
    assert pyc.ok("volume", "ls", "-q", "--filter", "dangling=true").lines == ["busy"]
    assert pyc.ok("volume", "rm", "busy").out == "busy\n"


# --- prune ---------------------------------------------------------------------------------


def _anonymous(pyc, size: int = 0) -> str:
    vol = VolumeStore(pyc.root / "volumes").create(None)
    assert ANONYMOUS_LABEL in vol.labels
    if size:
        (vol.mountpoint / "blob").write_bytes(b"x" * size)
    return vol.name


def test_prune_removes_anonymous_volumes_only_unless_all(pyc):
    pyc.ok("volume", "create", "named")
    anon = _anonymous(pyc, 100_000)
    res = pyc.ok("volume", "prune", "-f")
    lines = res.lines
    assert lines[:3] == ["Deleted Volumes:", anon, ""]
    assert re.match(r"^Total reclaimed space: \d+(\.\d+)?kB$", lines[3]), res.out
    assert len(lines) == 4
    assert pyc.ok("volume", "ls", "-q").lines == ["named"]
    assert pyc.ok("volume", "prune", "-f").out == "Total reclaimed space: 0B\n"
    assert pyc.ok("volume", "prune", "-f", "--all").lines == [
        "Deleted Volumes:", "named", "", "Total reclaimed space: 0B"]


def test_prune_asks_first(pyc):
    anon = _anonymous(pyc)
    res = pyc.ok("volume", "prune")  # stdin is empty: no answer is no
    assert res.out == ("WARNING! This will remove anonymous local volumes not used by at least "
                       "one container.\nAre you sure you want to continue? [y/N] ")
    res = pyc.ok("volume", "prune", "-a", input="n\n")
    assert "remove all local volumes" in res.out and "Deleted" not in res.out
    assert pyc.ok("volume", "ls", "-q").lines == [anon]
    res = pyc.ok("volume", "prune", input="y\n")
    assert f"Deleted Volumes:\n{anon}\n" in res.out
    assert pyc.ok("volume", "ls", "-q").out == ""


def test_prune_filters(pyc):
    pyc.ok("volume", "create", "--label", "keep=yes", "kept")
    pyc.ok("volume", "create", "--label", "keep=no", "gone")
    pyc.ok("volume", "create", "other")
    assert pyc.ok("volume", "prune", "-f", "--filter", "all=true", "--filter",
                  "label=keep").lines[:3] == ["Deleted Volumes:", "gone", "kept"]
    assert pyc.ok("volume", "ls", "-q").lines == ["other"]
    pyc.ok("volume", "create", "--label", "keep=yes", "kept")
    assert pyc.ok("volume", "prune", "-af", "--filter", "label!=keep=yes").lines[:2] == [
        "Deleted Volumes:", "other"]
    assert pyc.ok("volume", "ls", "-q").lines == ["kept"]
    assert "conflicting options" in pyc.fail("volume", "prune", "-af", "--filter",
                                             "all=1").err
    assert "invalid filter 'name'" in pyc.fail("volume", "prune", "-f", "--filter",
                                               "name=x").err
    assert pyc.fail("volume", "prune", "--filter", "name=x").out == ""  # before the prompt


# --- the in-use rule, as a function --------------------------------------------------------


def test_volume_names_of_a_container_spec(tmp_path):
    root = tmp_path / "volumes"
    spec = {"mounts": [
        {"destination": "/a", "type": "bind", "source": str(root / "one" / "_data")},
        {"destination": "/b", "type": "bind", "source": str(root / "two" / "_data" / "sub")},
        {"destination": "/c", "type": "bind", "source": "/home/user/src"},
        {"destination": "/d", "type": "bind", "source": str(root / ".trash-x")},
        {"destination": "/e", "type": "tmpfs", "source": "tmpfs"},
        {"destination": "/f", "type": "bind", "source": "/x", "volume": "three"},
    ]}
    assert volume_names_of(ContainerSpec.from_dict(spec), root) == {"one", "two", "three"}
    assert volume_names_of(ContainerSpec(), root) == set()
