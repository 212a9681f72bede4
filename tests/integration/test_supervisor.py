"""The supervisor stays small: what it imports, and its resident memory per container."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

FORBIDDEN = ("typer", "click", "rich", "pydantic", "pyroute2", "http.client",
             "pycontainer.cli", "pycontainer.ops", "pycontainer.registry", "pycontainer.images",
             # the long-lived supervisor keeps to C modules: these would cost it megabytes
             "json", "_json", "termios", "re", "ctypes", "_ctypes", "dataclasses", "typing",
             "socket", "selectors", "runpy", "importlib.util",
             "pycontainer.runtime", "pycontainer.storage")


def test_supervisor_imports_no_cli_framework():
    from pycontainer import selfexec

    code = ("import sys, pycontainer.supervisor.main, pycontainer.supervisor.__main__;"
            "print('\\n'.join(sorted(sys.modules)))")
    argv = selfexec.python_argv("pycontainer.supervisor", "--version")
    # run the same bootstrap (no site, package root on sys.path), but list the modules
    boot = argv[3].split("sys.argv[0]=")[0] + code
    res = subprocess.run([sys.executable, "-S", "-c", boot], capture_output=True, text=True,
                         check=True)
    modules = res.stdout.split()
    bad = [m for m in modules if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]
    assert not bad


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_detached_supervisor_resident_memory(shared_pyc, fixture_refs):
    shared_pyc.ok("pull", "-q", fixture_refs["busybox"])
    cid = shared_pyc.ok("run", "-d", fixture_refs["busybox"], "sleep", "60").out.strip()
    try:
        run_dir = os.path.join(str(shared_pyc.runroot), "containers", cid)
        with open(os.path.join(run_dir, "pid.json")) as f:
            import json

            sup = json.load(f)["supervisor"]
        rss = _rss_kib(sup)
        print(f"supervisor RSS: {rss} KiB")
        # the target: below conmon + podman's per-container ~12.6 MB (about 10 MB with
        # byte-compiled modules, ~1.5 MB more when the tree has no __pycache__)
        assert 0 < rss < 12.5 * 1024
    finally:
        shared_pyc.ok("rm", "-f", cid)


@pytest.mark.parametrize("mode", ["fork", "exec"])
def test_both_supervisor_modes_run_a_container(shared_pyc, fixture_refs, mode):
    shared_pyc.ok("pull", "-q", fixture_refs["busybox"])
    env = dict(shared_pyc.env, PYC_SUPERVISOR_MODE=mode)
    res = shared_pyc("run", "--rm", fixture_refs["busybox"], "sh", "-c", "echo $$; exit 3",
                     env=env)
    assert res.rc == 3 and res.out == "1\n"
