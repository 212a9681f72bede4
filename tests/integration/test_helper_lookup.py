"""Helper programs are found as an ordinary Debian user would run pyc: with a PATH that has
no sbin (nft lives in /usr/sbin), and `system check` agrees with the code that runs them."""

from __future__ import annotations

import json
import os
import re

from helpers.runner import DEBIAN_USER_PATH


def test_the_harness_runs_with_a_users_path() -> None:
    # a kinder PATH hid a FileNotFoundError for nft once; keep the suite honest
    entries = os.environ["PATH"].split(":")
    assert not [e for e in entries if "sbin" in e], entries
    assert os.environ["PATH"].endswith(DEBIAN_USER_PATH)


def test_system_check_and_info_name_the_same_helper_paths(pyc) -> None:
    out = pyc("system", "check").out
    checks = dict(re.findall(r"^\w+\s+(\S+)\s+(\S+)", out, re.M))
    assert checks.get("nft") == "/usr/sbin/nft", out
    info = json.loads(pyc.ok("info", "--format", "json").out)
    host = info["host"]
    assert checks.get("slirp4netns") == host["slirp4netns"], (out, host)


def test_user_network_name_resolution_without_sbin_on_path(pyc, fixture_refs) -> None:
    bb = fixture_refs["busybox"]
    pyc.ok("network", "create", "usernet")
    pyc.ok("run", "-d", "--name", "srv", "--network", "usernet", bb, "sleep", "600")
    res = pyc.ok("run", "--rm", "--network", "usernet", bb, "ping", "-c", "1", "-W", "5", "srv")
    assert "1 packets received" in res.out
    # published ports on a user network need nft's NAT in the rootless namespace
    pyc.ok("run", "-d", "--name", "web", "--network", "usernet", "-p", "127.0.0.1::80", bb,
           "httpd", "-f", "-p", "80", "-h", "/etc")
    port = pyc.ok("port", "web", "80").out.strip().rsplit(":", 1)[1]
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/hostname", timeout=10) as r:
        assert r.read().decode().strip()
    pyc.ok("rm", "-f", "srv", "web")
    pyc.ok("network", "rm", "usernet")
