"""ops.logopts against Docker's json-file documentation (options, defaults, attrs, tags).

docs.docker.com "JSON File logging driver" and "Customize log driver output": max-size is a
number with k, m or g; max-file (default 1) counts the files kept; compress (default false)
gzips rotated files; labels / env (and their -regex forms) add attributes, the env's value
winning a collision with a label's; tag defaults to the first 12 characters of the id and is
a Go template over ID, FullID, Name, ImageID, ImageFullID, ImageName, DaemonName.
(tests/unit/ops/test_logopts.py has the parse errors and the rotating writer.)
"""

from __future__ import annotations

import json

import pytest

from pycontainer.containers.model import ContainerConfig
from pycontainer.errors import UsageError
from pycontainer.oci.convert import ContainerSpec
from pycontainer.ops import logopts

CID = "0123456789ab" + "c" * 52
IMAGE_ID = "sha256:" + "fedcba987654" + "0" * 52


@pytest.mark.parametrize(("opts", "expected"), [
    ({}, (0, 1, False)),  # Docker's defaults: no limit, one file, no compression
    ({"max-size": "10k"}, (10 * 1024, 1, False)),
    ({"max-size": "3m", "max-file": "5"}, (3 * 1024**2, 5, False)),
    ({"max-size": "2g", "max-file": "2", "compress": "true"}, (2 * 1024**3, 2, True)),
    ({"max-size": "1m", "max-file": "1"}, (1024**2, 1, False)),
    ({"max-size": "1m", "max-file": "3", "compress": "false"}, (1024**2, 3, False)),
])
def test_rotation(opts: dict[str, str], expected: tuple[int, int, bool]) -> None:
    assert logopts.rotation(opts) == expected


@pytest.mark.parametrize("value", ["1", "t", "T", "TRUE", "true", "True"])
def test_compress_accepts_go_truths(value: str) -> None:
    assert logopts.rotation({"max-size": "1m", "max-file": "2", "compress": value})[2] is True


@pytest.mark.parametrize("value", ["0", "f", "F", "FALSE", "false", "False"])
def test_compress_accepts_go_falsehoods(value: str) -> None:
    assert logopts.rotation({"max-size": "1m", "max-file": "2", "compress": value})[2] is False


@pytest.mark.parametrize(("opts", "message"), [
    ({"max-size": "0"}, "max-size must be a positive number"),
    ({"max-size": "1m", "max-file": "abc"}, "max-file cannot be less than 1"),
    ({"max-size": "1m", "max-file": "-1"}, "max-file cannot be less than 1"),
    ({"max-size": "1m", "max-file": "2", "compress": "yes"},
     "error reading compress log option: invalid value yes"),
    ({"compress": "true"}, "compress cannot be true when max-file is less than 2"),
])
def test_rotation_refuses(opts: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError) as info:
        logopts.rotation(opts)
    assert str(info.value) == message


def test_parse_keeps_the_last_value_and_everything_after_the_first_equals() -> None:
    got = logopts.parse("json-file", ["max-size=1m", "max-size=2m", "labels-regex=^a=b$"])
    assert got == {"max-size": "2m", "labels-regex": "^a=b$"}


def test_parse_k8s_file_rotates_like_json_file() -> None:
    got = logopts.parse("k8s-file", ["max-size=1m", "max-file=2", "compress=true"])
    assert logopts.rotation(got) == (1024**2, 2, True)


@pytest.mark.parametrize("item", ["labels-regex=(", "env-regex=[a-"])
def test_parse_checks_the_regexes(item: str) -> None:
    key = item.partition("=")[0]
    with pytest.raises(UsageError, match=f"^invalid log opt {key} "):
        logopts.parse("json-file", [item])


def test_env_wins_a_collision_with_a_label() -> None:
    got = logopts.attrs({"labels": "k", "env": "k"}, {"k": "from-label"}, ["k=from-env"], {})
    assert got == {"k": "from-env"}
    got = logopts.attrs({"labels-regex": "^k$", "env-regex": "^k$"}, {"k": "label"},
                        ["k=env"], {})
    assert got == {"k": "env"}


def test_attrs_only_what_was_asked_for() -> None:
    labels = {"com.example.team": "a", "com.example.zone": "b", "other": "c"}
    env = ["STAGE=prod", "PATH=/bin", "EMPTY=", "NOEQUALS"]
    got = logopts.attrs({"labels": "other,absent", "labels-regex": r"^com\.example\.",
                         "env": "EMPTY,NOEQUALS,ABSENT"}, labels, env, {})
    assert got == {"other": "c", "com.example.team": "a", "com.example.zone": "b",
                   "EMPTY": "", "NOEQUALS": ""}
    assert logopts.attrs({}, labels, env, {}) == {}


def _config(log_opts: dict[str, str], **spec: object) -> ContainerConfig:
    return ContainerConfig(CID, "web", "2026-01-01T00:00:00Z", "docker.io/library/busybox",
                           IMAGE_ID, ContainerSpec.from_dict(dict(spec)), {},
                           image_config={"Env": ["A=image", "B=1"]}, log_opts=log_opts)


@pytest.mark.parametrize(("template", "tag"), [
    ("", CID[:12]),  # Docker's default tag: {{.ID}}
    ("{{.ID}}", CID[:12]),
    ("{{.FullID}}", CID),
    ("{{.Name}}", "web"),
    ("{{.ImageName}}", "docker.io/library/busybox"),
    ("{{.ImageID}}", "fedcba987654"),
    ("{{.ImageFullID}}", IMAGE_ID),
    ("{{.DaemonName}}|{{.Name}}", "pyc|web"),
    ("static", "static"),
])
def test_tag_fields(template: str, tag: str) -> None:
    settings = logopts.supervisor_settings(_config({"tag": template}))
    assert json.loads(settings["attrs"]) == {"tag": tag}


def test_supervisor_settings() -> None:
    assert logopts.supervisor_settings(_config({})) == {}
    cfg = _config({"max-size": "1k", "max-file": "3", "compress": "1", "env": "A,B",
                   "labels": "team"}, env=["A=container"], labels={"team": "x"})
    got = logopts.supervisor_settings(cfg)
    assert (got["max_size"], got["max_file"], got["compress"]) == (1024, 3, True)
    # the container's -e overrides the image's ENV
    assert json.loads(got["attrs"]) == {"team": "x", "A": "container", "B": "1"}
    assert " " not in got["attrs"]  # one compact JSON fragment per line


def test_supervisor_settings_without_attrs() -> None:
    got = logopts.supervisor_settings(_config({"max-size": "1m"}))
    assert got == {"max_size": 1024**2, "max_file": 1, "compress": False, "attrs": ""}
