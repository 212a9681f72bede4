"""The pure parts of the `compose` commands on a project: Compose v2's output layouts and
choices (docker/compose v2.24 cmd/compose, pkg/compose)."""

from __future__ import annotations

import json

import pytest

from pycontainer.cli import compose_cmds as cli
from pycontainer.ops import compose_cmds, compose_events, compose_ls
from pycontainer.ops.compose_cmds import ImageSummary, Top
from pycontainer.ops.compose_ls import Stack


def test_top_layout_is_name_then_table_per_container() -> None:
    tops = [Top("p-web-1", ["UID", "PID", "CMD"], [["root", "12", "httpd -f"],
                                                   ["root", "130", "sh"]])]
    assert cli.top_text(tops) == (
        "p-web-1\n"
        "UID    PID   CMD\n"
        "root   12    httpd -f   \n"
        "root   130   sh         \n"
        "\n")


def test_top_parses_ps_with_spaces_in_the_command() -> None:
    top = compose_cmds._parse_ps("c", "UID PID CMD\nroot 7 sleep 100 --x\n")
    assert top.titles == ["UID", "PID", "CMD"]
    assert top.processes == [["root", "7", "sleep 100 --x"]]


def _img(name: str, tag: str = "latest") -> ImageSummary:
    return ImageSummary("sha256:" + "ab" * 32, name, "127.0.0.1:5000/fixtures/busybox", tag,
                        4_261_000)


def test_images_table_quiet_and_json() -> None:
    rows = [_img("p-web-1"), _img("p-web-2", "")]
    table = cli.images_text(rows, "table", False).splitlines()
    assert table[0].startswith("CONTAINER           REPOSITORY                        TAG")
    assert table[1].split() == ["p-web-1", "127.0.0.1:5000/fixtures/busybox", "latest",
                                "ab" * 6, "4.26MB"]
    assert table[2].split()[2] == "<none>"
    assert cli.images_text(rows, "table", True) == "ab" * 32 + "\n"  # once, no sha256:
    listed = json.loads(cli.images_text(rows, "json", False))
    assert listed[0] == {"ID": "sha256:" + "ab" * 32, "ContainerName": "p-web-1",
                         "Repository": "127.0.0.1:5000/fixtures/busybox", "Tag": "latest",
                         "Size": 4_261_000}


def test_ls_status_files_and_layouts() -> None:
    assert compose_ls.combined_status(["running", "exited", "running"]) == \
        "exited(1), running(2)"
    assert compose_ls.combined_files(["/a/compose.yaml", "/a/compose.yaml,/a/o.yaml"]) == \
        "/a/compose.yaml,/a/o.yaml"
    assert compose_ls.combined_files(["/a/compose.yaml", None]) == "N/A"
    stacks = [Stack("proj", "running(3)", "/a/compose.yaml")]
    assert cli.ls_text(stacks, "table", False) == (
        "NAME                STATUS              CONFIG FILES\n"
        "proj                running(3)          /a/compose.yaml\n")
    assert cli.ls_text(stacks, "table", True) == "proj\n"
    assert cli.ls_text(stacks, "json", False) == \
        '[{"Name":"proj","Status":"running(3)","ConfigFiles":"/a/compose.yaml"}]\n'


def test_ls_name_filter_is_exact_or_regexp() -> None:
    assert compose_ls._name_matches("proj", ["proj"])
    assert compose_ls._name_matches("proj", ["^pr"])
    assert not compose_ls._name_matches("proj", ["other"])
    assert not compose_ls._name_matches("proj", ["("])  # a bad pattern matches nothing


def test_version_forms() -> None:
    assert cli.version_text(None, False) == "Docker Compose version v2.24.0\n"
    assert cli.version_text(None, True) == "2.24.0\n"
    assert cli.version_text("json", False) == '{"version":"v2.24.0"}\n'


def test_events_from_docker_events() -> None:
    raw = {"Type": "container", "Action": "start", "timeNano": 1_700_000_000_123_456_789,
           "Actor": {"ID": "c1", "Attributes": {
               "com.docker.compose.service": "web", "com.docker.compose.project": "p",
               "image": "busybox", "name": "p-web-1"}}}
    event = compose_events.from_raw(raw)
    assert event is not None
    assert (event.service, event.container, event.action) == ("web", "c1", "start")
    assert event.attributes == {"image": "busybox", "name": "p-web-1"}
    data = json.loads(compose_events.to_json(event))
    assert list(data) == ["action", "attributes", "id", "service", "time", "type"]
    assert data["type"] == "container" and data["time"].startswith("2023-11-1")
    assert ".123456789" in data["time"]
    text = compose_events.to_text(event)
    assert text.endswith(" container start c1 (image=busybox, name=p-web-1)")
    assert ".123456 " in text
    oneoff = {**raw, "Actor": {"ID": "c2", "Attributes": {"com.docker.compose.oneoff": "True"}}}
    assert compose_events.from_raw(oneoff) is None


@pytest.mark.parametrize(("arg", "split"), [
    ("web:/etc/hosts", ("web", "/etc/hosts")), ("/abs:x", ("", "/abs:x")),
    ("./file:name", ("", "./file:name")), ("local", ("", "local")), ("-", ("", "-")),
])
def test_cp_arguments(arg: str, split: tuple[str, str]) -> None:
    assert compose_cmds.split_cp_arg(arg) == split


def test_exec_env_resolution_and_port_listing() -> None:
    assert compose_cmds.resolve_env(["A=1", "B", "C"], {"B": "2"}) == ["A=1", "B=2"]
    assert compose_cmds._public("80/tcp -> 0.0.0.0:8080") == "8080/tcp"
    assert compose_cmds._repo_tag("127.0.0.1:5000/x/y:t") == ("127.0.0.1:5000/x/y", "t")
    assert compose_cmds._repo_tag("127.0.0.1:5000/x/y") == ("127.0.0.1:5000/x/y", "")
