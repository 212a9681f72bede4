"""The engine side of `build.backend.Backend`: the image store, storage, runtime, network.

Temporary files of one build live in `<data>/build/tmp-<pid>-<random>/` (upper dirs are
owned by subordinate ids, so they are removed inside the user namespace); a build killed
half-way leaves that directory to its guard (`ops/build/guard.py`), which also kills the
RUN step still running, and the next build sweeps it when its pid is gone.
"""

from __future__ import annotations

import contextlib
import copy
import email.utils
import hashlib
import os
import secrets
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from pycontainer.build.backend import Layer, RunRequest, State
from pycontainer.build.copier import FsOp, HashCache, url_name
from pycontainer.errors import BuildError, HostError, IntegrityError, PycError
from pycontainer.images.store import ImageStore
from pycontainer.linux import userns
from pycontainer.network import slirp
from pycontainer.oci.image import Platform
from pycontainer.oci.runtime import Mount as SpecMount
from pycontainer.ops.build import store as build_store
from pycontainer.ops.build.fs import HOST_ROOTLESS, fs_step
from pycontainer.ops.build.guard import BuildGuard
from pycontainer.ops.build.run import run_step
from pycontainer.paths import Paths, ensure_runtime
from pycontainer.storage.driver import RootfsPlan, remove_tree

if TYPE_CHECKING:
    from pycontainer.images.store import ImageRecord


class StoreBackend:
    def __init__(self, paths: Paths, progress: TextIO | None, epoch: int | None) -> None:
        self.paths, self.progress, self.epoch = paths, progress, epoch
        self.store = ImageStore(paths)
        self.store.ensure()
        self.mapping = userns.default_mapping()
        self.cache_root = Path(paths.build_cache)
        self.cache_root.mkdir(parents=True, exist_ok=True)
        self.cache = build_store.StepCache(self.store, self.cache_root)
        self.hash_cache = HashCache(None)
        self._tmp: Path | None = None
        self._driver: str | None = None
        self.guard = BuildGuard()
        #: RUN output goes here instead of fds 1 and 2 when set (the Engine API's stream)
        self.step_output: Callable[[bytes], None] | None = None

    def use_context(self, context_dir: str) -> None:
        """Remember file hashes per context directory (one small file per project)."""
        key = hashlib.sha256(os.path.abspath(context_dir).encode()).hexdigest()[:32]
        (self.cache_root / "files").mkdir(exist_ok=True)
        self.hash_cache = HashCache(self.cache_root / "files" / f"{key}.json")

    # -- scratch space -------------------------------------------------------------------
    def scratch_dir(self) -> str:
        if self._tmp is None:
            base = Path(self.paths.data) / "build"
            base.mkdir(parents=True, exist_ok=True)
            self._sweep(base)
            self._tmp = base / f"tmp-{os.getpid()}-{secrets.token_hex(4)}"
            self._tmp.mkdir(mode=0o700)
            self.guard.start(self._tmp, self.mapping)
        return str(self._tmp)

    def _sweep(self, base: Path) -> None:
        from pycontainer.images.blobs import pid_alive  # the store's own liveness test

        for entry in base.iterdir():
            pid = entry.name.split("-")[1] if entry.name.startswith("tmp-") else ""
            if pid.isdigit() and not pid_alive(int(pid)):
                remove_tree(entry, self.mapping)

    def work_dir(self, kind: str) -> Path:
        work = Path(self.scratch_dir()) / f"{kind}-{secrets.token_hex(6)}"
        work.mkdir()
        return work

    def remove_work(self, work: Path) -> None:
        remove_tree(work, self.mapping)

    def close(self) -> None:
        self.hash_cache.save()
        if self._tmp is not None:
            remove_tree(self._tmp, self.mapping)
            self._tmp = None
        self.guard.close()

    # -- images --------------------------------------------------------------------------
    def base(self, ref: str, platform: str | None, pull: str) -> State:
        from pycontainer.ops import pull as ops_pull

        if platform and Platform.parse(platform) != Platform.host():
            record = self._pull_platform(ref, platform, pull)
        else:
            record = ops_pull.ensure_image(self.paths, ref, pull, self.progress)
        return State(record.id, copy.deepcopy(record.config), list(record.layers))

    def _pull_platform(self, ref: str, platform: str, pull: str) -> ImageRecord:
        from pycontainer.ops import pull as ops_pull

        if pull != "always":
            with contextlib.suppress(PycError):  # not here, or no usable platform: pull
                record = self.store.resolve(ref)
                if Platform(record.config.get("os", ""), record.config.get(
                        "architecture", "")).architecture == Platform.parse(
                        platform).architecture:
                    return record
        opts = ops_pull.PullOptions(ref, platform, quiet=self.progress is None)
        return ops_pull.pull(self.paths, opts, self.progress).records[0]

    def lowers(self, state: State) -> list[Path]:
        out = []
        for diff_id in state.diff_ids:
            if not self.store.layers.has(diff_id):
                raise IntegrityError(f"layer {diff_id} is missing from the store")
            out.append(self.store.layers.path(diff_id))
        return out

    def prepare_rootfs(self, storage: Path, lowers: list[Path]) -> RootfsPlan:
        from pycontainer.storage import select

        if self._driver is None:
            ensure_runtime(self.paths)  # 0700, like every way in to the runtime dir
            self._driver = select.choose(self.paths.runtime).name
        if self._driver == "vfs":
            raise HostError("pyc build needs overlay (native or fuse-overlayfs); this host "
                            "only offers the vfs driver")
        if not lowers:  # FROM scratch: overlay still wants a lower dir
            empty = Path(self.scratch_dir()) / "empty"
            empty.mkdir(exist_ok=True)
            lowers = [empty]
        storage.mkdir(parents=True, exist_ok=True)
        return select.driver(self._driver).prepare(storage, lowers)

    def stage_mount(self, state: State, source: str, target: str) -> SpecMount:
        """RUN --mount=type=bind,from=STAGE: the stage's layers (below `source`) as a
        read-only overlay (or a bind of the one layer that has it)."""
        rel = source.strip("/")
        lowers = [str(p / rel) if rel else str(p) for p in self.lowers(state)]
        lowers = [p for p in lowers if os.path.isdir(p)]
        if not lowers:
            raise BuildError(f"--mount from a stage: {source} not found in it")
        if len(lowers) == 1:
            return SpecMount(target, "bind", lowers[0], ["rbind", "ro"])
        opts = ["ro", "lowerdir=" + ":".join(reversed(lowers))]
        opts += ["userxattr"] if HOST_ROOTLESS else []
        return SpecMount(target, "overlay", "overlay", opts)

    # -- steps ---------------------------------------------------------------------------
    def run(self, state: State, req: RunRequest) -> Layer | None:
        return run_step(self, state, req)

    def fs(self, state: State, op: FsOp, source: State | None) -> Layer | None:
        return fs_step(self, state, op, source)

    def start_network(self, pid: int, work: Path) -> slirp.Slirp:
        sock = slirp.api_socket_path(work, "slirp")
        return slirp.start_slirp(pid, sock, cache_dir=self.paths.runtime)

    def stop_network(self, handle: slirp.Slirp) -> None:
        slirp.stop_slirp(handle)

    def fetch(self, url: str, checksum: str | None) -> tuple[str, int | None]:
        root = Path(self.scratch_dir()) / ("url-" + hashlib.sha256(url.encode()).hexdigest())
        root.mkdir(exist_ok=True)
        target = root / url_name(url)
        h = hashlib.sha256()
        try:
            with urllib.request.urlopen(url, timeout=60) as resp, open(target, "wb") as f:  # noqa: S310
                while chunk := resp.read(1 << 20):
                    h.update(chunk)
                    f.write(chunk)
                modified = resp.headers.get("Last-Modified")
        except OSError as exc:
            raise BuildError(f"ADD {url}: {exc}") from None
        if checksum and checksum != "sha256:" + h.hexdigest():
            raise BuildError(f"ADD {url}: digest mismatch: expected {checksum}, got "
                             f"sha256:{h.hexdigest()}")
        mtime = None
        with contextlib.suppress(TypeError, ValueError):
            mtime = int(email.utils.parsedate_to_datetime(modified).timestamp())
        return str(root), mtime

    # -- cache and result -----------------------------------------------------------------
    def cache_get(self, key: str) -> State | None:
        return self.cache.get(key)

    def cache_put(self, key: str, state: State) -> None:
        self.cache.put(key, state)

    #: `build --format docker` (Podman): the image gets a Docker v2s2 manifest
    docker_format = False

    def commit(self, state: State, names: list[str]) -> str:
        return build_store.commit(self.store, state, names, self.docker_format)
