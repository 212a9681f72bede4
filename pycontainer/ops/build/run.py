"""RUN: one short-lived container made by pyc's own runtime, then its upper dir as a layer.

No container record, no supervisor: the build process itself is the child subreaper that
launches the container (runtime.launch: user namespace, overlay rootfs in its own mount
namespace, builtin runtime), waits for it, and reads its changes. That is what makes a step
cheap, and there is nothing to leave behind when the build stops. The command's output goes
straight to the build's stdout/stderr (or to a file with `-q`, shown only on failure).

Network: `default` is a private network namespace wired to slirp4netns (started between
the runtime's create and start, so the command sees the network from its first
instruction), `none` only loopback, `host` the host's.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import sys
import tempfile
from pathlib import Path
from typing import IO, TYPE_CHECKING

from pycontainer.build.backend import Layer, RunRequest, State, StepFailed
from pycontainer.build.dockerfile import Mount
from pycontainer.errors import BuildError, PycError
from pycontainer.linux import caps
from pycontainer.linux import syscalls as sc
from pycontainer.linux.locks import FileLock
from pycontainer.network import etc_files
from pycontainer.oci import convert
from pycontainer.ops.build.store import ingest
from pycontainer.ops.create import ImageInput, resolve_user
from pycontainer.runtime.base import ContainerError, Stdio
from pycontainer.runtime.launch import LaunchConfig, Launched, launch
from pycontainer.storage.diff import DiffOptions, stream_upper

if TYPE_CHECKING:
    from collections.abc import Callable

    from pycontainer.jsontypes import JSON
    from pycontainer.oci.runtime import Mount as SpecMount
    from pycontainer.oci.runtime import Spec
    from pycontainer.ops.build.backend import StoreBackend

SPEC_NETWORK = {"default": "private", "none": "none", "host": "host"}


def run_step(b: StoreBackend, state: State, req: RunRequest) -> Layer | None:
    work = b.work_dir("run")
    try:
        lowers = b.lowers(state)
        plan = b.prepare_rootfs(work / "storage", lowers)
        spec = _spec(b, state, req, work, lowers)
        with contextlib.ExitStack() as locks:
            for m in req.mounts:  # sharing=locked (and private): one build at a time
                if m.type == "cache" and m.sharing != "shared":
                    locks.enter_context(FileLock(f"{_cache_dir(b, m)}.lock", timeout=3600))
            status = _run(b, work, plan.to_dict(), spec, req)
        if status != 0:
            raise StepFailed(status)
        stubs = [m.destination for m in spec.mounts]
        stream = stream_upper(plan.upper, b.mapping, DiffOptions(b.epoch, stubs,
                                                                 [str(p) for p in lowers]))
        failed: PycError | None = None
        try:
            layer = ingest(b.store, stream.stream)
        except PycError as exc:  # the child's own error, when it has one, says more
            failed = exc
        code = stream.wait()
        if code != 0:
            raise BuildError(f"reading the changes of the RUN step failed (status {code})")
        if failed is not None:
            raise failed
        return layer
    finally:
        b.remove_work(work)


def _spec(b: StoreBackend, state: State, req: RunRequest, work: Path,
          lowers: list[Path]) -> Spec:
    from pycontainer.ops.build import script as build_script

    cid = secrets.token_hex(32)
    image_cfg = (state.config.get("config") or {}).copy()
    args, extra = build_script.deliver(list(req.args), list(req.env), work)
    cspec = convert.ContainerSpec(
        image=state.id, command=args, entrypoint=[], env=list(req.env),
        workdir=req.workdir, user=req.user or None, network=SPEC_NETWORK[req.network],
        mounts=[m.to_dict() for m in [*(_mount(b, m, req) for m in req.mounts), *extra]])
    user = resolve_user(cspec, ImageInput(state.id, state.id, image_cfg, lowers))
    (work / "etc").mkdir()
    inputs = convert.SpecInputs(
        container_id=cid, user=user, etc_files=_etc_files(work / "etc", req.network, cid),
        single_id_mapping=b.mapping.single, capabilities=caps.resolve([], [], False))
    return convert.to_spec(cspec, image_cfg, inputs)


def _etc_files(d: Path, network: str, cid: str) -> dict[str, str]:
    from pycontainer.network import slirp

    dns = [slirp.SlirpOptions().dns_ip] if network == "default" else []
    req = etc_files.EtcRequest(hostname=cid[:12], network=SPEC_NETWORK[network], dns=dns)
    files = {"/etc/hostname": etc_files.hostname_file(req),
             "/etc/hosts": etc_files.hosts_file(req, _read("/etc/hosts")),
             "/etc/resolv.conf": etc_files.resolv_conf(req, _read("/etc/resolv.conf"))}
    out = {}
    for dest, text in files.items():
        path = d / os.path.basename(dest)
        path.write_text(text)
        os.chmod(path, 0o644)
        out[dest] = str(path)
    return out


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _mount(b: StoreBackend, m: Mount, req: RunRequest) -> SpecMount:
    from pycontainer.oci.runtime import Mount as SpecMount

    if m.type == "cache":
        path = _cache_dir(b, m)
        if not path.exists():
            path.mkdir(parents=True)
            os.chmod(path, m.mode if m.mode is not None else 0o755)
        return SpecMount(m.target, "bind", str(path), ["rbind"])
    if m.type == "tmpfs":
        return SpecMount(m.target, "tmpfs", "tmpfs", ["nosuid", "nodev"])
    if m.from_:
        return b.stage_mount(req.mount_sources[m.from_], m.source or "/", m.target)
    # from the context: read-only, so a build never writes into the user's files; a link
    # (or `..`) in the source resolves inside the context, never out of it
    from pycontainer.build.copier import scoped_path

    src = scoped_path(req.context_dir, m.source or ".")
    return SpecMount(m.target, "bind", src, ["rbind", "ro"])


def _cache_dir(b: StoreBackend, m: Mount) -> Path:
    """A cache mount's directory: by its id (default: its target), kept between builds."""
    return b.cache_root / "mounts" / hashlib.sha256((m.id or m.target).encode()).hexdigest()[:32]


def _stdio(b: StoreBackend, req: RunRequest) -> tuple[Stdio, IO[bytes] | _Relay | None]:
    devnull = os.open(os.devnull, os.O_RDONLY)
    if req.quiet:
        log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the caller
        return Stdio(devnull, log.fileno(), log.fileno()), log
    if b.step_output is not None:
        relay = _Relay(b.step_output)
        return Stdio(devnull, relay.write_fd, relay.write_fd), relay
    sys.stdout.flush()
    sys.stderr.flush()
    return Stdio(devnull, 1, 2), None


class _Relay:
    """RUN output to a callback (the API's stream) as it comes: a pipe read by a thread.
    The pipe's write end is the container's; it is closed here once the container has it."""

    def __init__(self, sink: Callable[[bytes], None]) -> None:
        import threading

        self.read_fd, self.write_fd = os.pipe()
        self.sink = sink
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _pump(self) -> None:
        with contextlib.suppress(Exception):  # a sink that fails (client gone) reads on
            while data := os.read(self.read_fd, 65536):
                with contextlib.suppress(Exception):
                    self.sink(data)

    def close(self) -> None:
        if self.write_fd >= 0:
            os.close(self.write_fd)
            self.write_fd = -1
        self.thread.join(10)  # the step is over: whatever it wrote is read by now
        if not self.thread.is_alive():
            os.close(self.read_fd)


def _run(b: StoreBackend, work: Path, rootfs: JSON, spec: Spec,
         req: RunRequest) -> int:
    bundle = work / "bundle"
    (bundle / "rootfs").mkdir(parents=True)
    cfg = LaunchConfig.with_mapping(b.mapping, container_id=spec.annotations[
        "io.pycontainer.id"], bundle=str(bundle), rootfs=rootfs, runtime="builtin")
    stdio, log = _stdio(b, req)
    sc.prctl(sc.PR_SET_CHILD_SUBREAPER, 1)  # the container is reparented to us
    start_r, start_w = os.pipe()
    err_r, err_w = os.pipe()
    try:
        launched = launch(cfg, spec, stdio, start_r, err_w)
    except BaseException:
        if isinstance(log, _Relay):
            log.close()
        raise
    finally:
        for fd in (start_r, err_w, stdio.stdin):
            os.close(fd)
        if isinstance(log, _Relay) and log.write_fd >= 0:  # the container has its copy
            os.close(log.write_fd)
            log.write_fd = -1
    status: int | None = None
    step = (launched.launcher_pid, launched.pid, *launched.helper_pids)
    b.guard.watch(*step)  # killed by the guard if the build is
    try:
        status = _start_and_wait(b, launched, start_w, err_r, spec, req, work)
    finally:
        b.guard.forget(*step)
        if isinstance(log, _Relay):
            log.close()
        elif log is not None:
            _replay_on_failure(log, status)
    return status


def _start_and_wait(b: StoreBackend, launched: Launched, start_w: int, err_r: int, spec: Spec,
                    req: RunRequest, work: Path) -> int:
    slirp = None
    try:
        if launched.error is not None:
            raise launched.error.to_exception(spec.process.args[0])
        if req.network == "default":
            slirp = b.start_network(launched.pid, work)
        os.write(start_w, b"1")
        os.close(start_w)
        start_w = -1
        error = _read_all(err_r)
        err_r = -1
        if error:
            _kill(launched.pid)
            raise ContainerError.decode(error).to_exception(spec.process.args[0])
        return _wait(launched)
    finally:
        for fd in (start_w, err_r):
            if fd >= 0:
                os.close(fd)
        _reap(launched)
        if slirp is not None:
            b.stop_network(slirp)


def _read_all(fd: int) -> bytes:
    chunks = []
    while data := os.read(fd, 65536):
        chunks.append(data)
    os.close(fd)
    return b"".join(chunks)


def _wait(launched: Launched) -> int:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(launched.launcher_pid, 0)
    launched.launcher_pid = 0
    _, status = os.waitpid(launched.pid, 0)
    launched.pid = 0
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def _kill(pid: int) -> None:
    if pid:
        with contextlib.suppress(OSError):
            os.kill(pid, 9)


def _reap(launched: Launched) -> None:
    """After a failure: nothing of the step may keep running."""
    for pid in (launched.launcher_pid, launched.pid, *launched.helper_pids):
        if pid:
            _kill(pid)
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, 0)


def _replay_on_failure(log: IO[bytes], status: int | None) -> None:
    with log:
        if status == 0:
            return
        log.seek(0)
        sys.stderr.write(log.read().decode(errors="replace"))
        sys.stderr.flush()
