"""`pyc version` and `pyc info` answer the template fields Docker scripts ask for."""

from __future__ import annotations

import json

from helpers.runner import Pyc


def test_version_has_a_server_half_scripts_can_ask(pyc: Pyc) -> None:
    res = pyc.ok("version", "--format", "{{.Server.Version}}|{{.Client.APIVersion}}|"
                 "{{.Server.APIVersion}}|{{.Server.Os}}")
    version, api, server_api, os_name = res.out.strip().split("|")
    assert version and api == server_api and os_name == "linux"
    data = json.loads(pyc.ok("version", "--format", "json").out)
    assert data["Client"]["ApiVersion"] == api and "APIVersion" not in data["Client"]
    assert data["Server"]["Components"][0]["Name"] == "Engine"
    plain = pyc.ok("version").out
    assert plain.startswith("Client: pyc\n") and "\nServer: " in plain


def test_info_has_dockers_fields(pyc: Pyc, fixture_refs: dict[str, str]) -> None:
    pyc.ok("pull", "-q", fixture_refs["busybox"])
    pyc.ok("create", "--name", "counted", fixture_refs["busybox"], "true")
    fmt = ("{{.Containers}} {{.ContainersStopped}} {{.ContainersRunning}} {{.Images}} "
           "{{.Driver}} {{.OSType}} {{json .SecurityOptions}}")
    containers, stopped, running, images, driver, os_type, security = \
        pyc.ok("info", "--format", fmt).out.split(" ", 6)
    assert (containers, stopped, running, images) == ("1", "1", "0", "1")
    assert driver in ("overlay", "fuse-overlayfs", "vfs") and os_type == "linux"
    assert "name=rootless" in json.loads(security)
    report = json.loads(pyc.ok("info", "--format", "json").out)
    assert report["ServerVersion"] and report["host"]["rootless"] is True
