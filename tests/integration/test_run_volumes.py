"""`pyc run` volumes and mounts, end to end (issue 5): bind mounts, named and anonymous
volumes with copy-up, `--mount`, `--tmpfs`, `--volumes-from`, ownership and keep-id."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.runner import Pyc


@pytest.fixture(scope="module")
def vpyc(_host_prerequisites: None) -> Iterator[Pyc]:
    base = Path(tempfile.mkdtemp(prefix="pyc-vol-"))
    runner = Pyc.create(base)
    yield runner
    runner.cleanup()
    with open("/proc/self/mountinfo") as f:
        left = [line for line in f if str(runner.root) in line or str(runner.runroot) in line]
    assert not left, f"mounts left behind: {left}"


@pytest.fixture(scope="module")
def bb(vpyc: Pyc, fixture_refs: dict[str, str]) -> str:
    vpyc.ok("pull", "-q", fixture_refs["busybox"])
    return fixture_refs["busybox"]


@pytest.fixture(scope="module")
def deb(vpyc: Pyc, fixture_refs: dict[str, str]) -> str:
    vpyc.ok("pull", "-q", fixture_refs["debian"])
    return fixture_refs["debian"]


def test_named_volume_data_survives_rm(vpyc, bb):
    vpyc.ok("run", "--name", "writer", "-v", "keep:/data", bb, "sh", "-c",
            "echo persisted > /data/f")
    vpyc.ok("rm", "writer")
    assert "keep" in vpyc.ok("volume", "ls", "-q").out.split()
    assert vpyc.ok("run", "--rm", "-v", "keep:/d", bb, "cat", "/d/f").out == "persisted\n"
    vpyc.ok("run", "-d", "--name", "holder", "-v", "keep:/d", bb, "sleep", "300")
    assert vpyc("volume", "rm", "keep").rc != 0  # in use
    vpyc.ok("rm", "-f", "holder")
    vpyc.ok("volume", "rm", "keep")


def test_volume_over_image_etc_starts_with_the_image_files(vpyc, bb):
    out = vpyc.ok("run", "--rm", "-v", "etcvol:/etc", "--hostname", "etcbox", bb, "sh", "-c",
                  "cat /etc/hostname; cat /etc/passwd | head -1; stat -c '%u:%g %a' "
                  "/etc/passwd").out
    # pyc's /etc/hostname goes on top of the volume (mounts are sorted parents first)
    assert out.startswith("etcbox\nroot:x:0:0:")
    assert out.endswith("0:0 644\n")
    # the content stays in the volume and is not copied again over later changes
    vpyc.ok("run", "--rm", "-v", "etcvol:/etc", bb, "rm", "/etc/group")
    out = vpyc.ok("run", "--rm", "-v", "etcvol:/mnt", bb, "ls", "/mnt").out.split()
    assert "passwd" in out and "group" not in out
    vpyc.ok("volume", "rm", "etcvol")


def test_copy_up_keeps_owners_inside_the_user_namespace(vpyc, deb):
    # Debian's /var/mail is root:mail (gid 8), mode 2775: a subordinate gid outside
    out = vpyc.ok("run", "--rm", "-v", "mail:/var/mail", deb, "stat", "-c", "%u:%g %a",
                  "/var/mail").out
    assert out == "0:8 2775\n"
    nocopy = vpyc.ok("run", "--rm", "-v", "empty:/etc/apt:nocopy", deb, "ls", "/etc/apt").out
    assert nocopy == ""
    vpyc.ok("volume", "rm", "mail", "empty")


def test_bind_mount_files_of_container_root_belong_to_the_user(vpyc, bb, tmp_path):
    host = tmp_path / "src"
    host.mkdir()
    (host / "in").write_text("from host\n")
    out = vpyc.ok("run", "--rm", "-v", f"{host}:/src", "-w", "/src", bb, "sh", "-c",
                  "cat in; echo made > out; mkdir d; id -u").out
    assert out == "from host\n0\n"
    for name in ("out", "d"):
        st = os.stat(host / name)
        assert (st.st_uid, st.st_gid) == (os.getuid(), os.getgid())


def test_keep_id_runs_as_the_user(vpyc, bb, tmp_path):
    out = vpyc.ok("run", "--rm", "--userns=keep-id", "-v", f"{tmp_path}:/w", bb, "sh", "-c",
                  "id -u; touch /w/k").out
    assert out == f"{os.getuid()}\n"
    assert os.stat(tmp_path / "k").st_uid == os.getuid()


def test_read_only_bind_and_missing_sources(vpyc, bb, tmp_path):
    res = vpyc("run", "--rm", "-v", f"{tmp_path}:/ro:ro", bb, "touch", "/ro/x")
    assert res.rc != 0 and "Read-only" in res.err
    missing = tmp_path / "made" / "by-v"
    vpyc.ok("run", "--rm", "-v", f"{missing}:/m", bb, "true")
    assert missing.is_dir()  # Docker's -v creates a missing host directory
    before = vpyc.ok("ps", "-aq").out
    res = vpyc.fail("run", "--name", "nope", "--mount",
                    f"type=bind,source={tmp_path}/absent,target=/x", bb, "true")
    assert "bind source path does not exist" in res.err
    assert vpyc.ok("ps", "-aq").out == before


def test_mount_flag_forms_and_tmpfs(vpyc, bb, tmp_path):
    (tmp_path / "f").write_text("bound\n")
    out = vpyc.ok(
        "run", "--rm", "--mount", f"type=bind,src={tmp_path},dst=/b,readonly",
        "--mount", "type=volume,source=mvol,target=/v", "--mount",
        "type=tmpfs,target=/t,tmpfs-size=1m", "--tmpfs", "/t2:size=2m,mode=1777", bb, "sh",
        "-c", "cat /b/f; touch /b/x 2>/dev/null || echo ro; echo v > /v/v; "
        "grep -E ' /t2? ' /proc/mounts; stat -c %a /t2").out
    assert out.startswith("bound\nro\n")
    assert "tmpfs /t tmpfs" in out and "size=1024k" in out
    assert "tmpfs /t2 tmpfs" in out and "size=2048k" in out
    assert out.endswith("1777\n")
    assert "mvol" in vpyc.ok("volume", "ls", "-q").out.split()
    vpyc.ok("volume", "rm", "mvol")


def test_anonymous_volumes_and_rm_v(vpyc, bb):
    before = set(vpyc.ok("volume", "ls", "-q").out.split())
    cid = vpyc.ok("create", "-v", "/scratch", bb, "true").out.strip()
    info = json.loads(vpyc.ok("inspect", cid).out)[0]
    mount = [m for m in info["Mounts"] if m["Destination"] == "/scratch"][0]
    assert mount["Type"] == "volume" and len(mount["Name"]) == 64
    assert mount["Name"] in vpyc.ok("volume", "ls", "-q").out.split()
    vpyc.ok("rm", "-v", cid)
    assert set(vpyc.ok("volume", "ls", "-q").out.split()) == before
    cid = vpyc.ok("create", "-v", "/scratch", bb, "true").out.strip()
    name = json.loads(vpyc.ok("inspect", "--format", "{{json .Mounts}}", cid).out)[0]["Name"]
    vpyc.ok("rm", cid)  # without -v the anonymous volume stays (Docker)
    assert name in vpyc.ok("volume", "ls", "-q").out.split()
    vpyc.ok("volume", "rm", name)
    vpyc.ok("run", "--rm", "-v", "/scratch", bb, "true")  # --rm removes it
    assert set(vpyc.ok("volume", "ls", "-q").out.split()) == before


def test_volumes_from(vpyc, bb, tmp_path):
    vpyc.ok("create", "--name", "source", "-v", "shared:/shared", "-v", f"{tmp_path}:/host",
            bb, "true")
    vpyc.ok("run", "--rm", "-v", "shared:/s", bb, "sh", "-c", "echo hi > /s/f")
    out = vpyc.ok("run", "--rm", "--volumes-from", "source:ro", bb, "sh", "-c",
                  "cat /shared/f; ls -d /host; touch /shared/x 2>/dev/null || echo ro").out
    assert out == "hi\n/host\nro\n"
    vpyc.ok("rm", "source")
    vpyc.ok("volume", "rm", "shared")


def test_inspect_shows_mounts_and_binds(vpyc, bb, tmp_path):
    cid = vpyc.ok("create", "-v", f"{tmp_path}:/b:ro", "-v", "named:/n", bb).out.strip()
    info = json.loads(vpyc.ok("inspect", cid).out)[0]
    by_dest = {m["Destination"]: m for m in info["Mounts"]}
    assert by_dest["/b"] == {"Type": "bind", "Source": str(tmp_path), "Destination": "/b",
                             "Mode": "", "RW": False, "Propagation": "rprivate"}
    assert by_dest["/n"]["Type"] == "volume" and by_dest["/n"]["Name"] == "named"
    assert sorted(info["HostConfig"]["Binds"]) == sorted([f"{tmp_path}:/b:ro", "named:/n"])
    row = vpyc.ok("ps", "-a", "--filter", f"id={cid}", "--format",
                  "{{.LocalVolumes}} {{.Mounts}} {{.Networks}}").out
    assert row == f"1 {tmp_path},named slirp4netns\n"
    vpyc.ok("rm", cid)
    vpyc.ok("volume", "rm", "named")


def test_bad_volume_specs_fail_with_125(vpyc, bb):
    for args in (["-v", "relative:dir"], ["-v", "/a:/b:bogus"], ["-v", "/a:/x", "-v", "/b:/x"],
                 ["--mount", "type=nfs,target=/x"], ["--mount", "type=tmpfs,source=a,target=/x"]):
        vpyc.fail("run", "--rm", *args, bb, "true")
