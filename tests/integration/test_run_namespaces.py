"""`pyc run` namespace and device options: --shm-size, --sysctl, --pid, --ipc, --uts,
--device, --cgroup-parent, --platform (Docker's semantics, rootless as Podman does them)."""

from __future__ import annotations

import contextlib
import os
import socket

import pytest

from integration.test_pull import multiarch  # noqa: F401 - the multi-platform fixture


@pytest.fixture(scope="module")
def bb(shared_pyc, fixture_refs) -> str:
    shared_pyc.ok("pull", "-q", fixture_refs["busybox"])
    return fixture_refs["busybox"]


def _shm_kb(out: str) -> int:
    # busybox df -k: Filesystem 1K-blocks Used Available Use% Mounted on
    return int(out.strip().splitlines()[-1].split()[1])


def test_shm_size_default_is_64m(shared_pyc, bb):
    assert _shm_kb(shared_pyc.ok("run", "--rm", bb, "df", "-k", "/dev/shm").out) == 65536


def test_shm_size(shared_pyc, bb):
    res = shared_pyc.ok("run", "--rm", "--shm-size", "128m", bb, "df", "-k", "/dev/shm")
    assert _shm_kb(res.out) == 131072


def test_shm_size_invalid(shared_pyc, bb):
    shared_pyc.fail("run", "--rm", "--shm-size", "lots", bb, "true", rc=125)


def test_sysctl_namespaced(shared_pyc, bb):
    res = shared_pyc.ok("run", "--rm", "--sysctl", "net.ipv4.ip_forward=1",
                        "--sysctl", "kernel.shmmax=1048576", bb, "cat",
                        "/proc/sys/net/ipv4/ip_forward", "/proc/sys/kernel/shmmax")
    assert res.out.split() == ["1", "1048576"]


@pytest.mark.parametrize(("args", "needle"), [
    (["--sysctl", "kernel.panic=1"], "is not whitelisted"),
    (["--sysctl", "vm.swappiness=1"], "is not whitelisted"),
    (["--network", "host", "--sysctl", "net.ipv4.ip_forward=1"], "host network namespace"),
    (["--ipc", "host", "--sysctl", "kernel.shmmax=1"], "host IPC namespace"),
    (["--sysctl", "novalue"], "key=value"),
], ids=["kernel", "vm", "net-host", "ipc-host", "format"])
def test_sysctl_refused(shared_pyc, bb, args, needle):
    res = shared_pyc.fail("run", "--rm", *args, bb, "true", rc=125)
    assert needle in res.err


@pytest.mark.parametrize("dev", ["/dev/fuse", "/dev/net/tun"])
def test_device_node_opens(shared_pyc, bb, dev):
    if not os.path.exists(dev):
        pytest.skip(f"no {dev} on this host")
    res = shared_pyc.ok("run", "--rm", "--device", dev, bb, "sh", "-c",
                        f"ls -l {dev} && exec 3<>{dev} && echo opened")
    assert res.out.startswith("c") and res.out.endswith("opened\n"), res.out


def test_device_renamed(shared_pyc, bb):
    res = shared_pyc.ok("run", "--rm", "--device", "/dev/null:/dev/mynull:rw", bb, "sh", "-c",
                        "ls -l /dev/mynull && echo x > /dev/mynull && echo ok")
    assert res.out.startswith("c") and res.out.endswith("ok\n"), res.out


def test_device_missing(shared_pyc, bb):
    res = shared_pyc.fail("run", "--rm", "--device", "/dev/nosuchdev", bb, "true", rc=125)
    assert "/dev/nosuchdev" in res.err


def test_uts_host(shared_pyc, bb):
    res = shared_pyc.ok("run", "--rm", "--uts", "host", bb, "hostname")
    assert res.out.strip() == socket.gethostname()


def test_uts_host_conflicts_with_hostname(shared_pyc, bb):
    shared_pyc.fail("run", "--rm", "--uts", "host", "--hostname", "x", bb, "true", rc=125)


def test_ipc_host(shared_pyc, bb):
    with open("/proc/self/ns/ipc") as _:
        pass
    mine = os.readlink("/proc/self/ns/ipc")
    res = shared_pyc.ok("run", "--rm", "--ipc", "host", bb, "readlink", "/proc/self/ns/ipc")
    assert res.out.strip() == mine


def test_ipc_none_has_no_shm(shared_pyc, bb):
    res = shared_pyc.ok("run", "--rm", "--ipc", "none", bb, "sh", "-c",
                        "grep ' /dev/shm ' /proc/mounts || echo none")
    assert res.out.strip() == "none"


def test_pid_host(shared_pyc, bb):
    res = shared_pyc.ok("run", "--rm", "--pid", "host", bb, "sh", "-c",
                        "readlink /proc/self/ns/pid; echo $$")
    ns, pid = res.out.split()
    assert ns == os.readlink("/proc/self/ns/pid")
    assert pid != "1"


def test_join_other_containers_namespaces(shared_pyc, bb):
    script = "for n in pid ipc; do readlink /proc/self/ns/$n; done"
    cid = shared_pyc.ok("run", "-d", "--ipc", "shareable", bb, "sleep", "60").out.strip()
    try:
        theirs = shared_pyc.ok("exec", cid, "sh", "-c",
                               script + "; echo hi > /dev/shm/marker").out.split()
        res = shared_pyc.ok("run", "--rm", "--pid", f"container:{cid}", "--ipc",
                            f"container:{cid}", bb, "sh", "-c",
                            script + "; ps -o comm; cat /dev/shm/marker")
        lines = res.out.split()
        assert lines[:2] == theirs[:2]
        assert "sleep" in lines and lines[-1] == "hi", res.out
    finally:
        shared_pyc("rm", "-f", cid)


def test_join_ipc_of_private_container_fails(shared_pyc, bb):
    cid = shared_pyc.ok("run", "-d", bb, "sleep", "60").out.strip()
    try:
        res = shared_pyc.fail("run", "--rm", "--ipc", f"container:{cid}", bb, "true", rc=125)
        assert "non-shareable IPC" in res.err
    finally:
        shared_pyc("rm", "-f", cid)


def test_join_pid_of_host_pid_container_fails(shared_pyc, bb):
    cid = shared_pyc.ok("run", "-d", "--pid", "host", bb, "sleep", "60").out.strip()
    try:
        res = shared_pyc.fail("run", "--rm", "--pid", f"container:{cid}", bb, "true", rc=125)
        assert "--pid host" in res.err
        assert shared_pyc.ok("exec", cid, "echo", "in").out == "in\n"
    finally:
        shared_pyc("rm", "-f", cid)


def test_join_stopped_container_fails(shared_pyc, bb):
    cid = shared_pyc.ok("create", bb, "true").out.strip()
    try:
        shared_pyc.fail("run", "--rm", "--pid", f"container:{cid}", bb, "true", rc=125)
    finally:
        shared_pyc("rm", "-f", cid)


@pytest.mark.parametrize("flag", ["--pid", "--ipc", "--uts"])
def test_bad_namespace_mode(shared_pyc, bb, flag):
    res = shared_pyc.fail("run", "--rm", flag, "bogus", bb, "true", rc=125)
    assert flag in res.err


def test_cgroup_parent(pyc, bb):
    from pycontainer.linux import cgroups

    info = cgroups.detect()
    v2, v1 = cgroups.mounts()
    if info.version == "v2" and info.parent and v2:
        base, mount, key = info.parent, v2, ""
    elif "pids" in info.delegated:
        base, mount, key = info.delegated["pids"], v1["pids"], "pids"
    else:
        pytest.skip(f"no delegated cgroup: {info.reason}")
    sub = os.path.join(base, "custom-parent")
    os.makedirs(sub, exist_ok=True)
    parent = "/" + os.path.relpath(sub, mount)
    try:
        cid = pyc.ok("run", "-d", "--cgroup-parent", parent, bb, "sleep", "60").out.strip()
        pid = pyc.ok("inspect", "--format", "{{.State.Pid}}", cid).out.strip()
        with open(f"/proc/{pid}/cgroup") as f:
            lines = [ln.split(":", 2) for ln in f.read().splitlines()]
        path = next(p for _, ctrls, p in lines if (key in ctrls.split(",") if key else not ctrls))
        assert path == f"{parent}/pyc/{cid}", lines
        pyc.ok("rm", "-f", cid)
        assert not os.path.exists(os.path.join(sub, "pyc", cid))
    finally:
        for d in (os.path.join(sub, "pyc"), sub):
            with contextlib.suppress(OSError):
                os.rmdir(d)


def test_cgroup_parent_not_delegated(pyc, bb):
    res = pyc.fail("run", "--rm", "--cgroup-parent", "/pyc-no-such-parent/x", bb, "true",
                   rc=125)
    assert "--cgroup-parent" in res.err


def test_platform(pyc, multiarch):  # noqa: F811 - the imported fixture
    from pycontainer.oci.image import Platform

    host = Platform.host().architecture
    other = "arm64" if host != "arm64" else "amd64"
    pyc.ok("pull", "-q", multiarch)
    res = pyc.fail("run", "--rm", "--pull", "never", "--platform", f"linux/{other}", multiarch,
                   "true", rc=125)
    assert f"does not match the specified platform: wanted linux/{other}" in res.err
    # a stored image of another platform counts as missing: pulled for the one asked for
    pyc.ok("create", "--platform", f"linux/{other}", multiarch, "true")
    arch = pyc.ok("image", "inspect", "--format", "{{.Architecture}}", multiarch).out.strip()
    assert arch == other
    res = pyc.ok("run", "--rm", "--platform", f"linux/{host}", multiarch, "echo", "hi")
    assert res.out == "hi\n"
    arch = pyc.ok("image", "inspect", "--format", "{{.Architecture}}", multiarch).out.strip()
    assert arch == host
    pyc.fail("run", "--rm", "--platform", "linux/", multiarch, "true", rc=125)


@pytest.mark.parametrize(("streams", "out", "err"), [
    ([], "out\n", "err\n"),
    (["-a", "STDOUT"], "out\n", ""),
    (["-a", "stderr"], "", "err\n"),
    (["-a", "stdout", "-a", "stderr"], "out\n", "err\n"),
], ids=["default", "stdout", "stderr", "both"])
def test_attach_streams(shared_pyc, bb, streams, out, err):
    res = shared_pyc("run", "--rm", *streams, bb, "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (res.rc, res.out, res.err) == (3, out, err)


def test_attach_stdin(shared_pyc, bb):
    res = shared_pyc.ok("run", "--rm", "-i", "-a", "stdin", "-a", "stdout", bb, "cat",
                        input="typed\n")
    assert res.out == "typed\n"


@pytest.mark.parametrize(("args", "needle"), [
    (["-a", "stdio"], "valid streams are STDIN, STDOUT and STDERR"),
    (["-d", "-a", "stdout"], "Conflicting options: -a and -d"),
], ids=["bad-stream", "detached"])
def test_attach_refused(shared_pyc, bb, args, needle):
    res = shared_pyc.fail("run", "--rm", *args, bb, "true", rc=125)
    assert needle in res.err


def test_inspect_shows_the_options(shared_pyc, bb):
    cid = shared_pyc.ok("create", "--shm-size", "32m", "--sysctl", "kernel.shmmax=4096",
                        "--ipc", "shareable", "--uts", "host", "--device",
                        "/dev/null:/dev/xnull:r", bb, "true").out.strip()
    try:
        import json

        host = json.loads(shared_pyc.ok("inspect", "--format", "{{json .HostConfig}}",
                                        cid).out)
        assert host["ShmSize"] == 32 << 20
        assert host["Sysctls"] == {"kernel.shmmax": "4096"}
        assert (host["IpcMode"], host["UTSMode"], host["PidMode"]) == ("shareable", "host", "")
        assert host["Devices"] == [{"PathOnHost": "/dev/null", "PathInContainer": "/dev/xnull",
                                    "CgroupPermissions": "r"}]
    finally:
        shared_pyc("rm", "-f", cid)
