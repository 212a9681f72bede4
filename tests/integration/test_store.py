"""The store under stress: SIGKILL mid-pull, concurrent pulls with an rmi loop, and layers
that try to write outside their directory (through `pyc import` and `pyc load`)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import tarfile
import time
from pathlib import Path

from helpers.runner import Pyc

from pycontainer.images.store import ImageStore
from pycontainer.paths import Paths


def store_of(pyc: Pyc) -> ImageStore:
    return ImageStore(Paths(pyc.root, pyc.runroot, pyc.root / "cfg"))


def _wait_for_partial_blob(store: ImageStore, proc: subprocess.Popen[bytes]) -> bool:
    """Until the layer is half there: a temp blob, or (a pull keeps no compressed copy) a
    temp layer dir whose unpacking has reached /usr/bin."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            sizes = [f.stat().st_size for f in store.blobs.tmp.iterdir()]
            temps = [n for n in os.listdir(store.layers.root) if n.startswith(".tmp-")]
        except FileNotFoundError:
            sizes, temps = [], []
        if any(s > (2 << 20) for s in sizes) or any(
                (store.layers.root / n / "usr" / "bin").is_dir() for n in temps):
            return True
        time.sleep(0.005)
    return False


def test_sigkill_mid_layer_then_pull_again(pyc: Pyc, fixture_refs: dict[str, str]) -> None:
    ref = fixture_refs["debian"]
    store = store_of(pyc)
    for _ in range(3):  # the layer downloads fast: retry until the kill lands mid-layer
        proc = subprocess.Popen(pyc.argv("pull", "-q", ref), env=pyc.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if _wait_for_partial_blob(store, proc):
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            break
        proc.wait()
        pyc.ok("rmi", ref)
    else:
        raise AssertionError("never caught the pull mid-layer")
    # nothing half-committed is visible
    assert store.all() == []
    assert pyc.ok("images", "-q").out == ""
    assert all(store.layers.has(d) for d in store.layers.all())
    # the unpacking child notices its parent died and removes its temp dir
    deadline = time.monotonic() + 10
    while any(n.startswith(".tmp-") for n in os.listdir(store.layers.root)):
        assert time.monotonic() < deadline, "unpack temp dir left behind"
        time.sleep(0.05)
    pyc.ok("pull", "-q", ref)
    assert store.fsck() == []
    assert list(store.blobs.tmp.iterdir()) == []


def test_concurrent_pulls_and_an_rmi_loop(pyc: Pyc, fixture_refs: dict[str, str]) -> None:
    ref = fixture_refs["busybox"]
    pulls = [subprocess.Popen(pyc.argv("pull", "-q", ref), env=pyc.env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(3)]
    rmis = []
    while any(p.poll() is None for p in pulls) or len(rmis) < 10:
        rmis.append(subprocess.run(pyc.argv("rmi", "-f", ref), env=pyc.env,
                                   capture_output=True, text=True))
        if len(rmis) > 200:
            break
    for p in pulls:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    for r in rmis:
        assert r.returncode == 0 or "No such image" in r.stderr, r.stderr
    store = store_of(pyc)
    assert store.fsck() == []
    pyc.ok("pull", "-q", ref)
    assert store.fsck() == []
    pyc.ok("rmi", ref)
    assert store.blobs.all() == [] and store.layers.all() == []
    json.loads((store.root / "index.json").read_text())


def _tar(*members: tuple[str, str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, kind, data in members:
            ti = tarfile.TarInfo(name)
            if kind == "file":
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data.encode()))
                continue
            ti.type = tarfile.SYMTYPE if kind == "sym" else tarfile.LNKTYPE
            ti.linkname = data
            t.addfile(ti)
    return buf.getvalue()


def _evil_layers(victim: Path) -> dict[str, bytes]:
    return {
        "dotdot": _tar(("../../../../../../.." + str(victim / "dotdot"), "file", "x")),
        "abs-symlink": _tar(("evil", "sym", str(victim)), ("evil/via-symlink", "file", "x")),
        "hardlink-outside": _tar(("h", "link", "../../../../../../etc/passwd")),
    }


def _import(pyc: Pyc, data: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(pyc.argv("import", "-", "evil:1"), input=data, env=pyc.env,
                          capture_output=True)


def test_malicious_layers_through_import(pyc: Pyc, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    for name, data in _evil_layers(victim).items():
        res = _import(pyc, data)
        assert res.returncode == 125, (name, res.stderr)
        assert b"Error:" in res.stderr
        assert os.listdir(victim) == [], name
    assert pyc.ok("images", "-q").out == ""
    store = store_of(pyc)
    assert store.layers.all() == []


def _docker_archive(layer: bytes) -> bytes:
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
    cfg_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": cfg_name, "RepoTags": ["evil:load"],
                            "Layers": ["l/layer.tar"]}]).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, data in ((cfg_name, config), ("l/layer.tar", layer),
                           ("manifest.json", manifest)):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def test_malicious_layers_through_load(pyc: Pyc, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    for name, layer in _evil_layers(victim).items():
        res = subprocess.run(pyc.argv("load"), input=_docker_archive(layer), env=pyc.env,
                             capture_output=True)
        assert res.returncode == 125, (name, res.stderr)
        assert os.listdir(victim) == [], name
    assert pyc.ok("images", "-q").out == ""


def test_import_with_change_and_message(pyc: Pyc) -> None:
    data = _tar(("bin/hello", "file", "#!/bin/sh\necho hi\n"))
    res = subprocess.run(pyc.argv("import", "-c", 'CMD ["/bin/hello"]', "-c", "ENV A=b",
                                  "-m", "imported", "-", "local/imp:1"),
                         input=data, env=pyc.env, capture_output=True, text=False)
    assert res.returncode == 0, res.stderr
    image_id = res.stdout.decode().strip()
    assert image_id.startswith("sha256:") and len(image_id) == 71
    obj = json.loads(pyc.ok("image", "inspect", "local/imp:1").out)[0]
    assert obj["Id"] == image_id
    assert obj["Config"]["Cmd"] == ["/bin/hello"]
    assert "A=b" in obj["Config"]["Env"]
    assert obj["Comment"] == "imported"
    assert store_of(pyc).fsck() == []
