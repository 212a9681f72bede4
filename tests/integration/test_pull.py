"""pyc pull against the real Go registry: tags, digests, indexes, layers, ownership."""

from __future__ import annotations

import hashlib
import json
import os
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from helpers import registry as reg
from helpers.runner import Pyc

from pycontainer.images.store import ImageStore
from pycontainer.paths import Paths


def store_of(pyc: Pyc) -> ImageStore:
    return ImageStore(Paths(data=pyc.root, runtime=pyc.runroot, config=pyc.root / "cfg"))


def fsck(pyc: Pyc) -> list[str]:
    return store_of(pyc).fsck()


def inspect(pyc: Pyc, name: str) -> dict[str, Any]:
    return json.loads(pyc.ok("image", "inspect", name).out)[0]


def test_pull_by_tag_matches_the_registry_digest(pyc: Pyc, fixture_refs: dict[str, str],
                                                 registry: str) -> None:
    ref = fixture_refs["busybox"]
    res = pyc.ok("pull", ref)
    assert "Pull complete" in res.out
    assert res.lines[-1] == ref
    _, repo, tag = reg.split_ref(ref)
    found = reg.manifest(registry, repo, tag)
    assert found is not None
    obj = inspect(pyc, ref)
    assert obj["RepoDigests"] == [f"{ref.rsplit(':', 1)[0]}@{found[0]}"]
    assert obj["Digest"] == found[0]
    config = json.loads(found[1])["config"]["digest"]
    assert obj["Id"] == config
    assert len(obj["RootFS"]["Layers"]) == 3
    assert fsck(pyc) == []


def test_pull_debian_by_digest(pyc: Pyc, fixture_refs: dict[str, str], registry: str) -> None:
    _, repo, tag = reg.split_ref(fixture_refs["debian"])
    found = reg.manifest(registry, repo, tag)
    assert found is not None
    by_digest = f"{registry}/{repo}@{found[0]}"
    res = pyc.ok("pull", by_digest)
    assert res.lines[-1] == by_digest
    obj = inspect(pyc, by_digest)
    assert obj["RepoTags"] == []
    assert obj["RepoDigests"] == [by_digest]
    assert obj["Os"] == "linux"
    assert fsck(pyc) == []
    # a second pull downloads nothing
    again = pyc.ok("pull", by_digest)
    assert "Pull complete" not in again.out and "Already exists" in again.out


def test_pull_quiet_and_up_to_date(pyc: Pyc, fixture_refs: dict[str, str]) -> None:
    ref = fixture_refs["busybox"]
    assert pyc.ok("pull", "-q", ref).out == ref + "\n"
    res = pyc.ok("pull", ref)
    assert "Image is up to date" in res.out


def test_pull_unknown_tag_and_repo_fail_clearly(pyc: Pyc, registry: str) -> None:
    res = pyc.fail("pull", f"{registry}/fixtures/busybox:no-such-tag")
    assert "not found" in res.err and "manifest unknown" in res.err
    assert len(res.err.strip().splitlines()) == 1
    res = pyc.fail("pull", f"{registry}/nope/nothing")
    assert "not found" in res.err or "unknown" in res.err


def test_invalid_reference(pyc: Pyc) -> None:
    res = pyc.fail("pull", "UPPER/Case")
    assert "invalid reference format" in res.err


def test_file_owned_by_33_is_33_inside_the_namespace(pyc: Pyc, fixture_refs: dict[str, str],
                                                    fixture_info: dict[str, Any]) -> None:
    pyc.ok("pull", "-q", fixture_refs["busybox"])
    facts = fixture_info["busybox"]
    dirs = store_of(pyc).layer_dirs(store_of(pyc).resolve(fixture_refs["busybox"]))
    candidates = [d / facts["owned_by_33"].lstrip("/") for d in dirs]
    path = next(str(p) for p in candidates if _exists_in_ns(pyc, p))
    res = pyc.ok("unshare", "stat", "-c", "%u:%g", path)
    assert res.out.strip() == "33:33"
    # on the host it belongs to the subordinate id that 33 maps to, not to the user
    assert Path(path).lstat().st_uid not in (os.getuid(), 33)


def _exists_in_ns(pyc: Pyc, path: Path) -> bool:
    return pyc("unshare", "test", "-e", str(path)).rc == 0


def test_whiteouts_and_opaque_dirs_use_overlay_format(pyc: Pyc, fixture_refs: dict[str, str],
                                                      fixture_info: dict[str, Any]) -> None:
    pyc.ok("pull", "-q", fixture_refs["busybox"])
    facts = fixture_info["busybox"]
    dirs = store_of(pyc).layer_dirs(store_of(pyc).resolve(fixture_refs["busybox"]))
    deleted = facts["whiteout_deleted"].lstrip("/")
    found = [d for d in dirs if pyc("unshare", "test", "-c", str(d / deleted)).rc == 0]
    assert found, f"no 0/0 char device for {deleted} in any layer"
    res = pyc.ok("unshare", "stat", "-c", "%t:%T", str(found[0] / deleted))
    assert res.out.strip() == "0:0"
    opaque = facts["opaque_dir"].lstrip("/")
    script = ("import os,sys\nfor d in sys.argv[1:]:\n try: print(os.getxattr(d,"
              "'user.overlay.opaque'))\n except OSError: pass\n")
    res = pyc.ok("unshare", "python3", "-c", script, *[str(d / opaque) for d in dirs])
    assert "b'y'" in res.out


def _put(registry: str, path: str, data: bytes, ctype: str) -> None:
    req = urllib.request.Request(f"http://{registry}{path}", data=data, method="PUT",
                                 headers={"Content-Type": ctype})
    with urllib.request.urlopen(req) as r:
        assert r.status in (201, 202)


def _upload_blob(registry: str, repo: str, data: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    req = urllib.request.Request(f"http://{registry}/v2/{repo}/blobs/uploads/", data=b"",
                                 method="POST")
    with urllib.request.urlopen(req) as r:
        loc = r.headers["Location"]
    loc = loc if loc.startswith("http") else f"http://{registry}{loc}"
    sep = "&" if "?" in loc else "?"
    req = urllib.request.Request(f"{loc}{sep}digest={digest}", data=data, method="PUT",
                                 headers={"Content-Type": "application/octet-stream"})
    with urllib.request.urlopen(req) as r:
        assert r.status == 201
    return digest


@pytest.fixture
def multiarch(registry: str, fixture_refs: dict[str, str]) -> str:
    """An index: the host platform -> the busybox fixture, linux/arm64 -> a copy of it whose
    config says arm64 (same layers), pushed to a repo of its own."""
    from pycontainer.oci.image import Platform

    _, repo, tag = reg.split_ref(fixture_refs["busybox"])
    found = reg.manifest(registry, repo, tag)
    assert found is not None
    manifest = json.loads(found[1])
    new_repo = "pyctest/multiarch"
    for layer in manifest["layers"]:  # copy the blobs into the new repo
        _mount(registry, new_repo, repo, layer["digest"])
    cfg = json.loads(_get(registry, f"/v2/{repo}/blobs/{manifest['config']['digest']}"))
    host = Platform.host()
    entries = []
    for arch in (host.architecture, "arm64" if host.architecture != "arm64" else "amd64"):
        c = dict(cfg, architecture=arch)
        raw_cfg = json.dumps(c).encode()
        m = dict(manifest, config=dict(manifest["config"], size=len(raw_cfg),
                                       digest=_upload_blob(registry, new_repo, raw_cfg)))
        raw_m = json.dumps(m).encode()
        d = "sha256:" + hashlib.sha256(raw_m).hexdigest()
        _put(registry, f"/v2/{new_repo}/manifests/{d}", raw_m, m["mediaType"])
        entries.append({"mediaType": m["mediaType"], "digest": d, "size": len(raw_m),
                        "platform": {"os": "linux", "architecture": arch}})
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": entries}
    _put(registry, f"/v2/{new_repo}/manifests/multi", json.dumps(index).encode(),
         index["mediaType"])
    return f"{registry}/{new_repo}:multi"


def _get(registry: str, path: str) -> bytes:
    with urllib.request.urlopen(f"http://{registry}{path}") as r:
        return bytes(r.read())


def _mount(registry: str, repo: str, source: str, digest: str) -> None:
    req = urllib.request.Request(
        f"http://{registry}/v2/{repo}/blobs/uploads/?mount={digest}&from={source}", data=b"",
        method="POST")
    with urllib.request.urlopen(req) as r:
        assert r.status == 201


def test_multi_platform_index(pyc: Pyc, multiarch: str, registry: str) -> None:
    from pycontainer.oci.image import Platform

    host = Platform.host().architecture
    other = "arm64" if host != "arm64" else "amd64"
    pyc.ok("pull", multiarch)
    assert inspect(pyc, multiarch)["Architecture"] == host
    index_digest = reg.manifest(registry, "pyctest/multiarch", "multi")
    assert index_digest is not None
    assert inspect(pyc, multiarch)["RepoDigests"][0].endswith(index_digest[0])
    pyc.ok("pull", "--platform", f"linux/{other}", multiarch)
    assert inspect(pyc, multiarch)["Architecture"] == other
    res = pyc.fail("pull", "--platform", "linux/s390x", multiarch)
    assert "no image found in image index for platform linux/s390x" in res.err


def _recompressed_image(registry: str, fixture: str, new_repo: str, compress: str) -> str:
    """The busybox fixture re-published with zstd or uncompressed layers."""
    import gzip

    _, repo, tag = reg.split_ref(fixture)
    found = reg.manifest(registry, repo, tag)
    assert found is not None
    manifest = json.loads(found[1])
    layers = []
    for layer in manifest["layers"]:
        raw = gzip.decompress(_get(registry, f"/v2/{repo}/blobs/{layer['digest']}"))
        if compress == "zstd":
            import zstandard

            data = zstandard.ZstdCompressor().compress(raw)
            media = "application/vnd.oci.image.layer.v1.tar+zstd"
        else:
            data, media = raw, "application/vnd.oci.image.layer.v1.tar"
        layers.append({"mediaType": media, "size": len(data),
                       "digest": _upload_blob(registry, new_repo, data)})
    _mount(registry, new_repo, repo, manifest["config"]["digest"])
    m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
         "config": manifest["config"], "layers": layers}
    _put(registry, f"/v2/{new_repo}/manifests/{compress}", json.dumps(m).encode(),
         m["mediaType"])
    return f"{registry}/{new_repo}:{compress}"


@pytest.mark.parametrize("compress", ["zstd", "none"])
def test_zstd_and_uncompressed_layers(pyc: Pyc, registry: str, fixture_refs: dict[str, str],
                                      fixture_info: dict[str, Any], compress: str) -> None:
    ref = _recompressed_image(registry, fixture_refs["busybox"], "pyctest/recompressed",
                              compress)
    pyc.ok("pull", "-q", ref)
    obj = inspect(pyc, ref)
    pyc.ok("pull", "-q", fixture_refs["busybox"])
    assert obj["Id"] == inspect(pyc, fixture_refs["busybox"])["Id"]  # same diff ids
    assert fsck(pyc) == []


def test_pull_all_tags(pyc: Pyc, registry: str, fixture_refs: dict[str, str]) -> None:
    repo = "pyctest/alltags"
    for t in ("one", "two"):
        _mount_manifest(registry, fixture_refs["busybox"], repo, t)
    res = pyc.ok("pull", "--all-tags", f"{registry}/{repo}")
    assert f"{registry}/{repo}:one" in res.out and f"{registry}/{repo}:two" in res.out
    tags = pyc.ok("images", "--format", "{{.Tag}}", f"{registry}/{repo}").out.split()
    assert sorted(tags) == ["one", "two"]
    pyc.fail("pull", "--all-tags", f"{registry}/{repo}:one")


def _mount_manifest(registry: str, source: str, repo: str, tag: str) -> None:
    _, src_repo, src_tag = reg.split_ref(source)
    found = reg.manifest(registry, src_repo, src_tag)
    assert found is not None
    manifest = json.loads(found[1])
    for d in [manifest["config"], *manifest["layers"]]:
        _mount(registry, repo, src_repo, d["digest"])
    _put(registry, f"/v2/{repo}/manifests/{tag}", found[1], manifest["mediaType"])


def test_without_subordinate_ids_everything_is_root_with_one_warning(
        nosub_pyc: Pyc, fixture_refs: dict[str, str], fixture_info: dict[str, Any]) -> None:
    ref = fixture_refs["busybox"]
    res = nosub_pyc.ok("pull", "-q", ref)
    warnings = [ln for ln in res.err.splitlines() if "subordinate" in ln]
    assert len(warnings) == 1, res.err
    owned = fixture_info["busybox"]["owned_by_33"]
    res = nosub_pyc.ok("unshare", "sh", "-c",
                       f"stat -c %u:%g {nosub_pyc.root}/images/layers/*{owned}")
    assert res.out.split() == ["0:0"]


def test_docker_schema2_manifest_list(pyc: Pyc, registry: str,
                                      fixture_refs: dict[str, str]) -> None:
    """Docker's media types (schema2 manifest, manifest list) as Docker Hub serves them."""
    from pycontainer.oci.image import Platform

    _, repo, tag = reg.split_ref(fixture_refs["busybox"])
    found = reg.manifest(registry, repo, tag)
    assert found is not None
    oci = json.loads(found[1])
    new_repo = "pyctest/dockertypes"
    for d in [oci["config"], *oci["layers"]]:
        _mount(registry, new_repo, repo, d["digest"])
    m = {"schemaVersion": 2,
         "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
         "config": dict(oci["config"],
                        mediaType="application/vnd.docker.container.image.v1+json"),
         "layers": [dict(x, mediaType="application/vnd.docker.image.rootfs.diff.tar.gzip")
                    for x in oci["layers"]]}
    raw = json.dumps(m).encode()
    digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    _put(registry, f"/v2/{new_repo}/manifests/{digest}", raw, m["mediaType"])
    lst = {"schemaVersion": 2,
           "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
           "manifests": [{"mediaType": m["mediaType"], "digest": digest, "size": len(raw),
                          "platform": {"os": "linux",
                                       "architecture": Platform.host().architecture}}]}
    _put(registry, f"/v2/{new_repo}/manifests/list", json.dumps(lst).encode(),
         lst["mediaType"])
    ref = f"{registry}/{new_repo}:list"
    pyc.ok("pull", "-q", ref)
    obj = inspect(pyc, ref)
    assert obj["Digest"] == digest
    assert len(obj["RootFS"]["Layers"]) == 3
    assert fsck(pyc) == []


def test_tls_verify_true_refuses_a_plain_http_registry(pyc: Pyc,
                                                       fixture_refs: dict[str, str]) -> None:
    res = pyc.fail("pull", "--tls-verify=true", fixture_refs["busybox"])
    assert "TLS handshake failed" in res.err and "--tls-verify=false" in res.err
    pyc.ok("pull", "-q", "--tls-verify=false", fixture_refs["busybox"])


def test_unqualified_search_registries(pyc: Pyc, registry: str) -> None:
    conf = pyc.root.parent / "registries.conf"
    conf.write_text(f'unqualified-search-registries = ["{registry}"]\n')
    env = {"PYC_REGISTRIES_CONF": str(conf)}
    res = pyc.ok("pull", "fixtures/busybox", env=env)
    assert res.lines[-1] == f"{registry}/fixtures/busybox:latest"
    assert pyc.ok("image", "exists", "fixtures/busybox", env=env).rc == 0
    pyc.ok("image", "inspect", "fixtures/busybox", env=env)


def test_mirror_from_registries_conf(pyc: Pyc, registry: str) -> None:
    conf = pyc.root.parent / "registries.conf"
    conf.write_text('[[registry]]\nlocation = "registry.invalid"\n'
                    f'[[registry.mirror]]\nlocation = "{registry}"\n')
    env = {"PYC_REGISTRIES_CONF": str(conf)}
    ref = "registry.invalid/fixtures/busybox:latest"
    pyc.ok("pull", "-q", ref, env=env)
    obj = inspect(pyc, ref)
    assert obj["RepoTags"] == [ref]
    assert obj["RepoDigests"][0].startswith("registry.invalid/fixtures/busybox@sha256:")
