"""`pyc inspect`: Docker's JSON shape, --format templates, image fallback."""

from __future__ import annotations

import json

import pytest


@pytest.fixture(scope="module")
def ctr(shared_pyc, fixture_refs):
    shared_pyc.ok("pull", "-q", fixture_refs["busybox"])
    shared_pyc("run", "--name", "insp", "-e", "A=1", "-l", "k=v", fixture_refs["busybox"],
                  "sh", "-c", "exit 5")
    yield "insp"
    shared_pyc("rm", "-f", "insp")


def test_inspect_is_an_array_with_docker_keys(shared_pyc, ctr):
    data = json.loads(shared_pyc.ok("inspect", ctr).out)
    assert isinstance(data, list) and len(data) == 1
    obj = data[0]
    for key in ("Id", "Created", "Path", "Args", "State", "Image", "ResolvConfPath",
                "HostnamePath", "HostsPath", "LogPath", "Name", "RestartCount", "Driver",
                "HostConfig", "GraphDriver", "Mounts", "Config", "NetworkSettings"):
        assert key in obj, key
    assert obj["Name"] == "/insp"
    assert obj["Path"] == "sh" and obj["Args"] == ["-c", "exit 5"]
    state = obj["State"]
    assert state["Status"] == "exited" and state["ExitCode"] == 5
    assert state["Running"] is False and state["OOMKilled"] is False
    assert "A=1" in obj["Config"]["Env"]
    assert obj["Config"]["Labels"]["k"] == "v"


@pytest.mark.parametrize(("fmt", "expected"), [
    ("{{.State.ExitCode}}", "5"),
    ("{{.State.Status}}", "exited"),
    ("{{.Name}}", "/insp"),
    ("{{index .Config.Labels \"k\"}}", "v"),
    ("{{.State.Running}}", "false"),
])
def test_inspect_format(shared_pyc, ctr, fmt, expected):
    assert shared_pyc.ok("inspect", "-f", fmt, ctr).out.strip() == expected


def test_container_inspect_and_missing(shared_pyc, ctr):
    assert json.loads(shared_pyc.ok("container", "inspect", ctr).out)[0]["Name"] == "/insp"
    res = shared_pyc.fail("inspect", "no-such-thing", rc=1)
    assert "no-such-thing" in res.err


def test_inspect_falls_back_to_images(shared_pyc, fixture_refs, ctr):
    res = shared_pyc("inspect", fixture_refs["busybox"])
    if res.rc != 0:
        pytest.skip("image inspect is not available")
    obj = json.loads(res.out)[0]
    assert obj["Id"].startswith("sha256:")
