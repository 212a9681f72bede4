"""pyc save / pyc load: round trips, and archives other tools read."""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from helpers.runner import Pyc


def _inspect(pyc: Pyc, name: str) -> dict[str, object]:
    return json.loads(pyc.ok("image", "inspect", name).out)[0]


def test_save_pipe_load_round_trip(pyc: Pyc, fixture_refs: dict[str, str],
                                   tmp_path: Path) -> None:
    ref = fixture_refs["busybox"]
    pyc.ok("pull", "-q", ref)
    before = _inspect(pyc, ref)
    other = Pyc.create(tmp_path / "other")
    try:
        save = subprocess.Popen(pyc.argv("save", ref), env=pyc.env, stdout=subprocess.PIPE)
        load = subprocess.run(other.argv("load"), env=other.env, stdin=save.stdout,
                              capture_output=True, text=True)
        assert save.stdout is not None
        save.stdout.close()
        assert save.wait() == 0
        assert load.returncode == 0, load.stderr
        assert load.stdout.strip() == f"Loaded image: {ref}"
        after = _inspect(other, ref)
        assert after["Id"] == before["Id"]
        assert after["RootFS"] == before["RootFS"]
        assert after["Config"] == before["Config"]
        # the loaded layers are really there: uid 33 survives the round trip
        res = other.ok("unshare", "sh", "-c",
                       f"stat -c %u {other.root}/images/layers/*/var/www/owned-by-33")
        assert res.out.split() == ["33"]
    finally:
        other.cleanup()


def test_save_to_file_several_images_and_load_from_file(pyc: Pyc, fixture_refs: dict[str, str],
                                                        tmp_path: Path) -> None:
    ref = fixture_refs["busybox"]
    pyc.ok("pull", "-q", ref)
    pyc.ok("tag", ref, "local/copy:two")
    out = tmp_path / "images.tar"
    pyc.ok("save", "-o", str(out), ref, "local/copy:two")
    with tarfile.open(out) as t:
        names = t.getnames()
        manifest = json.load(t.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert "index.json" in names and "oci-layout" in names
    assert sorted(tag for e in manifest for tag in e["RepoTags"]) == [
        ref.replace("127.0.0.1:5000/", "127.0.0.1:5000/"), "local/copy:two"]
    pyc.ok("rmi", ref, "local/copy:two")
    res = pyc.ok("load", "-i", str(out))
    assert f"Loaded image: {ref}" in res.out and "Loaded image: local/copy:two" in res.out
    assert pyc.ok("image", "exists", "local/copy:two").rc == 0


def test_saving_to_a_terminal_is_refused(pyc: Pyc) -> None:
    pyc.fail("save", "nothing-here")


@pytest.mark.parametrize("fmt", ["docker-archive", "oci-archive"])
def test_skopeo_reads_the_archive(pyc: Pyc, fixture_refs: dict[str, str], tmp_path: Path,
                                  fmt: str) -> None:
    if not shutil.which("skopeo"):
        pytest.fail("skopeo is not installed")
    ref = fixture_refs["busybox"]
    pyc.ok("pull", "-q", ref)
    out = tmp_path / "a.tar"
    pyc.ok("save", "--format", fmt, "-o", str(out), ref)
    res = subprocess.run(["skopeo", "inspect", "--config", f"{fmt}:{out}"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["rootfs"]["diff_ids"] == _inspect(pyc, ref)["RootFS"][
        "Layers"]  # type: ignore[index]


def test_load_an_oci_archive_made_by_skopeo(pyc: Pyc, fixture_refs: dict[str, str],
                                            tmp_path: Path) -> None:
    ref = fixture_refs["busybox"]
    out = tmp_path / "oci.tar"
    res = subprocess.run(["skopeo", "copy", "--src-tls-verify=false", f"docker://{ref}",
                          f"oci-archive:{out}:{ref}"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    pyc.ok("load", "-i", str(out))
    assert pyc.ok("image", "exists", ref).rc == 0


def test_load_garbage_fails_cleanly(pyc: Pyc) -> None:
    res = subprocess.run(pyc.argv("load"), input=b"this is not a tarball" * 100, env=pyc.env,
                         capture_output=True, text=False)
    assert res.returncode == 125
    assert res.stderr.decode().startswith("Error:")


def test_podman_loads_what_pyc_saves_and_pyc_loads_what_podman_saves(
        pyc: Pyc, fixture_refs: dict[str, str], tmp_path: Path) -> None:
    if not shutil.which("podman"):
        pytest.fail("podman is not installed")
    ref = fixture_refs["busybox"]
    pyc.ok("pull", "-q", ref)
    ours = tmp_path / "pyc.tar"
    pyc.ok("save", "-o", str(ours), ref)
    import tempfile

    runroot = tempfile.mkdtemp(prefix="pycp-", dir="/tmp")  # podman wants < 50 characters
    podman = ["podman", "--root", str(tmp_path / "proot"), "--runroot", runroot,
              "--cgroup-manager", "cgroupfs", "--events-backend", "file"]
    try:
        res = subprocess.run([*podman, "load", "-i", str(ours)], capture_output=True,
                             text=True)
        assert res.returncode == 0, res.stderr
        assert ref in res.stdout
        theirs = tmp_path / "podman.tar"
        res = subprocess.run([*podman, "save", "--format", "docker-archive", "-o",
                              str(theirs), ref], capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
    finally:
        subprocess.run([*podman, "unshare", "rm", "-rf", str(tmp_path / "proot"), runroot],
                       capture_output=True)
        shutil.rmtree(runroot, ignore_errors=True)
    before = _inspect(pyc, ref)
    pyc.ok("rmi", ref)
    pyc.ok("load", "-i", str(theirs))
    after = _inspect(pyc, ref)
    assert after["Id"] == before["Id"] and after["RootFS"] == before["RootFS"]
