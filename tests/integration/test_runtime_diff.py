"""One bundle, two runtimes: what the container sees under pyc's builtin runtime and under runc
must be the same (mounts, capabilities, id maps, environment, cwd, limits)."""

from __future__ import annotations

import re
import shutil

import pytest

PROBE = r"""
echo "== uid_map"; cat /proc/self/uid_map
echo "== gid_map"; cat /proc/self/gid_map
echo "== caps"; grep -E '^(Cap...|NoNewPrivs|Seccomp):' /proc/self/status
echo "== id"; id
echo "== cwd"; pwd
echo "== env"; env | grep -v '^HOSTNAME=' | sort
echo "== hostname"; hostname | wc -c
echo "== mounts"; awk '{print $2, $3}' /proc/self/mounts | sort
echo "== dev"; ls /dev | sort
echo "== ulimit"; ulimit -n; ulimit -Hn
echo "== etc"; ls -l /etc/hostname /etc/hosts /etc/resolv.conf | awk '{print $1, $NF}'
echo "== shm"; df -k /dev/shm 2>/dev/null | tail -n +2 | awk '{print $2}'
echo "== sysctl"; cat /proc/sys/kernel/shmmax /proc/sys/net/ipv4/ip_forward
echo "== ns"; for n in ipc uts pid; do readlink /proc/self/ns/$n; done | sed 's/:.*//'
"""


@pytest.fixture(scope="module")
def bb(shared_pyc, fixture_refs) -> str:
    if not shutil.which("runc"):
        pytest.fail("runc is not installed")
    shared_pyc.ok("pull", "-q", fixture_refs["busybox"])
    return fixture_refs["busybox"]


def _sections(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    current = ""
    for line in text.splitlines():
        if line.startswith("== "):
            current = line[3:]
            out[current] = []
        else:
            out[current].append(line)
    return out


def _normalise(sections: dict[str, list[str]]) -> dict[str, list[str]]:
    # runc adds /dev/core only where the kernel has /proc/kcore; neither is on every host
    sections["dev"] = [d for d in sections["dev"] if d != "core"]
    # a masked path shows up as a mount of its own; both runtimes mask the same ones
    sections["mounts"] = [re.sub(r"\s+", " ", m) for m in sections["mounts"]]
    return sections


@pytest.mark.parametrize("options", [
    [],
    ["-u", "1000:1000", "-w", "/tmp", "-e", "X=1"],
    ["--cap-drop", "ALL", "--cap-add", "NET_RAW"],
    ["--read-only", "--tmpfs", "/scratch"],
    ["--security-opt", "no-new-privileges", "--ulimit", "nofile=512:1024"],
    ["--privileged"],
    ["--shm-size", "32m", "--sysctl", "kernel.shmmax=1048576", "--sysctl",
     "net.ipv4.ip_forward=1", "--device", "/dev/null:/dev/xnull:r"],
    ["--pid", "host", "--ipc", "host", "--uts", "host"],
    ["--ipc", "none"],
], ids=["default", "user-workdir-env", "caps", "read-only", "nnp-ulimit", "privileged",
        "shm-sysctl-device", "host-namespaces", "ipc-none"])
def test_builtin_and_runc_agree(shared_pyc, bb, options):
    seen = {}
    for runtime in ("builtin", "runc"):
        res = shared_pyc.ok("run", "--rm", "--runtime", runtime, *options, bb, "sh", "-c",
                            PROBE)
        seen[runtime] = _normalise(_sections(res.out))
    for key in seen["builtin"]:
        assert seen["builtin"][key] == seen["runc"][key], key


def test_runc_exit_codes(shared_pyc, bb):
    assert shared_pyc("run", "--rm", "--runtime", "runc", bb, "sh", "-c", "exit 4").rc == 4
    assert shared_pyc("run", "--rm", "--runtime", "runc", bb, "nosuchcommand").rc == 127


def test_runc_detached_and_exec(shared_pyc, bb):
    cid = shared_pyc.ok("run", "-d", "--runtime", "runc", bb, "sleep", "60").out.strip()
    res = shared_pyc.ok("exec", cid, "cat", "/proc/1/cmdline")
    assert res.out.split("\0")[0] == "sleep"
    shared_pyc.ok("stop", "-t", "0", cid)
    assert shared_pyc.ok("inspect", "-f", "{{.State.ExitCode}}", cid).out.strip() == "137"
    shared_pyc.ok("rm", cid)
