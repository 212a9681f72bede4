"""images / tag / rmi / history / image inspect / image exists / image prune."""

from __future__ import annotations

import json
import re

import pytest
from helpers.runner import Pyc


@pytest.fixture
def bb(pyc: Pyc, fixture_refs: dict[str, str]) -> str:
    ref = fixture_refs["busybox"]
    pyc.ok("pull", "-q", ref)
    return ref


def _id(pyc: Pyc, name: str) -> str:
    return str(json.loads(pyc.ok("image", "inspect", name).out)[0]["Id"])


def test_images_table(pyc: Pyc, bb: str) -> None:
    lines = pyc.ok("images").lines
    assert re.split(r"\s{3,}", lines[0]) == ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]
    repo, tag = bb.rsplit(":", 1)
    cols = re.split(r"\s{3,}", lines[1])
    assert cols[:3] == [repo, tag, _id(pyc, bb)[7:19]]
    assert cols[3].endswith("ago") and re.match(r"^[\d.]+[kMG]?B$", cols[4])
    assert pyc.ok("image", "ls").out == pyc.ok("images").out


def test_images_flags(pyc: Pyc, bb: str) -> None:
    full = _id(pyc, bb)
    assert pyc.ok("images", "-q").out == full[7:19] + "\n"
    assert pyc.ok("images", "-q", "--no-trunc").out == full + "\n"
    digests = pyc.ok("images", "--digests").lines
    assert "DIGEST" in digests[0] and "sha256:" in digests[1]
    assert full in pyc.ok("images", "--no-trunc").out
    js = json.loads(pyc.ok("images", "--format", "json").lines[0])
    assert js["Repository"] == bb.rsplit(":", 1)[0] and js["Tag"] == "latest"
    assert pyc.ok("images", "--format", "{{.Repository}}:{{.Tag}}").out == bb + "\n"
    table = pyc.ok("images", "--format", "table {{.ID}}\t{{.Tag}}").lines
    assert re.split(r"\s{3,}", table[0]) == ["IMAGE ID", "TAG"]


def test_images_filters(pyc: Pyc, bb: str) -> None:
    pyc.ok("tag", bb, "local/other:1")
    refs = pyc.ok("images", "--filter", "reference=local/*", "--format", "{{.Repository}}").out
    assert refs == "local/other\n"
    assert pyc.ok("images", "-q", "--filter", "dangling=true").out == ""
    assert pyc.ok("images", "local/other", "--format", "{{.Tag}}").out == "1\n"
    pyc.fail("images", "--filter", "nonsense=1")


def test_tag_and_rmi_untag_before_delete(pyc: Pyc, bb: str) -> None:
    image_id = _id(pyc, bb)
    pyc.ok("tag", bb, "local/a:1")
    pyc.ok("tag", image_id[7:19], "local/b")
    assert _id(pyc, "local/a:1") == _id(pyc, "local/b:latest") == image_id
    res = pyc.ok("rmi", "local/a:1")
    assert res.out == "Untagged: local/a:1\n"
    res = pyc.fail("rmi", image_id[7:19])
    assert "must be forced" in res.err
    res = pyc.ok("rmi", "-f", image_id)
    assert "Untagged: local/b:latest" in res.out and f"Deleted: {image_id}" in res.out
    assert pyc.ok("images", "-q").out == ""
    res = pyc.fail("rmi", "local/a:1")
    assert "No such image: local/a:1" in res.err


def test_rmi_refuses_an_image_a_container_uses(pyc: Pyc, bb: str) -> None:
    image_id = _id(pyc, bb)
    record = pyc.root / "containers" / ("c" * 64)
    record.mkdir(parents=True)
    (record / "config.json").write_text(json.dumps({"image_id": image_id}))
    res = pyc.fail("rmi", bb)
    assert "container cccccccccccc is using its referenced image" in res.err
    res = pyc.ok("rmi", "-f", bb)  # forced: untagged, kept for the container
    assert "Untagged:" in res.out and "Deleted" not in res.out
    assert pyc.ok("image", "inspect", image_id).rc == 0
    assert pyc.ok("image", "prune", "-f", "-a").out.startswith("Total reclaimed space")


def test_inspect_and_exists(pyc: Pyc, bb: str) -> None:
    obj = json.loads(pyc.ok("image", "inspect", bb).out)
    assert isinstance(obj, list) and len(obj) == 1
    for key in ("Id", "RepoTags", "RepoDigests", "Created", "Config", "Architecture", "Os",
                "Size", "RootFS", "Metadata"):
        assert key in obj[0], key
    assert pyc.ok("image", "inspect", "-f", "{{.Os}}/{{.Config.Cmd}}", bb).out == "linux/[sh]\n"
    res = pyc.fail("image", "inspect", "nope:1")
    assert "No such image: nope:1" in res.err
    pyc.ok("image", "exists", bb)
    pyc.fail("image", "exists", "nope:1", rc=1)


def test_history(pyc: Pyc, bb: str) -> None:
    lines = pyc.ok("history", bb).lines
    assert re.split(r"\s{3,}", lines[0])[:4] == ["IMAGE", "CREATED", "CREATED BY", "SIZE"]
    assert lines[1].startswith(_id(pyc, bb)[7:19])
    assert len(lines) >= 4
    assert pyc.ok("history", "-q", bb).lines[0] == _id(pyc, bb)[7:19]


def test_prune_removes_dangling_only(pyc: Pyc, bb: str) -> None:
    res = pyc.ok("image", "prune", "-f")
    assert "Deleted" not in res.out
    pyc.ok("image", "prune", "-f", "-a")
    assert pyc.ok("images", "-q").out == ""


def test_unsupported_flag_is_125_and_named(pyc: Pyc) -> None:
    res = pyc.fail("images", "--no-such-flag")
    assert "--no-such-flag" in res.err


def test_before_and_since_filters(pyc: Pyc, bb: str) -> None:
    import subprocess

    res = subprocess.run(pyc.argv("import", "-", "local/new:1"), input=b"\0" * 1024,
                         env=pyc.env, capture_output=True)
    assert res.returncode == 0, res.stderr
    fmt = ("--format", "{{.Repository}}")
    assert pyc.ok("images", "--filter", f"since={bb}", *fmt).out == "local/new\n"
    assert pyc.ok("images", "--filter", "before=local/new:1", *fmt).out == \
        bb.rsplit(":", 1)[0] + "\n"
