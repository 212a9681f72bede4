"""Docker behaviours scripts depend on (issue #12), each checked against Docker's documented
result: `rm -f` of what is missing, "0 is no limit", `run -a stdin`, `save` by id or by
name, hard links through COPY/ADD, `cp` into directories and as tar streams, and the 127/126
messages runc gives.
"""

from __future__ import annotations

import io
import re
import subprocess
import tarfile
from pathlib import Path

from helpers.runner import Pyc

ID = re.compile(r"^[0-9a-f]{64}$")


def test_force_removal_of_missing_objects_reports_and_exits_0(pyc: Pyc) -> None:
    # Docker CLI 20.10+: `rm -f`, `network rm -f`, `rmi -f` print the error, exit 0
    for args, what in ((("rm", "-f", "nosuch"), "No such container: nosuch"),
                       (("network", "rm", "-f", "nosuch"), "No such network: nosuch"),
                       (("rmi", "-f", "nosuch"), "No such image: nosuch")):
        res = pyc(*args)
        assert res.rc == 0 and res.out == "" and what in res.err, (args, res)
        assert len(res.err.splitlines()) == 1
        assert pyc(*[a for a in args if a != "-f"]).rc != 0  # without -f: a failure


def test_zero_limits_mean_no_limit_without_a_delegated_cgroup(
        nosub_pyc: Pyc, fixture_refs: dict[str, str]) -> None:
    image = fixture_refs["busybox"]
    nosub_pyc.ok("pull", "-q", image)
    for flags in (("--memory=0", "--memory-swap=0"), ("--cpus=0",), ("--pids-limit=0",),
                  ("--pids-limit=-1",), ("--memory=0", "--cpus=0", "--pids-limit=0")):
        res = nosub_pyc("run", "--rm", *flags, image, "echo", "ran")
        assert res.rc == 0 and res.out == "ran\n", (flags, res)
    # a real limit still needs the cgroup, and says so
    assert "cgroup" in nosub_pyc.fail("run", "--rm", "--pids-limit=10", image, "true").err


def test_run_attached_to_stdin_only_prints_the_container_id(
        pyc: Pyc, fixture_refs: dict[str, str]) -> None:
    res = pyc.ok("run", "--rm", "-a", "stdin", fixture_refs["busybox"], "echo", "hidden")
    assert ID.match(res.out.strip()), res  # the id, not the command's output
    res = pyc.ok("run", "--rm", "-a", "stdout", fixture_refs["busybox"], "echo", "shown")
    assert res.out == "shown\n"


def test_save_by_id_has_no_repo_tags_save_by_name_has_them(
        pyc: Pyc, fixture_refs: dict[str, str], tmp_path: Path) -> None:
    image = fixture_refs["busybox"]
    pyc.ok("pull", "-q", image)
    image_id = pyc.ok("inspect", "-f", "{{.Id}}", image).out.strip()
    for ref, expect in ((image_id, "<none>:<none>"), (image_id[7:19], "<none>:<none>"),
                        (image, image)):
        archive = tmp_path / "img.tar"
        pyc.ok("tag", image_id, image)  # named again after the last round's load
        pyc.ok("save", "-o", str(archive), ref)
        pyc.ok("rmi", "-f", image_id)
        pyc.ok("load", "-i", str(archive))
        assert pyc.ok("images", "--format", "{{.Repository}}:{{.Tag}}").lines == [expect], ref
    with tarfile.open(archive) as tar:  # the last one, by name: Docker's manifest.json
        manifest = tar.extractfile("manifest.json")
        assert manifest is not None and image.encode() in manifest.read()


def test_copy_and_add_keep_hard_links(pyc: Pyc, fixture_refs: dict[str, str],
                                      tmp_path: Path) -> None:
    ctx = tmp_path / "ctx"
    (ctx / "sub").mkdir(parents=True)
    (ctx / "sub" / "a").write_text("one inode\n")
    (ctx / "sub" / "b").hardlink_to(ctx / "sub" / "a")
    (ctx / "Dockerfile").write_text(f"FROM {fixture_refs['busybox']}\nCOPY sub /sub\n"
                                    "ADD sub /sub2\n")
    pyc.ok("build", "-q", "-t", "links", str(ctx))
    out = pyc.ok("run", "--rm", "links", "stat", "-c", "%i %h", "/sub/a", "/sub/b",
                 "/sub2/a", "/sub2/b").lines
    assert out[0] == out[1] and out[0].endswith(" 2"), out
    assert out[2] == out[3] and out[2] != out[0], out


def test_cp_into_directories_and_as_tar_streams(pyc: Pyc, fixture_refs: dict[str, str],
                                                tmp_path: Path) -> None:
    pyc.ok("run", "-d", "--name", "c", fixture_refs["busybox"], "sleep", "100")
    (tmp_path / "f").write_text("file\n")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "g").write_text("in dir\n")
    pyc.ok("cp", str(tmp_path / "f"), "c:/etc")  # an existing dir: copied into it
    pyc.ok("cp", str(tmp_path / "d"), "c:/etc")
    assert pyc.ok("exec", "c", "cat", "/etc/f", "/etc/d/g").out == "file\nin dir\n"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(tmp_path / "f", arcname="streamed")
    res = subprocess.run(pyc.argv("cp", "-", "c:/root"), input=buf.getvalue(),
                         capture_output=True, env=pyc.env)
    assert res.returncode == 0, res
    assert pyc.ok("exec", "c", "cat", "/root/streamed").out == "file\n"
    res = subprocess.run(pyc.argv("cp", "c:/etc/d", "-"), capture_output=True, env=pyc.env)
    with tarfile.open(fileobj=io.BytesIO(res.stdout)) as tar:
        assert sorted(tar.getnames()) == ["d", "d/g"]
    # every failure: one line, no Python error text
    for args in (("c:/etc/nosuch", str(tmp_path)), ("c:/etc", str(tmp_path / "f")),
                 (str(tmp_path / "nosuch"), "c:/x"), ("c:/etc/*", str(tmp_path)),
                 (str(tmp_path / "f"), "c:/etc/passwd/"), (str(tmp_path / "d"), "c:/etc/passwd"),
                 (str(tmp_path / "f"), "c:/proc/sys/x"), ("-", "c:/tmp")):
        res = pyc.fail("cp", *args)
        assert len(res.err.splitlines()) == 1 and "Errno" not in res.err, (args, res)
    assert pyc.ok("exec", "c", "head", "-c", "5", "/etc/passwd").out == "root:"  # kept


def test_not_found_is_127_and_not_executable_126_in_runc_words(
        pyc: Pyc, fixture_refs: dict[str, str]) -> None:
    image = fixture_refs["busybox"]
    assert "no such file or directory" in pyc.fail("run", "--rm", image, "nosuchcmd",
                                                   rc=127).err
    assert "no such file or directory" in pyc.fail("run", "--rm", image, "/no/such",
                                                   rc=127).err
    assert "permission denied" in pyc.fail("run", "--rm", image, "/etc/passwd", rc=126).err
    pyc.ok("run", "-d", "--name", "e", image, "sleep", "100")
    assert "no such file or directory" in pyc.fail("exec", "e", "nosuchcmd", rc=127).err
    assert "permission denied" in pyc.fail("exec", "e", "/etc/passwd", rc=126).err
