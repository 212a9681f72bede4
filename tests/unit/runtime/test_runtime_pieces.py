"""Pure pieces of the runtime and supervisor: mount options, secure joins, seccomp BPF,
exec error mapping, attach frames, the log writer."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest

from pycontainer.errors import CannotInvoke, CommandNotFound, ContainerRuntimeError
from pycontainer.linux import seccomp
from pycontainer.linux import syscalls as sc
from pycontainer.runtime.base import ContainerError
from pycontainer.runtime.builtin import mounts
from pycontainer.supervisor import protocol
from pycontainer.supervisor.logfile import LogWriter


@pytest.mark.parametrize(("options", "flags", "data"), [
    (["nosuid", "noexec", "nodev"], sc.MS_NOSUID | sc.MS_NOEXEC | sc.MS_NODEV, ""),
    (["rbind", "ro"], sc.MS_BIND | sc.MS_REC | sc.MS_RDONLY, ""),
    (["mode=755", "size=64k", "rw"], 0, "mode=755,size=64k"),
    (["rprivate", "newinstance"], 0, "newinstance"),
])
def test_parse_options(options, flags, data):
    assert mounts.parse_options(options) == (flags, data)


def test_secure_join_keeps_symlinks_inside(tmp_path: Path):
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "abs").symlink_to("/outside/file")
    (root / "etc" / "up").symlink_to("../../../../x")
    assert mounts.secure_join(str(root), "/etc/abs") == f"{root}/outside/file"
    assert mounts.secure_join(str(root), "/etc/up") == f"{root}/x"
    assert mounts.secure_join(str(root), "/a/../../b") == f"{root}/b"


def test_seccomp_program_shape():
    prog = seccomp.compile_profile({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [
            {"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
            {"names": ["clone"], "action": "SCMP_ACT_ERRNO",
             "args": [{"index": 0, "value": 0x10000000, "valueTwo": 0x10000000,
                       "op": "SCMP_CMP_MASKED_EQ"}]},
            {"names": ["not_a_syscall"], "action": "SCMP_ACT_ERRNO"},
        ]})
    insns = [struct.unpack("HBBI", prog[i:i + 8]) for i in range(0, len(prog), 8)]
    assert insns[0] == (0x20, 0, 0, 4)  # load arch
    assert insns[-1] == (0x06, 0, 0, seccomp.RET_ALLOW)
    assert (0x15, 0, 1, seccomp.SYSCALLS["keyctl"]) in insns
    assert (0x06, 0, 0, seccomp.RET_ERRNO | 1) in insns
    # every jump stays inside the program
    for i, (code, jt, jf, _) in enumerate(insns):
        if code & 0x07 == 0x05:
            assert i + 1 + max(jt, jf) < len(insns)


def test_unknown_seccomp_action_is_refused():
    with pytest.raises(ContainerRuntimeError):
        seccomp.compile_profile({"defaultAction": "SCMP_ACT_NOTIFY"})


@pytest.mark.parametrize(("stage", "errno", "exc"), [
    ("exec", 2, CommandNotFound),
    ("exec", 13, CannotInvoke),
    ("exec", 8, CannotInvoke),
    ("rootfs", 1, ContainerRuntimeError),
])
def test_container_errors_map_to_exit_codes(stage, errno, exc):
    err = ContainerError.decode(ContainerError(stage, errno, "m").encode())
    assert isinstance(err.to_exception("cmd"), exc)


def test_attach_frames_round_trip():
    reader = protocol.FrameReader()
    data = protocol.encode(protocol.STDOUT, b"hello") + protocol.encode(protocol.EXIT, b"3")
    assert reader.feed(data[:4]) == []
    assert reader.feed(data[4:]) == [(protocol.STDOUT, b"hello"), (protocol.EXIT, b"3")]


def test_long_socket_paths_go_through_proc_fd(tmp_path: Path):
    deep = tmp_path / ("d" * 120)
    deep.mkdir()
    addr, fd = protocol.socket_address(str(deep / "attach"))
    assert fd is not None and addr.startswith("/proc/self/fd/") and len(addr) < 108
    os.close(fd)


@pytest.mark.parametrize("driver", ["json-file", "k8s-file"])
def test_log_writer_lines_and_partials(tmp_path: Path, driver):
    path = tmp_path / "log"
    log = LogWriter(str(path), driver)
    log.write("stdout", b"one\ntw")
    log.write("stderr", b"err\n")
    log.write("stdout", b"o\n")
    log.write("stdout", b"tail")
    log.close()
    lines = path.read_text().splitlines()
    if driver == "json-file":
        recs = [json.loads(line) for line in lines]
        assert [(r["stream"], r["log"]) for r in recs] == [
            ("stdout", "one\n"), ("stderr", "err\n"), ("stdout", "two\n"), ("stdout", "tail")]
    else:
        assert [line.split(" ", 1)[1] for line in lines] == [
            "stdout F one", "stderr F err", "stdout F two", "stdout P tail"]


@pytest.mark.parametrize("text", [
    "", "hi\n", "plain log line", 'a "quoted" \\ path\n', "tab\there\r\n", "\x00\x1f\x7f",
    "é日😀\n", "\u2028 separator", "\ud800 lone surrogate", "\n", "\n\n", "a\nb\n",
])
def test_supervisor_json_string_is_json_dumps(text: str) -> None:
    import json

    assert protocol.json_string(text) == json.dumps(text, ensure_ascii=False)
