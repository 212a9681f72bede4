"""`pyc ps`: Docker's columns, status strings, filters and formats."""

from __future__ import annotations

import json
import re
import time

import pytest


@pytest.fixture(scope="module")
def setup(shared_pyc, fixture_refs):
    bb = fixture_refs["busybox"]
    shared_pyc.ok("pull", "-q", bb)
    shared_pyc("run", "--name", "ps-exited", "-l", "app=a", bb, "sh", "-c", "exit 2")
    shared_pyc.ok("run", "-d", "--name", "ps-running", "-l", "app=b", bb, "sleep", "300")
    shared_pyc.ok("create", "--name", "ps-created", bb, "true")
    yield bb
    for name in ("ps-exited", "ps-running", "ps-created"):
        shared_pyc("rm", "-f", name)


def _by_name(shared_pyc, *args):
    out = {}
    for line in shared_pyc.ok("ps", *args, "--format", "json").lines:
        row = json.loads(line)
        out[row["Names"]] = row
    return out


def test_default_table(shared_pyc, setup):
    lines = shared_pyc.ok("ps").lines
    assert re.match(r"CONTAINER ID\s{3,}IMAGE\s{3,}COMMAND\s{3,}CREATED\s{3,}STATUS\s{3,}"
                    r"PORTS\s{3,}NAMES$", lines[0])
    assert any(line.endswith("ps-running") for line in lines[1:])
    assert not any("ps-exited" in line for line in lines)


def test_status_strings(shared_pyc, setup):
    rows = _by_name(shared_pyc, "-a")
    assert re.fullmatch(r"Up (Less than a second|\d+ seconds?|About a minute|\d+ minutes)",
                        rows["ps-running"]["Status"])
    assert re.fullmatch(r"Exited \(2\) .* ago", rows["ps-exited"]["Status"])
    assert rows["ps-created"]["Status"] == "Created"
    assert rows["ps-running"]["State"] == "running"
    assert rows["ps-exited"]["State"] == "exited"
    assert rows["ps-created"]["State"] == "created"
    assert rows["ps-running"]["Command"] == '"sleep 300"'


@pytest.mark.parametrize(("flt", "expected"), [
    ("status=exited", {"ps-exited"}),
    ("status=running", {"ps-running"}),
    ("status=created", {"ps-created"}),
    ("name=ps-run", {"ps-running"}),
    ("label=app=a", {"ps-exited"}),
    ("label=app", {"ps-exited", "ps-running"}),
    ("exited=2", {"ps-exited"}),
])
def test_filters(shared_pyc, setup, flt, expected):
    names = set(shared_pyc.ok("ps", "-a", "--filter", flt, "--format", "{{.Names}}").lines)
    assert names & {"ps-exited", "ps-running", "ps-created"} == expected


def test_ancestor_filter(shared_pyc, setup):
    names = set(shared_pyc.ok("ps", "-a", "--filter", f"ancestor={setup}", "--format",
                              "{{.Names}}").lines)
    assert {"ps-exited", "ps-running", "ps-created"} <= names


def test_quiet_last_and_no_trunc(shared_pyc, setup):
    ids = shared_pyc.ok("ps", "-aq").lines
    assert all(re.fullmatch(r"[0-9a-f]{12}", i) for i in ids)
    latest = shared_pyc.ok("ps", "-l", "--format", "{{.Names}}").lines
    assert latest == ["ps-created"]
    assert len(shared_pyc.ok("ps", "-n", "2", "-q").lines) == 2
    full = shared_pyc.ok("ps", "-a", "--no-trunc", "-q").lines
    assert all(re.fullmatch(r"[0-9a-f]{64}", i) for i in full)


def test_bad_filter_is_125(shared_pyc, setup):
    shared_pyc.fail("ps", "--filter", "colour=red", rc=125)


def test_before_since_volume_and_network_filters(pyc, fixture_refs):
    bb = fixture_refs["busybox"]
    pyc.ok("pull", "-q", bb)
    for name in ("first", "second", "third"):
        pyc.ok("create", "--name", name, "-v", f"vol-{name}:/data", bb, "true")
        time.sleep(1.05)  # creation times one second apart, as Docker compares them

    def names(*flt: str) -> list[str]:
        args = [a for f in flt for a in ("--filter", f)]
        return pyc.ok("ps", "-a", "--format", "{{.Names}}", *args).out.split()

    assert names("before=third") == ["second", "first"]
    assert names("since=first") == ["third", "second"]
    assert names("before=third", "since=first") == ["second"]
    assert names("volume=vol-second") == ["second"]
    assert names("volume=/data") == ["third", "second", "first"]
    assert names("network=slirp4netns") == ["third", "second", "first"]
    assert names("network=no-such-network") == []
    res = pyc.fail("ps", "-a", "--filter", "before=nope")
    assert "No such container: nope" in res.err
