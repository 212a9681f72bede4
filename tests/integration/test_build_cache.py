"""The build cache and the image store's garbage collection: `rmi` / `image prune` keep what
the cache refers to, `pyc builder prune` removes it, a cache entry whose layer vanished is a
miss, and builds racing an `image prune -af` loop leave a healthy store."""

from __future__ import annotations

import io
import re
import shlex
import subprocess
import tarfile
import time
from pathlib import Path

from helpers.runner import Pyc

from pycontainer.images.store import ImageStore, keep_refs
from pycontainer.paths import Paths

# stage1's layer is in no image: only the build cache keeps it
MULTISTAGE = """\
FROM {busybox} AS stage1
RUN echo one > /one
FROM {busybox}
COPY --from=stage1 /one /one
RUN cat /one /one > /two
CMD ["cat", "/two"]
"""
STEPS = 4  # RUN, COPY, RUN, CMD (the FROMs are not cache steps)


def store_of(pyc: Pyc) -> ImageStore:
    return ImageStore(Paths(Path(pyc.root), Path(pyc.runroot), Path(pyc.root) / "cfg"))


def context(tmp_path: Path, busybox: str) -> Path:
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(MULTISTAGE.format(busybox=busybox))
    return ctx


def cached(out: str) -> list[str]:
    """The steps that were taken from the cache."""
    lines = [ln for ln in out.splitlines() if "STEP " in ln or ln.startswith("-->")]
    return [lines[i - 1].split(": ", 1)[1] for i, ln in enumerate(lines)
            if ln.startswith("--> Using cache")]


def cache_only_layers(store: ImageStore) -> set[str]:
    """Diff ids the build cache refers to and no image does."""
    _, in_images = store.referenced(keep_files=False)
    kept: set[str] = set()
    for f in store.keep_files():
        kept |= keep_refs(f)[1]
    return kept - in_images


def build(pyc: Pyc, ctx: Path, name: str = "cached") -> str:
    return pyc.ok("build", "-t", name, str(ctx)).out


def test_rmi_and_image_prune_keep_the_build_cache(pyc: Pyc, fixture_refs: dict[str, str],
                                                  tmp_path: Path) -> None:
    ctx = context(tmp_path, fixture_refs["busybox"])
    first = build(pyc, ctx)
    assert cached(first) == []
    store = store_of(pyc)
    stage1 = cache_only_layers(store)
    assert len(stage1) == 1 and all(store.layers.has(d) for d in stage1)
    # an unrelated image comes and goes: its rmi collects garbage
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo("unrelated")
        info.size = 3
        t.addfile(info, io.BytesIO(b"abc"))
    subprocess.run(pyc.argv("import", "-", "unrelated:1"), input=buf.getvalue(), env=pyc.env,
                   check=True, capture_output=True)
    pyc.ok("rmi", "unrelated:1")
    assert all(store.layers.has(d) for d in stage1)
    again = build(pyc, ctx)
    assert len(cached(again)) == STEPS, again
    assert again.strip().splitlines()[-1] == first.strip().splitlines()[-1]
    # every image goes (busybox is pulled again by the next build): the cache stays
    pyc.ok("image", "prune", "-af")
    assert pyc.ok("images", "-q").out == ""
    assert all(store.layers.has(d) for d in stage1)
    third = build(pyc, ctx)
    assert len(cached(third)) == STEPS, third
    assert pyc.ok("run", "--rm", "cached").out == "one\none\n"
    assert store.fsck() == []


def test_builder_prune(pyc: Pyc, fixture_refs: dict[str, str], tmp_path: Path) -> None:
    ctx = context(tmp_path, fixture_refs["busybox"])
    build(pyc, ctx)
    store = store_of(pyc)
    stage1 = cache_only_layers(store)
    # no answer to the question: nothing goes
    res = pyc.ok("builder", "prune", input="")
    assert "WARNING! This will remove all dangling build cache." in res.out
    assert "Total" not in res.out
    assert len(cached(build(pyc, ctx))) == STEPS
    # dangling: the entries that keep stage1's layer (in no image); the image's steps stay
    res = pyc.ok("builder", "prune", "-f")
    assert res.out.startswith("Deleted build cache objects:\n"), res.out
    assert re.search(r"^Total:\t\d+(\.\d+)?[kM]?B$", res.out, re.M), res.out
    assert not any(store.layers.has(d) for d in stage1)
    assert cache_only_layers(store) == set()
    assert pyc.ok("builder", "prune", "-f").out == "Total:\t0B\n"
    out = build(pyc, ctx)
    assert "RUN echo one > /one" not in cached(out), out
    assert store.fsck() == []
    # all of it: every step runs again
    res = pyc.ok("builder", "prune", "-a", "-f")
    assert res.out.startswith("Deleted build cache objects:\n"), res.out
    assert list(store.keep_files()) == []
    out = build(pyc, ctx)
    assert cached(out) == [], out
    assert pyc.ok("run", "--rm", "cached").out == "one\none\n"
    assert store.fsck() == []
    # the image still holds its layers; the cache holds stage1's again
    assert len(cache_only_layers(store)) == 1


def test_a_cache_entry_whose_layer_vanished_is_a_miss(pyc: Pyc, fixture_refs: dict[str, str],
                                                       tmp_path: Path) -> None:
    ctx = context(tmp_path, fixture_refs["busybox"])
    build(pyc, ctx)
    store = store_of(pyc)
    (stage1,) = cache_only_layers(store)
    store.layers.remove([stage1])  # behind pyc's back
    assert not store.layers.has(stage1)
    out = build(pyc, ctx, "rebuilt")
    assert "RUN echo one > /one" not in cached(out), out
    assert len(cache_only_layers(store)) == 1
    assert pyc.ok("run", "--rm", "rebuilt").out == "one\none\n"
    # and a vanished blob too, with the tar-split that could rebuild it (either one is
    # enough to push or save the layer: images.tarsplit)
    (stage1,) = cache_only_layers(store)
    (entry,) = [f for f in store.keep_files() if stage1 in keep_refs(f)[1]]
    for digest in keep_refs(entry)[0] - store.referenced(keep_files=False)[0]:
        store.blobs.remove(digest)
    store.layers.split_path(stage1).unlink()
    out = build(pyc, ctx, "rebuilt2")
    assert "RUN echo one > /one" not in cached(out), out
    assert pyc.ok("run", "--rm", "rebuilt2").out == "one\none\n"
    assert store.fsck() == []


def test_builds_racing_an_image_prune_loop_leave_a_healthy_store(
        pyc: Pyc, fixture_refs: dict[str, str], tmp_path: Path) -> None:
    ctxs = []
    for i in range(3):
        ctx = tmp_path / f"ctx{i}"
        ctx.mkdir()
        (ctx / "Dockerfile").write_text(
            f"FROM {fixture_refs['busybox']} AS a\nRUN echo {i} > /a\n"
            f"FROM {fixture_refs['busybox']}\nCOPY --from=a /a /a\nRUN echo x >> /a\n")
        ctxs.append(ctx)
    script = " && ".join(
        shlex.join(pyc.argv("build", "--no-cache", "-q", "-t", f"race{i}:{n}", str(c)))
        for n in range(2) for i, c in enumerate(ctxs))
    builds = [subprocess.Popen(["sh", "-c", script], env=pyc.env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
              for _ in range(2)]
    prunes = []
    deadline = time.monotonic() + 300
    while any(b.poll() is None for b in builds) and time.monotonic() < deadline:
        prunes.append(subprocess.run(pyc.argv("image", "prune", "-af"), env=pyc.env,
                                     capture_output=True, text=True, timeout=700))
    for b in builds:
        out, err = b.communicate(timeout=300)
        assert b.returncode == 0, err
    assert prunes, "the builds ended before any prune ran"
    for p in prunes:
        assert p.returncode == 0, p.stderr
    store = store_of(pyc)
    assert store.fsck() == []
    for f in store.keep_files():  # every cache entry is usable
        blobs, diff_ids = keep_refs(f)
        assert all(store.layers.has(d) for d in diff_ids), f
        # a pulled base layer keeps no blob: its tar-split rebuilds it (images.tarsplit)
        assert all(store.blobs.has(b) for b in blobs) or \
            all(store.layers.has_split(d) for d in diff_ids), f
    pyc.ok("image", "prune", "-af")
    pyc.ok("builder", "prune", "-af")
    assert store.blobs.all() == [] and store.layers.all() == []
