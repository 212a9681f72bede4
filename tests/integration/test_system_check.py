"""`pyc system check` on a prepared host, and as a user the host was not prepared for.

pyctest has subordinate ids, the id-mapping helpers, /dev/fuse, /dev/net/tun and a delegated
cgroup subtree (scripts/test sets all of that up). pycnosub has no subordinate ids and a group
denying it /dev/fuse, so its check must name each of those with the administrator's fix.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import pytest
from helpers.runner import Pyc

EXPECTED_CHECKS = ["newuidmap", "newgidmap", "subuid", "subgid", "user namespaces",
                   "/dev/fuse", "/dev/net/tun", "slirp4netns", "overlay", "cgroups",
                   "runtime dir", "store", "nft", "catatonit"]


class Row(NamedTuple):
    status: str
    name: str
    detail: str
    fix: str


# "STATUS  name<padding>  detail": names may hold single spaces ("user namespaces")
ROW = re.compile(r"^(PASS|WARN|FAIL)  (.+?) {2,}(.*)$")


def parse_checks(out: str) -> list[Row]:
    rows: list[Row] = []
    for line in out.splitlines():
        m = ROW.match(line)
        if m:
            rows.append(Row(m[1], m[2], m[3], ""))
        elif line.strip().startswith("fix:") and rows:
            rows[-1] = rows[-1]._replace(fix=line.strip()[len("fix:"):].strip())
    return rows


def test_system_check_passes_everything_for_the_prepared_user(pyc: Pyc) -> None:
    res = pyc.ok("system", "check")
    rows = parse_checks(res.out)
    assert [r for r in rows if r.status != "PASS"] == [], res.out
    assert sorted(r.name for r in rows) == sorted(EXPECTED_CHECKS), res.out
    # nothing but the check lines: no fix hints, no failure summary
    assert len(rows) == len(res.lines), res.out


@pytest.mark.parametrize("name, fix_words", [
    ("subuid", ["usermod", "--add-subuids"]),
    ("subgid", ["usermod", "--add-subgids"]),
    ("/dev/fuse", ["/dev/fuse"]),
], ids=["subuid", "subgid", "dev-fuse"])
def test_system_check_fails_with_a_fix_for_a_user_without_prerequisites(
        nosub_pyc: Pyc, name: str, fix_words: list[str]) -> None:
    res = nosub_pyc("system", "check")
    assert res.rc != 0, res.out + res.err
    failing = [r for r in parse_checks(res.out) if r.status == "FAIL" and r.name == name]
    assert failing, f"no FAIL line for {name}:\n{res.out}"
    fix = failing[0].fix
    assert fix, f"the FAIL line for {name} has no fix: line:\n{res.out}"
    for word in fix_words:
        assert word in fix, f"fix for {name} lacks {word!r}: {fix}"
    assert "check(s) failed" in res.out


def test_system_check_as_the_user_without_subids_still_passes_what_it_has(
        nosub_pyc: Pyc) -> None:
    rows = parse_checks(nosub_pyc("system", "check").out)
    status = {r.name: r.status for r in rows}
    # the negative user differs only where the host set it apart: /dev/net/tun is still open
    assert status.get("/dev/net/tun") == "PASS", rows
    assert status.get("newuidmap") == "PASS", rows
    assert status.get("/dev/fuse") == "FAIL", rows
