"""Podman's CLI extensions (issue #12): each command line run by pyc and by rootless Podman
4.3 on the same local-registry image, exit status and shaped output compared
(`helpers.podman.same`: ids, sizes and ages masked).

One pyc and one podman state for the module (podman is slow to set up); each test starts by
removing every container, so the order of the tests does not matter.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import podman as pm
from helpers import registry as reg
from helpers.runner import Pyc, Result

from .conftest import missing


@pytest.fixture(scope="module")
def engines(fixture_refs: dict[str, str], registry: str) -> Iterator[tuple[Pyc, pm.Podman]]:
    if not pm.available():
        missing("podman is not installed")
    base = Path(tempfile.mkdtemp(prefix="pyc-podext-"))
    pyc = Pyc.create(base / "pyc")
    podman = pm.Podman(base / "podman", registry)
    pyc.ok("pull", "-q", fixture_refs["busybox"])
    podman.ok("pull", "-q", fixture_refs["busybox"])
    yield pyc, podman
    pyc.cleanup()
    podman.cleanup()


@pytest.fixture
def both(engines: tuple[Pyc, pm.Podman]) -> tuple[Pyc, pm.Podman]:
    for engine in engines:
        engine("rm", "-af", "-t", "0", timeout=60)  # podman would wait 10 s for `sleep`
    return engines


def _same(both: tuple[Pyc, pm.Podman], *args: str, stderr: bool = False,
          stdout: bool = True) -> Result:
    """Run the line with both; the same exit status and shaped stdout (and stderr)."""
    pyc, podman = both
    ours, theirs = pyc(*args), podman(*args)
    pm.same(ours, theirs, stdout)
    if stderr:  # the message (podman adds a line of help after a usage error)
        assert ours.err.split("\n")[0] == theirs.err.split("\n")[0], (ours, theirs)
    return ours


def test_all_and_filter_pick_what_each_verb_applies_to(
        both: tuple[Pyc, pm.Podman], fixture_refs: dict[str, str]) -> None:
    image = fixture_refs["busybox"]
    for engine in both:
        engine.ok("create", "--name", "a1", image, "sleep", "100")
        engine.ok("create", "--name", "a2", "--label", "x=1", image, "sleep", "100")
    _same(both, "start", "--filter", "label=x=1")  # a2 only
    _same(both, "start", "--all")  # a1: a2 runs already
    _same(both, "stop", "-a", "foo", stderr=True)  # 125, no arguments with --all
    _same(both, "stop", "--filter", "name=a1", "a1", stderr=True)
    _same(both, "stop", "-a", "-t", "0")  # both ids
    _same(both, "kill", "-a")  # none runs any more: nothing, exit 0
    _same(both, "restart", "-f", "label=x=1", "-t", "0")  # a2 id
    _same(both, "stop", "--filter", "label=x=1", "-t", "0")
    _same(both, "rm", "-a")  # both ids
    pyc, _ = both
    assert pyc.ok("ps", "-aq").out == ""


def test_ignore_makes_a_missing_object_no_error(both: tuple[Pyc, pm.Podman]) -> None:
    for line in (("rm", "-i", "nosuch"), ("stop", "-i", "nosuch"), ("rmi", "-i", "nosuch"),
                 ("rm", "--ignore", "nosuch", "nosuch2")):
        _same(both, *line, stderr=True)  # exit 0, nothing printed at all


def test_rm_time_needs_force_and_depend_removes_dependents(
        both: tuple[Pyc, pm.Podman], fixture_refs: dict[str, str]) -> None:
    image = fixture_refs["busybox"]
    for engine in both:
        engine.ok("run", "-d", "--name", "q1", image, "sleep", "100")
        engine.ok("create", "--name", "d1", image, "sleep", "100")
        engine.ok("create", "--name", "d2", "--network", "container:d1", image, "true")
    _same(both, "rm", "-t", "0", "q1", stderr=True)  # 125: --time wants --force
    _same(both, "rm", "-f", "-t", "0", "q1")  # "q1"
    pyc, podman = both
    d2 = pyc.ok("inspect", "-f", "{{.Id}}", "d2").out.strip()
    ours, theirs = pyc("rm", "--depend", "d1"), podman("rm", "--depend", "d1")
    pm.same(ours, theirs)  # the dependent's id, then d1's
    assert ours.lines[0] == d2
    assert pyc.ok("ps", "-aq").out == ""


def test_exists_answers_with_the_exit_status_only(
        both: tuple[Pyc, pm.Podman], fixture_refs: dict[str, str]) -> None:
    pyc, podman = both
    for engine in both:
        engine.ok("volume", "create", "exv")
        engine.ok("create", "--name", "exc", fixture_refs["busybox"], "true")
    for line in (("image", "exists", fixture_refs["busybox"]), ("image", "exists", "nosuch"),
                 ("container", "exists", "exc"), ("container", "exists", "nosuch"),
                 ("volume", "exists", "exv"), ("volume", "exists", "nosuch"),
                 ("network", "exists", "nosuch")):
        res = _same(both, *line, stderr=True)
        assert res.rc == (1 if "nosuch" in line else 0) and res.out == res.err == ""
    for engine in both:
        engine.ok("volume", "rm", "exv")


def test_tag_several_names_and_untag_some_or_all(
        both: tuple[Pyc, pm.Podman], fixture_refs: dict[str, str], registry: str) -> None:
    image = fixture_refs["busybox"]
    names = [f"{registry}/ext/{n}" for n in ("a:1", "b:2", "c:3")]
    listing = ("images", "--format", "{{.Repository}}:{{.Tag}}", "--sort", "repository")
    _same(both, "tag", image, *names)
    assert _same(both, *listing).lines == sorted([image, *names])
    _same(both, "untag", image, names[0], names[1])
    _same(both, "untag", image, f"{registry}/ext/nosuch:1")  # 125: tag not known
    assert _same(both, *listing).lines == sorted([image, names[2]])
    _same(both, "untag", image)  # no names: every name goes, the image stays
    assert _same(both, *listing).lines == ["<none>:<none>"]
    for engine in both:  # named again, for the other tests
        engine.ok("tag", engine.ok("images", "-q").out.split()[0], image)


def test_rmi_all_and_volume_rm_all(both: tuple[Pyc, pm.Podman],
                                   fixture_refs: dict[str, str]) -> None:
    for engine in both:
        engine.ok("volume", "create", "va")
        engine.ok("volume", "create", "vb")
    assert _same(both, "volume", "rm", "-a").lines == ["va", "vb"]
    _same(both, "volume", "ls", "-q")
    _same(both, "rmi", "-a", "foo", stderr=True)  # 125: no names with --all
    pyc, podman = both
    ours, theirs = pyc("rmi", "-a"), podman("rmi", "-a")
    pm.same(ours, theirs, stdout=False)  # the Untagged lines are Docker's in pyc
    assert ours.lines[-1].startswith("Deleted: ") and theirs.lines[-1].startswith("Deleted: ")
    assert _same(both, "images", "-q").out == ""
    _same(both, "rmi", "-a")  # nothing left: nothing printed, exit 0
    for engine in both:
        engine.ok("pull", "-q", fixture_refs["busybox"])


def test_ps_and_images_noheading_and_sort(both: tuple[Pyc, pm.Podman],
                                          fixture_refs: dict[str, str], registry: str) -> None:
    image = fixture_refs["busybox"]
    for engine in both:
        for name, cmd in (("zz", "true"), ("aa", "sleep 1"), ("mm", "echo")):
            engine.ok("create", "--name", name, image, *cmd.split())
        engine.ok("tag", image, f"{registry}/srt/b:1", f"{registry}/srt/a:2")
    assert _same(both, "ps", "-a", "--sort", "names", "--format", "{{.Names}}").lines == [
        "aa", "mm", "zz"]
    assert _same(both, "ps", "-a", "--sort", "created", "--format", "{{.Names}}").lines == [
        "zz", "aa", "mm"]
    _same(both, "ps", "-a", "--sort", "created", "--noheading", "--format",
          "table {{.Names}}")
    pyc, podman = both
    # the default columns are Docker's in pyc (quoted command, newest first): count lines
    ours, theirs = pyc("ps", "-a", "--noheading"), podman("ps", "-a", "--noheading")
    pm.same(ours, theirs, stdout=False)
    assert len(ours.lines) == len(theirs.lines) == 3 and "NAMES" not in ours.out
    _same(both, "ps", "-a", "--sort", "bogus", stderr=True)  # 125, the same message
    assert _same(both, "images", "--sort", "tag", "--format", "{{.Tag}}").lines == [
        "1", "2", "latest"]
    ours, theirs = pyc("images", "--noheading"), podman("images", "--noheading")
    pm.same(ours, theirs, stdout=False)
    assert len(ours.lines) == len(theirs.lines) == 3 and "REPOSITORY" not in ours.out
    # podman lists the keys in a Go map's (random) order: the message, not the list
    assert '"bogus" is not a valid field for sorting' in _same(both, "images", "--sort",
                                                               "bogus").err
    for engine in both:
        engine.ok("untag", image, f"{registry}/srt/b:1", f"{registry}/srt/a:2")


def test_diff_json_commit_quiet_history_and_inspect_fields(
        both: tuple[Pyc, pm.Podman], fixture_refs: dict[str, str]) -> None:
    image = fixture_refs["busybox"]
    for engine in both:
        engine.ok("run", "--name", "dc", image, "sh", "-c",
                  "echo x > /etc/newf; rm /etc/group; mkdir /tmp/dd")
    assert json.loads(_same(both, "diff", "--format", "json", "dc").out) == {
        "changed": ["/etc", "/tmp"], "added": ["/etc/newf", "/tmp/dd"],
        "deleted": ["/etc/group"]}
    assert pm.shape(_same(both, "commit", "-q", "dc", "cimg").out) == "<ID>\n"
    pyc, podman = both
    ours = json.loads(pyc.ok("history", "--format", "json", image).lines[0])
    theirs = json.loads(podman.ok("history", "--format", "json", image).out)[0]
    assert set(theirs) <= set(ours), (ours, theirs)
    # sizes differ by nature: Podman counts the layer tar, Docker (and pyc) the files
    assert ours["id"] == theirs["id"] and isinstance(ours["size"], int)
    fields = "{{.ImageName}} {{.ImageDigest}} {{.OCIRuntime}}|{{.Pod}}|{{.Namespace}}|"
    ours_c = pyc.ok("container", "inspect", "--format", fields, "dc").out
    theirs_c = podman.ok("container", "inspect", "--format", fields, "dc").out
    assert ours_c.replace("builtin", "runc") == theirs_c
    fields = "{{.ManifestType}} {{.User}} {{.Digest}} {{json .Annotations}}"
    _same(both, "image", "inspect", "--format", fields, image)
    assert _same(both, "image", "inspect", "--format", "{{index .NamesHistory 0}}",
                 image).out == image + "\n"
    for engine in both:
        engine.ok("rm", "dc")
        engine.ok("rmi", "cimg")


def test_images_filter_takes_podmans_keys(both: tuple[Pyc, pm.Podman],
                                          fixture_refs: dict[str, str]) -> None:
    image = fixture_refs["busybox"]
    for engine in both:
        engine.ok("run", "--name", "dc", image, "touch", "/x")
        engine.ok("commit", "-q", "dc", "127.0.0.1:5000/ext/newer:1")
        engine.ok("rm", "dc")
    pyc, podman = both
    image_id = pyc.ok("inspect", "-f", "{{.Id}}", image).out.strip()
    fmt = ("--format", "{{.Repository}}:{{.Tag}}")
    newer = ["127.0.0.1:5000/ext/newer:1"]
    for filt, expect in ((f"id={image_id[7:]}", [image]), ("readonly=false", [*newer, image]),
                         ("readonly=true", []), ("intermediate=false", [*newer, image]),
                         (f"after={image}", newer), (f"since={image}", newer)):
        assert _same(both, "images", "--filter", filt, *fmt).lines == expect, filt
    # Podman 4.3 knows no digest= yet (later versions do): pyc matches a digest prefix
    digest = pyc.ok("inspect", "-f", "{{.Digest}}", image).out.strip()
    assert pyc.ok("images", "--filter", f"digest={digest}", *fmt).lines == [image]
    assert pyc.ok("images", "--filter", f"id={image_id[7:19]}", *fmt).lines == [image]
    for engine in both:
        engine.ok("rmi", newer[0])


def _listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_save_directory_formats_and_load_them_both_ways(
        both: tuple[Pyc, pm.Podman], fixture_refs: dict[str, str], tmp_path: Path) -> None:
    image = fixture_refs["busybox"]
    pyc, podman = both
    image_id = pyc.ok("inspect", "-f", "{{.Id}}", image).out.strip()
    for fmt in ("oci-dir", "docker-dir"):
        ours, theirs = tmp_path / f"pyc-{fmt}", tmp_path / f"podman-{fmt}"
        pm.same(pyc("save", "--format", fmt, "-o", str(ours), image),
                podman("save", "--format", fmt, "-o", str(theirs), image))
        if fmt == "docker-dir":  # the same files, named by digest
            assert _listing(ours) == _listing(theirs)
        else:  # Podman gzips an oci-dir's layers (unless --uncompressed): other digests
            assert [p.name for p in sorted(ours.iterdir())] == ["blobs", "index.json",
                                                                 "oci-layout"]
            assert len(_listing(ours)) == len(_listing(theirs))
        assert podman.ok("load", "-i", str(ours)).rc == 0  # Podman reads pyc's
        pyc.ok("rmi", "-f", image)
        loaded = pyc.ok("load", "-i", str(theirs)).out  # and pyc Podman's
        assert image_id in loaded or image in loaded, loaded
        assert pyc.ok("inspect", "-f", "{{.Id}}", image_id).out.strip() == image_id
        pyc.ok("tag", image_id, image)
        if fmt == "docker-dir":  # a directory with other files in it: refused by both
            pm.same(pyc("save", "--format", fmt, "-o", str(tmp_path), image),
                    podman("save", "--format", fmt, "-o", str(tmp_path), image))
    for args in (("-m",), ("--uncompressed", "--format", "oci-dir")):
        out = tmp_path / "-".join(args)
        pm.same(pyc("save", *args, "-o", str(out) + ".pyc", image),
                podman("save", *args, "-o", str(out) + ".podman", image))
        pyc.ok("rmi", "-f", image)
        pyc.ok("load", "-i", str(out) + ".pyc")
        pyc.ok("tag", image_id, image)


def test_build_containerfile_relative_file_pull_format_and_buildx(
        both: tuple[Pyc, pm.Podman], fixture_refs: dict[str, str], tmp_path: Path,
        registry: str) -> None:
    ctx = tmp_path / "ctx"
    (ctx / "sub").mkdir(parents=True)
    base = fixture_refs["busybox"]
    (ctx / "Containerfile").write_text(f"FROM {base}\nCOPY . /ctx\n")
    (ctx / ".containerignore").write_text("secret\n")
    (ctx / "secret").write_text("not copied\n")
    (ctx / "sub" / "Other").write_text(f"FROM {base}\nCMD [\"echo\", \"other\"]\n")
    (tmp_path / "missing").mkdir()
    (tmp_path / "missing" / "Dockerfile").write_text("FROM 127.0.0.1:5000/ext/nosuch:1\n")
    pyc, podman = both
    # -f sub/Other: not in the working directory (pytest's, or tmp_path), so the context's
    docker_format = ("build", "-q", "--format", "docker", "-f", "sub/Other", "-t", "cf2",
                     str(ctx))
    pyc.ok("build", "-q", "-t", "cf1", str(ctx))
    pyc.ok(*docker_format)
    podman.ok("build", "-q", "-t", "cf1", str(ctx), cwd=str(tmp_path))
    podman.ok(*docker_format, cwd=str(tmp_path))
    assert _same(both, "run", "--rm", "cf1", "ls", "-A", "/ctx").lines == [
        ".containerignore", "Containerfile", "sub"]
    assert _same(both, "run", "--rm", "cf2").out == "other\n"
    assert _same(both, "image", "inspect", "--format", "{{.ManifestType}}", "cf2").out == (
        "application/vnd.docker.distribution.manifest.v2+json\n")
    _same(both, "build", "-q", "--pull=never", str(tmp_path / "missing"), stdout=False)
    _same(both, "build", "-q", "--pull-never", str(tmp_path / "missing"), stdout=False)
    ours = _same(both, "build", "-q", "--pull=never", "-t", "cf3", str(ctx), stdout=False)
    assert ours.out.startswith("sha256:")  # Docker's -q output
    for line in (("buildx", "build", "-q", "--load", "-t", "bx", str(ctx)),
                 ("buildx", "build", "-q", "--platform", "linux/amd64", "-t", "bx",
                  str(ctx))):
        _same(both, *line, stdout=False)
    assert pyc.ok("images", "-q", "bx").out
    for engine in both:
        engine.ok("rmi", "cf1", "cf2", "cf3", "bx")
    # refused clearly (Podman hands --runtime-flag to its runtime; BuildKit's own options)
    assert "--runtime-flag" in pyc.fail("build", "--runtime-flag", "debug", str(ctx)).err
    assert "--builder" in pyc.fail("buildx", "build", "--builder", "b", str(ctx)).err
    assert "several" in pyc.fail("buildx", "build", "--platform",
                                 "linux/amd64,linux/arm64", str(ctx)).err
    pushed = f"{registry}/ext/pushed:{os.getpid()}"
    pyc.ok("buildx", "build", "-q", "--push", "-t", pushed, str(ctx))
    repo, tag = pushed.split("/", 1)[1].rsplit(":", 1)
    found = reg.manifest(registry, repo, tag)
    assert found is not None
    pyc.ok("rmi", pushed)
    reg.delete_manifest(registry, repo, tag)


def test_cp_between_containers_and_globs_as_literal_names(
        both: tuple[Pyc, pm.Podman], fixture_refs: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "f").write_text("payload\n")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "g").write_text("in dir\n")
    for engine in both:
        for name in ("c1", "c2"):
            engine.ok("run", "-d", "--name", name, fixture_refs["busybox"], "sleep", "100")
        engine.ok("cp", str(tmp_path / "f"), "c1:/etc/")
        engine.ok("cp", str(tmp_path / "d"), "c1:/etc/")
    _same(both, "cp", "c1:/etc/f", "c2:/tmp")  # into the existing directory
    _same(both, "cp", "c1:/etc/d", "c2:/tmp/renamed")  # a new name: the directory renamed
    assert _same(both, "exec", "c2", "cat", "/tmp/f", "/tmp/renamed/g").out == (
        "payload\nin dir\n")
    # a glob is a name like any other: no such file, in the container or on the host
    _same(both, "cp", "c1:/etc/*", str(tmp_path))
    _same(both, "cp", str(tmp_path / "*"), "c1:/tmp")
    assert not (tmp_path / "passwd").exists()


def test_pause_and_unpause_all_and_filter(both: tuple[Pyc, pm.Podman],
                                          fixture_refs: dict[str, str]) -> None:
    # Podman 4.3 refuses to pause rootless containers on cgroup v1 ("unpause is not
    # supported for cgroupv1 rootless containers"): pyc, with the delegated cgroup, is held
    # to Podman's documented output instead, the full id of each container acted on
    pyc, _ = both
    ids = {name: pyc.ok("run", "-d", "--name", name, fixture_refs["busybox"], "sleep",
                        "100").out.strip() for name in ("p1", "p2")}
    pyc.ok("create", "--name", "p3", fixture_refs["busybox"], "true")  # not running
    assert sorted(pyc.ok("pause", "-a").lines) == sorted(ids.values())
    assert sorted(pyc.ok("ps", "--filter", "status=paused", "-q", "--no-trunc").lines) == \
        sorted(ids.values())
    assert pyc.ok("unpause", "--filter", "name=p1").lines == [ids["p1"]]
    assert pyc.ok("unpause", "-a").lines == [ids["p2"]]  # the paused one only
    res = pyc.fail("pause", "-a", "p1")
    assert res.err.strip() == "Error: no arguments are needed with --all"
