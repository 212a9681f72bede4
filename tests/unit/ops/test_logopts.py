"""ops.logopts (--log-opt checks, attrs) and the supervisor's rotating LogWriter."""

from __future__ import annotations

import gzip
import json
import os

import pytest

from pycontainer.config import parse_engine
from pycontainer.errors import UsageError
from pycontainer.ops import logopts
from pycontainer.ops import logs as ops_logs
from pycontainer.supervisor.logfile import LogWriter


def test_parse_accepts_docker_json_file_opts():
    opts = logopts.parse("json-file", ["max-size=10m", "max-file=3", "compress=true",
                                       "labels=a,b", "env=X", "tag={{.Name}}"])
    assert logopts.rotation(opts) == (10 * 1024 * 1024, 3, True)
    assert logopts.rotation({"max-size": "512k"})[0] == 512 * 1024
    assert logopts.rotation({"max-size": "1GB"})[0] == 1024**3
    # a Go template: functions and pipelines too, not only {{.Field}}
    attrs = logopts.attrs({"tag": "{{.Name | upper}}/{{printf \"%.3s\" .ID}}"}, {}, [],
                          {"Name": "web", "ID": "abcdef"})
    assert attrs == {"tag": "WEB/abc"}


@pytest.mark.parametrize(("driver", "items", "message"), [
    ("json-file", ["bogus=1"], "unknown log opt 'bogus' for json-file log driver"),
    ("k8s-file", ["labels=a"], "unknown log opt 'labels' for k8s-file log driver"),
    ("none", ["max-size=1m"], "unknown log opt 'max-size' for none log driver"),
    ("json-file", ["max-size=lots"], "invalid size"),
    ("json-file", ["max-file=0"], "max-file cannot be less than 1"),
    ("json-file", ["max-file=2"], "max-file can only be set when max-size is set"),
    ("json-file", ["max-size=1m", "compress=true"], "compress cannot be true"),
    ("json-file", ["tag={{.Nope}}"], "can't evaluate field Nope"),
    ("json-file", ["max-size"], "invalid log opt format"),
    ("syslog", [], "unsupported --log-driver syslog"),
])
def test_parse_rejects(driver, items, message):
    with pytest.raises(UsageError, match=message.replace(".", r"\.").replace("{", r"\{")):
        logopts.parse(driver, items)


def test_attrs_from_labels_env_and_tag():
    opts = {"labels": "app,missing", "env-regex": "^ST", "tag": "{{.ID}}/{{.Name}}"}
    got = logopts.attrs(opts, {"app": "web", "x": "y"}, ["STAGE=prod", "OTHER=1"],
                        {"ID": "abc", "Name": "n"})
    assert got == {"app": "web", "STAGE": "prod", "tag": "abc/n"}


def test_engine_config_default_log_driver():
    assert parse_engine("").log_driver == "json-file"
    assert parse_engine('[engine]\nlog_driver = "k8s-file"').log_driver == "k8s-file"
    with pytest.raises(UsageError):
        parse_engine('[engine]\nlog_driver = "syslog"')


def _records(path):
    lines = []
    for f in [*ops_logs.rotated_files(path), path]:
        lines += ops_logs._read_whole(f).splitlines()
    return [ops_logs.parse_line(raw) for raw in lines]


def test_writer_rotates_compresses_and_keeps_max_file(tmp_path):
    path = str(tmp_path / "c-json.log")
    w = LogWriter(path, "json-file", {"max_size": 4000, "max_file": 3, "compress": True,
                                      "attrs": '{"a":"b c"}'})
    for i in range(500):
        w.write("stdout", f"line {i}\n".encode())
    w.close()
    assert sorted(os.listdir(tmp_path)) == ["c-json.log", "c-json.log.1", "c-json.log.2.gz"]
    assert all(os.path.getsize(tmp_path / n) <= 4000
               for n in ("c-json.log", "c-json.log.1"))
    with gzip.open(tmp_path / "c-json.log.2.gz") as g:
        assert json.loads(g.readline())["attrs"] == {"a": "b c"}
    recs = _records(path)
    nums = [int(r.text.split()[1]) for r in recs]
    assert nums == list(range(nums[0], 500))
    assert ops_logs.details(recs[0]) == "a=b+c "


def test_writer_one_file_truncates_and_none_writes_nothing(tmp_path):
    path = str(tmp_path / "c-json.log")
    w = LogWriter(path, "json-file", {"max_size": 1000, "max_file": 1})
    for i in range(100):
        w.write("stdout", f"line {i}\n".encode())
    w.close()
    assert os.listdir(tmp_path) == ["c-json.log"]
    assert os.path.getsize(path) <= 1000
    none = LogWriter(str(tmp_path / "n.log"), "none")
    none.write("stdout", b"hi\n")
    none.close()
    assert not os.path.exists(tmp_path / "n.log")
