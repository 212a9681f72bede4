"""pyc push to the real registry: a new repository, skopeo's view of it, a fresh pull."""

from __future__ import annotations

import json
import secrets
import subprocess

from helpers import registry as reg
from helpers.runner import Pyc


def test_push_to_a_new_repository_then_skopeo_and_a_fresh_pull(
        pyc: Pyc, fixture_refs: dict[str, str], registry: str, tmp_path: object) -> None:
    src = fixture_refs["busybox"]
    repo = f"pyctest/push-{secrets.token_hex(4)}"
    target = f"{registry}/{repo}:v1"
    pyc.ok("pull", "-q", src)
    pyc.ok("tag", src, target)
    res = pyc.ok("push", target)
    assert f"The push refers to repository [{registry}/{repo}]" in res.out
    # same registry: layers are mounted from the fixture repository, not uploaded
    assert res.out.count("Mounted from fixtures/busybox") == 3
    digest_line = res.lines[-1]
    assert digest_line.startswith("v1: digest: sha256:")
    pushed = digest_line.split()[2]

    found = reg.manifest(registry, repo, "v1")
    assert found is not None and found[0] == pushed
    sk = subprocess.run(["skopeo", "inspect", "--tls-verify=false", f"docker://{target}"],
                        capture_output=True, text=True)
    assert sk.returncode == 0, sk.stderr
    info = json.loads(sk.stdout)
    assert info["Digest"] == pushed
    ours = json.loads(pyc.ok("image", "inspect", src).out)[0]
    assert info["Layers"] == [d["digest"] for d in json.loads(found[1])["layers"]]
    assert len(info["Layers"]) == len(ours["RootFS"]["Layers"])

    again = pyc.ok("push", target)
    assert again.out.count("Layer already exists") == 3

    fresh = Pyc.create(tmp_path / "fresh")  # type: ignore[operator]
    try:
        fresh.ok("pull", "-q", target)
        got = json.loads(fresh.ok("image", "inspect", target).out)[0]
        assert got["Id"] == ours["Id"]
        assert got["RepoDigests"] == [f"{registry}/{repo}@{pushed}"]
    finally:
        fresh.cleanup()


def test_push_an_imported_image_uploads_its_blobs(pyc: Pyc, registry: str) -> None:
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        data = secrets.token_bytes(4096)
        ti = tarfile.TarInfo("data.bin")
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    repo = f"pyctest/imported-{secrets.token_hex(4)}"
    target = f"{registry}/{repo}:latest"
    res = subprocess.run(pyc.argv("import", "-", target), input=buf.getvalue(), env=pyc.env,
                         capture_output=True)
    assert res.returncode == 0, res.stderr
    out = pyc.ok("push", target).out
    assert "Pushed" in out
    assert reg.manifest(registry, repo, "latest") is not None


def test_push_unknown_image(pyc: Pyc, registry: str) -> None:
    res = pyc.fail("push", f"{registry}/pyctest/none:1")
    assert "No such image" in res.err


def test_push_all_tags(pyc: Pyc, fixture_refs: dict[str, str], registry: str) -> None:
    src = fixture_refs["busybox"]
    repo = f"pyctest/alltags-{secrets.token_hex(4)}"
    pyc.ok("pull", "-q", src)
    for t in ("a", "b"):
        pyc.ok("tag", src, f"{registry}/{repo}:{t}")
    pyc.ok("push", "--all-tags", f"{registry}/{repo}")
    assert sorted(reg.tags(registry, repo)) == ["a", "b"]
