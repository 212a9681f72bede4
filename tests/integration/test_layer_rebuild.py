"""Pulled layers keep no compressed copy (a tar-split instead, images.tarsplit): push rebuilds
a layer the registry has not got, deterministically; save and load work from the rebuilt
stream; a store that kept compressed copies (the previous layout) still works."""

from __future__ import annotations

import json
import os
import secrets
import tarfile
import urllib.request
from pathlib import Path

import pytest
from helpers import registry as reg
from helpers.runner import Pyc

pytestmark = pytest.mark.integration


def _images(pyc: Pyc) -> Path:
    return pyc.root / "images"


def _layer_digests(pyc: Pyc, ref: str) -> tuple[list[str], list[str]]:
    """(manifest layer digests, diff ids) of a stored image."""
    rec = json.loads((_images(pyc) / "index.json").read_text())["images"]
    image_id = json.loads(pyc.ok("image", "inspect", "--format", "{{json .Id}}", ref).out)
    entry = rec[image_id]
    diff_ids = json.loads(pyc.ok("image", "inspect", "--format",
                                 "{{json .RootFS.Layers}}", ref).out)
    return [d["digest"] for d in entry["layers"]], diff_ids


def _blob_files(pyc: Pyc) -> set[str]:
    return {"sha256:" + n for n in os.listdir(_images(pyc) / "blobs" / "sha256")}


def _pulled_without_blobs(pyc: Pyc, ref: str) -> list[str]:
    pyc.ok("pull", "-q", ref)
    layers, diff_ids = _layer_digests(pyc, ref)
    assert not set(layers) & _blob_files(pyc), "a compressed layer was kept"
    for d in diff_ids:
        for suffix in (".tar-split.gz", ".sources.json"):
            path = _images(pyc) / "layers" / (d[7:] + suffix)
            assert path.is_file() and path.stat().st_mode & 0o077 == 0, path
    return layers


def test_push_rebuilds_layers_deterministically_and_the_image_pulls_back_and_runs(
        pyc: Pyc, fixture_refs: dict[str, str], registry: str, tmp_path: Path) -> None:
    src = fixture_refs["busybox"]
    pulled = _pulled_without_blobs(pyc, src)
    # the same registry under another name: nothing to mount from, so every layer is rebuilt
    host, port = registry.rsplit(":", 1)
    other = f"localhost:{port}" if host != "localhost" else f"127.0.0.1:{port}"
    repo = f"pyctest/rebuilt-{secrets.token_hex(4)}"
    target = f"{other}/{repo}:v1"
    pyc.ok("tag", src, target)
    first = pyc.ok("push", target)
    assert first.out.count(": Pushed") == len(pulled), first.out
    digest = first.lines[-1].split()[2]
    assert not set(pulled) & _blob_files(pyc)  # rebuilt in a temp file, not kept

    man = reg.manifest(registry, repo, "v1")
    assert man is not None and man[0] == digest
    pushed = [d["digest"] for d in json.loads(man[1])["layers"]]
    # the same image pushed from another store, to a new repository: rebuilt again, to
    # the same blobs and manifest
    twin = Pyc.create(tmp_path / "twin")
    try:
        again = f"{other}/{repo}-again:v1"
        twin.ok("pull", "-q", src)
        twin.ok("tag", src, again)
        second = twin.ok("push", again)
        assert second.out.count(": Pushed") == len(pulled), second.out
        assert second.lines[-1].split()[2] == digest
    finally:
        twin.cleanup()
    man2 = reg.manifest(registry, f"{repo}-again", "v1")
    assert man2 is not None and [d["digest"] for d in json.loads(man2[1])["layers"]] == pushed
    assert pushed != pulled  # recompressed, as Podman does: the diff ids are what stay
    # and to the first one again: the registry has every blob
    assert pyc.ok("push", target).out.count("Layer already exists") == len(pulled)

    fresh = Pyc.create(tmp_path / "fresh")
    try:
        fresh.ok("pull", "-q", target)
        ours = json.loads(pyc.ok("image", "inspect", src).out)[0]
        got = json.loads(fresh.ok("image", "inspect", target).out)[0]
        assert got["Id"] == ours["Id"]
        assert got["RootFS"]["Layers"] == ours["RootFS"]["Layers"]
        assert fresh.ok("run", "--rm", target, "echo", "rebuilt").out == "rebuilt\n"
    finally:
        fresh.cleanup()


def test_debian_pushed_to_a_second_repository_without_a_compressed_copy(
        pyc: Pyc, fixture_refs: dict[str, str], registry: str, tmp_path: Path) -> None:
    src = fixture_refs["debian"]
    pulled = _pulled_without_blobs(pyc, src)
    repo = f"pyctest/debian-{secrets.token_hex(4)}"
    target = f"{registry}/{repo}:copy"
    pyc.ok("tag", src, target)
    res = pyc.ok("push", target)
    # same registry: mounted from where it was pulled (the recorded source), not uploaded
    assert res.out.count("Mounted from fixtures/debian") == len(pulled), res.out
    assert not set(pulled) & _blob_files(pyc)
    fresh = Pyc.create(tmp_path / "fresh")
    try:
        fresh.ok("pull", "-q", target)
        out = fresh.ok("run", "--rm", target, "cat", "/etc/debian_version").out
        assert out.strip().startswith("12")
    finally:
        fresh.cleanup()


def test_save_load_round_trip_from_rebuilt_layers(
        pyc: Pyc, fixture_refs: dict[str, str], tmp_path: Path) -> None:
    src = fixture_refs["busybox"]
    _pulled_without_blobs(pyc, src)
    _, diff_ids = _layer_digests(pyc, src)
    out = tmp_path / "image.tar"
    pyc.ok("save", "-o", str(out), src)
    with tarfile.open(out) as t:
        manifest = json.load(t.extractfile("manifest.json"))  # type: ignore[arg-type]
        # docker-archive layers are the uncompressed tars, named by their diff ids
        assert manifest[0]["Layers"] == [f"blobs/sha256/{d[7:]}" for d in diff_ids]
    fresh = Pyc.create(tmp_path / "fresh")
    try:
        assert fresh.ok("load", "-i", str(out)).out.strip() == f"Loaded image: {src}"
        assert fresh.ok("run", "--rm", src, "echo", "loaded").out == "loaded\n"
        # the loaded layer tars are not kept either (their tar-splits rebuild them)
        assert not set(diff_ids) & _blob_files(fresh)
        again = tmp_path / "again.tar"
        fresh.ok("save", "-o", str(again), src)
        with tarfile.open(again) as t:
            names = set(t.getnames())
        assert {f"blobs/sha256/{d[7:]}" for d in diff_ids} <= names
    finally:
        fresh.cleanup()


def _old_layout(pyc: Pyc, registry: str, ref: str) -> list[str]:
    """Make the store what the previous version wrote: each layer's compressed blob beside
    it, no tar-split and no sources record."""
    layers, diff_ids = _layer_digests(pyc, ref)
    _, repo, _ = reg.split_ref(ref)
    blobs = _images(pyc) / "blobs" / "sha256"
    for digest, diff_id in zip(layers, diff_ids, strict=True):
        with urllib.request.urlopen(f"http://{registry}/v2/{repo}/blobs/{digest}") as r:
            (blobs / digest[7:]).write_bytes(r.read())
        for suffix in (".tar-split.gz", ".sources.json"):
            (_images(pyc) / "layers" / (diff_id[7:] + suffix)).unlink()
    return layers


def test_a_store_with_compressed_copies_still_pushes_saves_and_runs(
        pyc: Pyc, fixture_refs: dict[str, str], registry: str, tmp_path: Path) -> None:
    src = fixture_refs["busybox"]
    pyc.ok("pull", "-q", src)
    layers = _old_layout(pyc, registry, src)
    assert pyc.ok("run", "--rm", src, "echo", "old").out == "old\n"
    # pulling again finds everything in place and keeps the copies
    pyc.ok("pull", "-q", src)
    assert set(layers) <= _blob_files(pyc)
    host, port = registry.rsplit(":", 1)
    other = f"localhost:{port}" if host != "localhost" else f"127.0.0.1:{port}"
    target = f"{other}/pyctest/old-{secrets.token_hex(4)}:v1"
    pyc.ok("tag", src, target)
    res = pyc.ok("push", target)
    assert res.out.count(": Pushed") == len(layers)
    # the stored copies were uploaded as they are: the pulled manifest's digest
    pulled_digest = json.loads(pyc.ok("image", "inspect", "--format",
                                      "{{json .RepoDigests}}", src).out)[0].split("@")[1]
    assert res.lines[-1].split()[2] == pulled_digest
    out = tmp_path / "old.tar"
    pyc.ok("save", "-o", str(out), src)
    fresh = Pyc.create(tmp_path / "fresh")
    try:
        fresh.ok("load", "-i", str(out))
        assert fresh.ok("run", "--rm", src, "echo", "ok").out == "ok\n"
    finally:
        fresh.cleanup()
    # system prune drops the copies once each layer's tar-split is checked to rebuild it
    _, diff_ids = _layer_digests(pyc, src)
    pyc.ok("system", "prune", "-f")
    assert not set(layers) & _blob_files(pyc)
    for d in diff_ids:
        assert (_images(pyc) / "layers" / (d[7:] + ".tar-split.gz")).is_file()
    assert pyc.ok("run", "--rm", src, "echo", "upgraded").out == "upgraded\n"
    upgraded = tmp_path / "upgraded.tar"
    pyc.ok("save", "-o", str(upgraded), src)
    fresh = Pyc.create(tmp_path / "fresh2")
    try:
        fresh.ok("load", "-i", str(upgraded))  # checks every layer's diff id
        assert fresh.ok("run", "--rm", src, "echo", "ok").out == "ok\n"
    finally:
        fresh.cleanup()
    pyc.ok("rmi", src, target)
    pyc.ok("image", "prune", "-af")
    assert not (set(layers) & _blob_files(pyc))
    assert not [n for n in os.listdir(_images(pyc) / "layers") if not n.startswith(".")]


def test_without_subordinate_ids_a_pulled_image_is_rebuilt_for_push(
        nosub_pyc: Pyc, pyc: Pyc, fixture_refs: dict[str, str], registry: str) -> None:
    src = fixture_refs["debian"]
    nosub_pyc.ok("pull", "-q", src, timeout=300)
    host, port = registry.rsplit(":", 1)
    other = f"localhost:{port}" if host != "localhost" else f"127.0.0.1:{port}"
    target = f"{other}/pyctest/nosub-{secrets.token_hex(4)}:v1"
    nosub_pyc.ok("tag", src, target)
    res = nosub_pyc.ok("push", target, timeout=300)
    assert ": Pushed" in res.out, res.out
    pyc.ok("pull", "-q", target, timeout=300)  # checks the diff id of the rebuilt layer
    assert pyc.ok("run", "--rm", target, "cat", "/etc/debian_version").out.startswith("12")
