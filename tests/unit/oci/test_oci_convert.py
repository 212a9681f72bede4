"""oci.convert: image config + ContainerSpec -> runtime spec (pure)."""

from __future__ import annotations

import pytest

from pycontainer.errors import UsageError
from pycontainer.oci import convert
from pycontainer.oci.convert import ContainerSpec, ResolvedUser, SpecInputs
from pycontainer.oci.runtime import Spec

PASSWD = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n"
GROUP = "root:x:0:\napp:x:1000:\nwheel:x:10:app\nvideo:x:44:\n"
IMAGE = {"Env": ["PATH=/custom/bin", "LANG=C"], "Entrypoint": ["/entry"], "Cmd": ["default"],
         "WorkingDir": "/srv", "User": ""}
CAPS = ["CAP_CHOWN", "CAP_KILL"]


def _spec(**kw: object) -> Spec:
    inputs = SpecInputs("c" * 64, ResolvedUser(0, 0, (), "/root"), capabilities=CAPS,
                        etc_files={"/etc/hosts": "/x/hosts"})
    return convert.to_spec(ContainerSpec(image="img", **kw), IMAGE, inputs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("kw", "args"), [
    ({}, ["/entry", "default"]),
    ({"command": ["x", "y"]}, ["/entry", "x", "y"]),
    ({"entrypoint": ["sh"]}, ["sh"]),
    ({"entrypoint": ["sh"], "command": ["-c", "true"]}, ["sh", "-c", "true"]),
    ({"entrypoint": [], "command": ["ls"]}, ["ls"]),
    ({"init": True, "command": ["x"]}, [convert.INIT_PATH, "--", "/entry", "x"]),
], ids=["image", "cmd", "entrypoint-drops-cmd", "entrypoint-and-cmd", "cleared", "init"])
def test_entrypoint_and_cmd(kw, args):
    assert _spec(**kw).process.args == args


def test_no_command_is_a_usage_error():
    with pytest.raises(UsageError):
        convert.command_args(ContainerSpec(), {})


def test_environment_defaults_and_overrides():
    env = _spec(env=["LANG=fr", "NEW=1"], tty=True, hostname="h").process.env
    assert "PATH=/custom/bin" in env and "LANG=fr" in env and "NEW=1" in env
    assert "HOSTNAME=h" in env and "TERM=xterm" in env and "HOME=/root" in env


def test_hostname_defaults_to_the_short_id():
    assert _spec().hostname == "c" * 12


def test_workdir_and_namespaces():
    spec = _spec(workdir="/w")
    assert spec.process.cwd == "/w"
    kinds = [n.type for n in spec.linux.namespaces]
    assert kinds == ["pid", "ipc", "uts", "mount", "network"]
    assert "network" not in [n.type for n in _spec(network="host").linux.namespaces]
    assert _spec().process.cwd == "/srv"


def test_default_mounts_masks_and_etc_files():
    spec = _spec(tmpfs={"/run": "size=1m"})
    dests = [m.destination for m in spec.mounts]
    for d in ("/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/etc/hosts",
              "/run"):
        assert d in dests
    assert "/proc/kcore" in spec.linux.masked_paths
    assert "/proc/sys" in spec.linux.readonly_paths
    priv = _spec(privileged=True)
    assert priv.linux.masked_paths == [] and priv.linux.seccomp is None


def test_seccomp_profile_denies_keyctl_and_namespaces():
    sec = _spec().linux.seccomp
    assert sec is not None and sec["defaultAction"] == "SCMP_ACT_ALLOW"
    denied = sec["syscalls"][0]["names"]
    assert "keyctl" in denied and "bpf" in denied and "mount" in denied
    assert _spec(seccomp="unconfined").linux.seccomp is None


def test_non_root_user_has_no_effective_capabilities():
    inputs = SpecInputs("c" * 64, ResolvedUser(1000, 1000), capabilities=CAPS)
    spec = convert.to_spec(ContainerSpec(command=["x"]), {}, inputs)
    assert spec.process.capabilities["bounding"] == CAPS
    assert spec.process.capabilities["effective"] == []


def test_spec_round_trips_through_json():
    spec = _spec(ulimits=["nofile=10:20"], read_only=True)
    again = Spec.from_json(spec.to_json())
    assert again.to_dict() == spec.to_dict()


@pytest.mark.parametrize(("user", "groups", "expected"), [
    (None, [], ResolvedUser(0, 0, (), "/root")),
    ("app", [], ResolvedUser(1000, 1000, (10,), "/home/app")),
    ("1000", [], ResolvedUser(1000, 1000, (10,), "/home/app")),
    ("app:video", [], ResolvedUser(1000, 44, (10,), "/home/app")),
    ("4242", [], ResolvedUser(4242, 0, (), "/")),
    ("4242:4242", ["video"], ResolvedUser(4242, 4242, (44,), "/")),
], ids=["root", "name", "uid", "name-group", "unknown-uid", "uid-gid-group-add"])
def test_resolve_user(user, groups, expected):
    assert convert.resolve_user(user, groups, PASSWD, GROUP) == expected


@pytest.mark.parametrize("user", ["nobody", "app:nogroup"])
def test_unknown_user_or_group_is_an_error(user):
    with pytest.raises(UsageError):
        convert.resolve_user(user, [], PASSWD, GROUP)


@pytest.mark.parametrize(("text", "limit"), [
    ("nofile=1024:2048", ("RLIMIT_NOFILE", 1024, 2048)),
    ("nproc=512", ("RLIMIT_NPROC", 512, 512)),
])
def test_parse_ulimit(text, limit):
    r = convert.parse_ulimit(text)
    assert (r.type, r.soft, r.hard) == limit


@pytest.mark.parametrize("text", ["nofile", "nofile=a", "nofile=5:1"])
def test_bad_ulimit(text):
    with pytest.raises(UsageError):
        convert.parse_ulimit(text)


def _mount(spec: Spec, dest: str):  # type: ignore[no-untyped-def]
    return next((m for m in spec.mounts if m.destination == dest), None)


def test_shm_size_default_and_set():
    assert "size=67108864" in _mount(_spec(), "/dev/shm").options
    assert "size=1048576" in _mount(_spec(shm_size=1 << 20), "/dev/shm").options


def test_host_namespaces_are_not_created():
    spec = _spec(pid="host", ipc="host", uts="host")
    kinds = [ns.type for ns in spec.linux.namespaces]
    assert "pid" not in kinds and "ipc" not in kinds and "uts" not in kinds
    assert spec.hostname == ""  # runc refuses a hostname without a UTS namespace
    assert _mount(spec, "/proc").type == "bind"
    assert _mount(spec, "/dev/shm").source == "/dev/shm"


def test_ipc_none_has_no_shm_and_sysctls_and_devices_reach_the_spec():
    spec = _spec(ipc="none", sysctls={"kernel.shmmax": "1"},
                 devices=[{"path": "/dev/fuse", "dest": "/dev/fuse", "perms": "r"}])
    assert _mount(spec, "/dev/shm") is None
    assert spec.linux.sysctl == {"kernel.shmmax": "1"}
    dev = _mount(spec, "/dev/fuse")
    assert dev.source == "/dev/fuse" and "ro" in dev.options


@pytest.mark.parametrize(("item", "net", "ipc", "ok"), [
    ("net.ipv4.ip_forward=1", "", "", True),
    ("net.ipv4.ip_forward=1", "host", "", False),
    ("kernel.shmmax=1", "", "", True),
    ("kernel.shmmax=1", "", "host", False),
    ("fs.mqueue.msg_max=20", "", "", True),
    ("kernel.panic=1", "", "", False),
    ("vm.swappiness=1", "", "", False),
    ("novalue", "", "", False),
])
def test_check_sysctls(item, net, ipc, ok):
    if ok:
        key, _, value = item.partition("=")
        assert convert.check_sysctls([item], net, ipc, "") == {key: value}
    else:
        with pytest.raises(UsageError):
            convert.check_sysctls([item], net, ipc, "")
