"""--log-opt for json-file: rotation (max-size, max-file, compress), attrs (labels, env, tag)
shown by `logs --details`, --log-driver none, and unknown options."""

from __future__ import annotations

import gzip
import json
import os
import subprocess

import pytest

# 3000 numbered lines of ~100 bytes: ~450 KB of json-file records
WRITER = "i=1; while [ $i -le 3000 ]; do printf 'line %05d %090d\\n' $i 0; i=$((i+1)); done"


def _log_files(pyc, name):
    path = pyc.ok("inspect", "-f", "{{.LogPath}}", name).out.strip()
    directory, base = os.path.split(path)
    return path, sorted(n for n in os.listdir(directory) if n.startswith(base))


@pytest.fixture(scope="module")
def image(shared_pyc, fixture_refs):
    shared_pyc.ok("pull", "-q", fixture_refs["busybox"])
    return fixture_refs["busybox"]


def _numbers(lines):
    return [int(line.split()[1]) for line in lines]


def test_rotation_keeps_max_file_files_and_newest_lines(shared_pyc, image):
    name = "rot-plain"
    shared_pyc.ok("run", "--name", name, "--log-opt", "max-size=100k", "--log-opt",
                  "max-file=3", image, "sh", "-c", WRITER)
    try:
        path, files = _log_files(shared_pyc, name)
        base = os.path.basename(path)
        assert files == [base, base + ".1", base + ".2"]
        for f in files:
            assert os.path.getsize(os.path.join(os.path.dirname(path), f)) <= 100 * 1024
        nums = _numbers(shared_pyc.ok("logs", name).lines)
        assert nums[-1] == 3000
        assert nums == list(range(nums[0], 3001))  # in order, nothing lost within the files
        assert 1000 < len(nums) < 3000  # the oldest were rotated away
        # --tail reaches into the rotated files
        tail = _numbers(shared_pyc.ok("logs", "--tail", "1000", name).lines)
        assert tail == list(range(2001, 3001))
        assert _numbers(shared_pyc.ok("logs", "--tail", "5000", name).lines) == nums
        assert shared_pyc.ok("logs", "--tail", "2", name).lines[-1].startswith("line 03000")
        inspect = json.loads(shared_pyc.ok("inspect", name).out)[0]
        assert inspect["HostConfig"]["LogConfig"] == {
            "Type": "json-file", "Config": {"max-size": "100k", "max-file": "3"}}
    finally:
        shared_pyc("rm", "-f", name)


def test_rotation_compress_writes_gz_that_logs_reads(shared_pyc, image):
    name = "rot-gz"
    shared_pyc.ok("run", "--name", name, "--log-opt", "max-size=100k", "--log-opt",
                  "max-file=4", "--log-opt", "compress=true", image, "sh", "-c", WRITER)
    try:
        path, files = _log_files(shared_pyc, name)
        base = os.path.basename(path)
        assert files == [base, base + ".1", base + ".2.gz", base + ".3.gz"]
        with gzip.open(path + ".3.gz", "rt") as f:
            first = json.loads(f.readline())
        nums = _numbers(shared_pyc.ok("logs", name).lines)
        assert nums[0] == int(first["log"].split()[1])
        assert nums == list(range(nums[0], 3001))
        assert _numbers(shared_pyc.ok("logs", "--since", "1h", "--tail", "3", name).lines) \
            == [2998, 2999, 3000]
    finally:
        shared_pyc("rm", "-f", name)


def test_follow_continues_across_a_rotation(shared_pyc, image):
    name = "rot-follow"
    shared_pyc.ok("run", "-d", "--name", name, "--log-opt", "max-size=20k", "--log-opt",
                  "max-file=5", image, "sh", "-c",
                  "sleep 1; i=1; while [ $i -le 600 ]; do echo line $i; i=$((i+1));"
                  " [ $((i % 100)) = 0 ] && sleep 0.2; done")
    try:
        res = subprocess.run(shared_pyc.argv("logs", "-f", name), env=shared_pyc.env,
                             capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, res.stderr
        assert _numbers(res.stdout.splitlines()) == list(range(1, 601))
        _, files = _log_files(shared_pyc, name)
        assert len(files) > 1
    finally:
        shared_pyc("rm", "-f", name)


def test_details_show_labels_env_and_tag(shared_pyc, image):
    name = "rot-details"
    shared_pyc.ok("run", "--name", name, "--label", "app=web", "--label", "other=x",
                  "-e", "STAGE=prod a", "--log-opt", "labels=app", "--log-opt", "env=STAGE",
                  "--log-opt", "tag={{.Name}}", image, "echo", "hi")
    try:
        assert shared_pyc.ok("logs", name).out == "hi\n"
        assert shared_pyc.ok("logs", "--details", name).out == \
            f"STAGE=prod+a,app=web,tag={name} hi\n"
        line = shared_pyc.ok("logs", "--details", "-t", name).out
        assert line.endswith(f"Z STAGE=prod+a,app=web,tag={name} hi\n")
    finally:
        shared_pyc("rm", "-f", name)
    # attrs sorted by key (bytes, as Go sorts); no attrs: an empty prefix, as Docker's does
    shared_pyc.ok("run", "--name", name, image, "echo", "plain")
    try:
        assert shared_pyc.ok("logs", "--details", name).out == " plain\n"
    finally:
        shared_pyc("rm", "-f", name)


def test_unknown_or_bad_log_opts_fail_125(shared_pyc, image):
    res = shared_pyc.fail("run", "--rm", "--log-opt", "bogus=1", image, "true", rc=125)
    assert "unknown log opt 'bogus' for json-file log driver" in res.err
    res = shared_pyc.fail("create", "--log-driver", "k8s-file", "--log-opt", "labels=a",
                          image, "true", rc=125)
    assert "unknown log opt 'labels' for k8s-file log driver" in res.err
    shared_pyc.fail("run", "--rm", "--log-opt", "max-size=lots", image, "true", rc=125)
    shared_pyc.fail("run", "--rm", "--log-opt", "max-file=0", image, "true", rc=125)
    shared_pyc.fail("run", "--rm", "--log-driver", "syslog", image, "true", rc=125)
    assert "rot-" not in shared_pyc.ok("ps", "-a").out


def test_log_driver_none_keeps_no_log(shared_pyc, image):
    name = "rot-none"
    shared_pyc.ok("run", "--name", name, "--log-driver", "none", image, "echo", "hi")
    try:
        path, files = _log_files(shared_pyc, name)
        assert files == []
        res = shared_pyc.fail("logs", name, rc=125)
        assert "does not support reading" in res.err
    finally:
        shared_pyc("rm", "-f", name)


def test_k8s_file_rotates_too(shared_pyc, image):
    name = "rot-k8s"
    shared_pyc.ok("run", "--name", name, "--log-driver", "k8s-file", "--log-opt",
                  "max-size=100k", "--log-opt", "max-file=2", image, "sh", "-c", WRITER)
    try:
        _, files = _log_files(shared_pyc, name)
        assert len(files) == 2
        nums = _numbers(shared_pyc.ok("logs", name).lines)
        assert nums == list(range(nums[0], 3001))
    finally:
        shared_pyc("rm", "-f", name)


def test_engine_config_sets_the_default_log_driver(shared_pyc, image, tmp_path):
    conf = tmp_path / "containers.conf"
    conf.write_text('[engine]\nlog_driver = "k8s-file"\n')
    os.chmod(tmp_path, 0o755)
    name = "rot-conf"
    shared_pyc.ok("run", "--name", name, image, "echo", "hi",
                  env={"PYC_CONTAINERS_CONF": str(conf)})
    try:
        inspect = json.loads(shared_pyc.ok("inspect", name).out)[0]
        assert inspect["HostConfig"]["LogConfig"]["Type"] == "k8s-file"
        assert shared_pyc.ok("logs", name).out == "hi\n"
        path = shared_pyc.ok("inspect", "-f", "{{.LogPath}}", name).out.strip()
        with open(path) as f:
            assert f.read().endswith(" stdout F hi\n")
    finally:
        shared_pyc("rm", "-f", name)
