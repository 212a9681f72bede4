"""start / stop / kill / restart / rm / wait / cleanup. Every operation runs
lock -> sync -> transition -> act -> save; the supervisor's files are the source of truth for
what happened while no pyc was running.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

from pycontainer import selfexec
from pycontainer.containers import lifecycle
from pycontainer.containers.lifecycle import Status
from pycontainer.containers.model import Container
from pycontainer.containers.store import BrokenRecord, ContainerStore
from pycontainer.errors import Conflict, ContainerRuntimeError, PycError, recorded_status
from pycontainer.linux import proc
from pycontainer.ops import events, health, limits, restarts
from pycontainer.ops import starthooks as hooks
from pycontainer.paths import Paths, ensure_runtime
from pycontainer.runtime.base import ContainerError
from pycontainer.selfexec import exit_command
from pycontainer.supervisor import protocol as sp

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

START_TIMEOUT = 60.0
parse_signal = proc.parse_signal


@dataclass
class StartRequest:
    attach: bool = False  # connect a client before the container execs (foreground)
    removes: bool = False  # that client removes the container when it exits
    tty_size: tuple[int, int] | None = None
    #: "fork" (fast; the supervisor is a fork of this process), "exec" (a fresh, small
    #: interpreter) or "reexec" (a fork that starts the container, then execs the fresh,
    #: small interpreter for the container's life: detached containers, where it lives
    #: long; "exec" where a client attaches before the start)
    mode: str = "reexec"
    exit_command: list[str] = field(default_factory=list)
    #: a restart policy's start: only if the container is still marked restarting by
    #: this process (a stop, kill or rm meanwhile cancelled it)
    restart_by: int = 0


@dataclass
class Started:
    container_id: str
    pid: int
    sock: socket.socket | None = None


def store_for(paths: Paths) -> ContainerStore:
    return ContainerStore(paths)


def load_synced(store: ContainerStore, cid: str) -> Container:
    """Load and sync (call with the container's lock held)."""
    c = store.load(cid)
    if store.sync(c):
        store.save(cid, c.state)
    return c


# -- start ---------------------------------------------------------------------------------

def start(paths: Paths, ref: str, req: StartRequest | None = None) -> Started:
    req = req or StartRequest()
    store = store_for(paths)
    cid = store.resolve(ref)
    with store.lock(cid):
        c = load_synced(store, cid)
        if req.restart_by and not (c.state.restarting and c.state.restart_pid == req.restart_by):
            return Started(cid, 0)
        if c.state.status == Status.PAUSED and not req.restart_by:
            raise Conflict("cannot start a paused container, try unpause instead")
        if c.state.status in (Status.RUNNING, Status.STOPPING, Status.PAUSED):
            return Started(cid, c.state.pid)
        if c.state.restarting:  # a user's start ends the wait
            restarts.cancel(c)
        c.state.restarting, c.state.restart_pid = False, 0
        lifecycle.transition(c.name, c.state.status, Status.CREATED, "start")
        # the cgroup first: without one for a requested limit nothing starts (exit 125);
        # saved at once so that `rm` removes it whatever fails next
        c.state.cgroup = limits.setup(paths, c)
        store.save(cid, c.state)
        net = hooks.prepare_start(paths, store, c)
        try:
            run_dir = _fresh_run_dir(store, cid)
            cfg = _supervisor_config(paths, store, c, run_dir, req)
            hooks.configure(net, cfg)
            sync_r, sup_pid = _spawn(cfg, req)
        finally:
            net.after_spawn()
        c.state.status = Status.CREATED
        c.state.supervisor_pid = sup_pid
        c.state.pid = 0
        store.save(cid, c.state)
        try:
            return _await_start(store, c, sync_r, run_dir, req, net)
        finally:
            net.close()
            os.close(sync_r)


def _fresh_run_dir(store: ContainerStore, cid: str) -> str:
    run_dir = store.run_dir(cid)
    shutil.rmtree(run_dir, ignore_errors=True)
    ensure_runtime(store.paths)  # its parents too are private (the runtime dir is 0700)
    run_dir.mkdir(parents=True, mode=0o700)
    return str(run_dir)


def _supervisor_config(paths: Paths, store: ContainerStore, c: Container, run_dir: str,
                       req: StartRequest) -> sp.SupervisorConfig:
    from pycontainer.ops import logopts
    from pycontainer.runtime.launch import LaunchConfig

    cfg = c.config
    spec = cfg.spec
    runtime_root = os.path.join(str(paths.runtime), "oci-" + os.path.basename(cfg.runtime))
    launch = LaunchConfig(
        container_id=cfg.id, bundle=str(store.bundle(cfg.id)),
        rootfs=cfg.rootfs.to_dict() if cfg.rootfs else {},
        uid_map=cfg.uid_map, gid_map=cfg.gid_map, single_mapping=cfg.single_mapping,
        runtime=cfg.runtime, runtime_root=runtime_root,
        cgroup=dict(c.state.cgroup.to_dict()) if c.state.cgroup else {})
    auto_remove = bool(spec.auto_remove)
    return sp.SupervisorConfig(
        container_id=cfg.id, launch=launch.__dict__, run_dir=run_dir,
        log_path=str(store.log_path(cfg.id)), log_driver=cfg.log_driver,
        log_opts=logopts.supervisor_settings(cfg),
        tty=bool(spec.tty), stdin=bool(spec.interactive),
        wait_attach=req.attach, auto_remove=auto_remove,
        exit_command=req.exit_command or (exit_command(paths, cfg.id, True) if auto_remove
                                          else hooks.exit_command(paths, c)
                                          or _restart_command(paths, c)),
        record_path=str(store.dir(cfg.id) / "config.json"),
        health=health.supervisor_settings(paths, c),
        events=events.supervisor_settings(paths, c),
    )


def _restart_command(paths: Paths, c: Container) -> list[str]:
    return exit_command(paths, c.id, False) if restarts.policy_of(c)[0] != "no" else []


def _spawn(cfg: sp.SupervisorConfig, req: StartRequest) -> tuple[int, int]:
    """Start the supervisor in its own session; returns (sync pipe read end, its pid)."""
    path = sp.config_file(cfg.run_dir)
    with open(path, "wb") as f:
        f.write(cfg.serialize())
    sync_r, sync_w = os.pipe()
    mode = os.environ.get("PYC_SUPERVISOR_MODE") or req.mode
    if mode == "reexec" and req.attach:
        mode = "exec"  # an attached client's connection stays with one process
    if mode in ("fork", "reexec") and _threaded():
        # a fork that goes on running Python (no exec) is only sound single-threaded: another
        # thread's locks (imports, stdio) would stay held in the child (the API service,
        # compose's start threads)
        mode = "exec"
    if mode in ("fork", "reexec"):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - becomes the supervisor
            code = 1
            try:
                os.setsid()
                # Drop every inherited descriptor (the container lock above all: a flock
                # held by the supervisor would block every later pyc for its lifetime).
                _close_fds_but({sync_w, cfg.go_fd, cfg.hold_fd})
                from pycontainer.supervisor.main import serve

                code = serve(cfg, sync_w, req.tty_size, launch_in_process=True,
                             reexec=mode == "reexec")
            finally:
                os._exit(code)
        os.close(sync_w)
        return sync_r, pid
    import subprocess

    size = [str(x) for x in req.tty_size] if req.tty_size else []
    argv = selfexec.python_argv("pycontainer.supervisor", path, str(sync_w), *size)
    kept = tuple(fd for fd in (sync_w, cfg.go_fd, cfg.hold_fd) if fd >= 0)
    # The child subreaper attribute survives execve: set here, it spares the long-lived
    # supervisor loading _ctypes for one prctl (~0.4 MB of its resident memory).
    env = {**os.environ, sp.SUBREAPER_ENV: "1"}
    child = subprocess.Popen(argv, pass_fds=kept, start_new_session=True,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, close_fds=True, env=env,
                             preexec_fn=_subreaper_call())
    os.close(sync_w)
    return sync_r, child.pid


def _threaded() -> bool:
    threading = sys.modules.get("threading")  # not imported: no other thread was started
    return threading is not None and threading.active_count() > 1


def _subreaper_call() -> Callable[[], None]:
    """The preexec_fn: prctl resolved here, in the parent. The child between fork and exec
    must not import or dlsym: with compose's start threads, another thread may hold an import
    lock or the loader's lock at the fork, and the child would wait for it forever."""
    import ctypes

    from pycontainer.linux import syscalls

    prctl = syscalls.libc().prctl
    args = (ctypes.c_int(syscalls.PR_SET_CHILD_SUBREAPER), ctypes.c_ulong(1), ctypes.c_ulong(0),
            ctypes.c_ulong(0), ctypes.c_ulong(0))

    def become_subreaper() -> None:  # pragma: no cover - runs in the forked child
        prctl(*args)

    return become_subreaper


def _close_fds_but(keep: set[int]) -> None:
    last = 3
    for fd in sorted(f for f in keep if f >= 3):
        os.closerange(last, fd)
        last = fd + 1
    os.closerange(last, 65536)


class _SyncReader:
    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buf = b""

    def next(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                raise ContainerRuntimeError("timed out waiting for the container to start")
            data = os.read(self.fd, 4096)
            if not data:
                return {"error": {"stage": "supervisor", "errno": 0,
                                  "msg": "the supervisor exited before starting the container"}}
            self.buf += data
        line, _, self.buf = self.buf.partition(b"\n")
        return dict(json.loads(line))


def _await_start(store: ContainerStore, c: Container, sync_r: int, run_dir: str,
                 req: StartRequest, net: hooks.StartPlan) -> Started:
    reader = _SyncReader(sync_r)
    msg = reader.next(START_TIMEOUT)
    sock = None
    if "pid" in msg:
        c.state.pid = int(msg["pid"])
        events.starting(store.paths, c, req.attach)  # attach, mount; start is the supervisor's
        hooks.started(store.paths, c, net)  # network, then the supervisor's go byte
        if req.attach:
            from pycontainer.ops import attach

            sock = attach.connect(run_dir)
            attach.hello(sock, attach.AttachOptions(tty=req.tty_size is not None,
                                                    removes=req.removes))
        msg = reader.next(START_TIMEOUT)
    if "error" in msg:
        if sock is not None:
            sock.close()
        _record_failure(store, c, msg["error"])
    c.state.status = Status.RUNNING
    c.state.pid_started = proc.start_time(c.state.pid)
    c.state.started_at = str(msg.get("started", ""))
    c.state.finished_at = ""
    c.state.exit_code = 0
    c.state.error = ""
    c.state.stopped_by_user = False
    store.save(c.id, c.state)
    return Started(c.id, c.state.pid, sock)


def _record_failure(store: ContainerStore, c: Container, err: dict[str, Any]) -> None:
    error = ContainerError(str(err.get("stage")), int(err.get("errno", 0)), str(err.get("msg")))
    exc = error.to_exception(c.config.path)
    c.state.status = Status.EXITED
    c.state.exit_code = recorded_status(exc.exit_code)
    c.state.error = exc.message
    c.state.pid = 0
    store.save(c.id, c.state)
    raise exc


# -- signals, stop, wait ------------------------------------------------------------------

def kill(paths: Paths, ref: str, sig: str | int = "KILL") -> str:
    store = store_for(paths)
    cid = store.resolve(ref)
    number = proc.parse_signal(sig)
    with store.lock(cid):
        c = load_synced(store, cid)
        if restarts.cancel(c):
            store.save(cid, c.state)
            return cid
        if not c.state.running:
            raise Conflict(f"Cannot kill container: {ref}: Container {cid} is not running")
        if limits.thaw(c):  # a frozen process gets its signal only once thawed
            store.save(cid, c.state)
        if number in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):
            c.state.stopped_by_user = True
            store.save(cid, c.state)
        proc.kill(c.state.pid, number, c.state.pid_started)
        events.container(paths, c, "kill", signal=str(number))
    return cid


def stop(paths: Paths, ref: str, timeout: float | None = None, sig: str | None = None) -> str:
    store = store_for(paths)
    cid = store.resolve(ref)
    with store.lock(cid):
        c = load_synced(store, cid)
        if restarts.cancel(c):
            store.save(cid, c.state)
        if not c.state.running:
            return cid  # Docker: stopping a stopped container is not an error
        limits.thaw(c)  # Docker unpauses a paused container to stop it
        spec = c.config.spec
        timeout = timeout if timeout is not None else (spec.stop_timeout or 10)
        number = proc.parse_signal(sig or spec.stop_signal
                                   or c.config.image_config.get("StopSignal") or "TERM")
        lifecycle.transition(c.name, c.state.status, Status.STOPPING, "stop")
        c.state.status = Status.STOPPING
        c.state.stopped_by_user = True
        store.save(cid, c.state)
        pid, started = c.state.pid, c.state.pid_started
    proc.kill(pid, number, started)
    events.container(paths, c, "kill", signal=str(number))  # Docker: kill, die, stop
    if not wait_exit(store, cid, float(timeout)):
        proc.kill(pid, signal.SIGKILL, started)
        events.container(paths, c, "kill", signal=str(int(signal.SIGKILL)))
        wait_exit(store, cid, 10.0)
    with store.lock(cid):
        c = load_synced(store, cid)
        if c.state.status == Status.EXITED:
            hooks.teardown(paths, store, c)  # Docker frees addresses and ports at stop
    events.container(paths, c, "stop")
    return cid


def wait_exit(store: ContainerStore, cid: str, timeout: float | None) -> bool:
    """Wait for the supervisor's exit record; False on timeout."""
    exit_path = store.run_dir(cid) / "exit.json"
    deadline = None if timeout is None else time.monotonic() + timeout
    delay, began = 0.002, time.monotonic()
    while not exit_path.exists():
        if deadline is not None and time.monotonic() >= deadline:
            return False
        c = store.load(cid)
        if c.state.status not in lifecycle.ACTIVE:
            return True
        if (c.state.supervisor_pid and not proc.alive(c.state.supervisor_pid)
                and not exit_path.exists() and not _lost_but_alive(c)):
            return True  # died without a record; sync will say so
        time.sleep(delay)
        # a stopped container's record comes some ms after the signal: polls close together
        # at first (a look is a stat and a small read), not a doubling that overshoots it;
        # a long wait backs off
        delay = min(delay * 1.5, 0.01 if time.monotonic() - began < 1 else 0.05)
    return True


def _lost_but_alive(c: Container) -> bool:
    """The supervisor was killed but the container's process runs on: nobody will write
    its exit record, so waiting means watching the process itself (its start time guards
    against a reused pid)."""
    return bool(c.state.pid) and proc.alive(c.state.pid, c.state.pid_started)


def wait(paths: Paths, ref: str) -> int:
    """`pyc wait`: block until the container exits; its exit code."""
    store = store_for(paths)
    cid = store.resolve(ref)
    while True:
        with store.lock(cid):
            c = load_synced(store, cid)
        if c.state.status == Status.EXITED:
            return c.state.exit_code
        if c.state.status == Status.CONFIGURED:
            time.sleep(0.1)  # Docker waits for a created container to run and exit
            continue
        wait_exit(store, cid, 1.0)


def restart(paths: Paths, ref: str, timeout: float | None = None) -> str:
    cid = stop(paths, ref, timeout)
    start(paths, cid)
    events.by_id(paths, cid, "restart")
    return cid


# -- removal -------------------------------------------------------------------------------

def remove(paths: Paths, ref: str, force: bool = False, volumes: bool = False,
           background: bool = False) -> str:
    """Remove a container. `background`: delete its files after returning (the foreground
    `run --rm` path: the container is gone for every pyc at once, the unlinking follows)."""
    store = store_for(paths)
    cid = store.resolve(ref)
    with store.lock(cid):
        try:
            c = load_synced(store, cid)
        except BrokenRecord:
            if not force:  # its state is unknown: it may be running
                raise
            from pycontainer.ops import broken

            hooks.removed(paths, broken.remove(paths, store, cid), volumes)
            return cid
        if c.state.restarting:
            if not force:
                raise Conflict(f"You cannot remove a restarting container {cid}. Stop the "
                               "container before attempting removal or force remove")
            restarts.cancel(c)
            store.save(cid, c.state)
        if c.state.status == Status.PAUSED and not force:
            raise Conflict(f"You cannot remove a paused container {cid}. Unpause and then "
                           "stop the container before attempting removal or force remove")
        if c.state.running or c.state.status == Status.CREATED:
            if not force:
                raise Conflict(f"You cannot remove a running container {cid}. Stop the "
                               "container before attempting removal or force remove")
            limits.thaw(c)
            proc.kill(c.state.pid, signal.SIGKILL, c.state.pid_started)
            limits.kill_all(c.state.cgroup)
            wait_exit(store, cid, 10.0)
            c = load_synced(store, cid)
        lifecycle.transition(c.name, c.state.status, Status.REMOVING, "remove")
        c.state.status = Status.REMOVING
        store.save(cid, c.state)
        _wait_gone(c.state.supervisor_pid)
        hooks.teardown(paths, store, c)
        limits.release_all(paths, c)
        if background:
            _discard(paths, store, c)
        else:
            _remove_storage(paths, store, c)
            store.remove_records(c)
    hooks.removed(paths, c, volumes)
    events.container(paths, c, "destroy")
    return cid


def _discard(paths: Paths, store: ContainerStore, c: Container) -> None:
    """Remove the container: its name, its volatile state, and (moved aside at once, so it
    is gone for every pyc) its directory, deleted in the background: `run --rm` need not
    wait for the writable layer's files to be unlinked."""
    trash = store.trash_dir(c.id)
    try:
        os.rename(store.dir(c.id), trash)
    except OSError:
        _remove_storage(paths, store, c)
        store.remove_records(c)
        return
    store.release_name(c.name, c.id)
    shutil.rmtree(store.run_dir(c.id), ignore_errors=True)
    _in_background(lambda: _delete_trash(paths, c, trash))


def _delete_trash(paths: Paths, c: Container, trash: Path) -> None:
    from pycontainer.storage import select as drivers

    mapping = c.config.id_mapping()
    name = c.config.rootfs.driver if c.config.rootfs else "vfs"
    with contextlib.suppress(OSError, PycError):
        drivers.driver(name).remove(trash / "storage", mapping)
    if c.config.runtime not in ("builtin", ""):
        root = os.path.join(str(paths.runtime), "oci-" + os.path.basename(c.config.runtime))
        shutil.rmtree(os.path.join(root, c.id), ignore_errors=True)
    shutil.rmtree(trash, ignore_errors=True)


#: detached children of _in_background not reaped yet
_background: list[int] = []


def _in_background(work: Callable[[], object]) -> None:
    """Run `work` in a detached child holding none of our descriptors. It is not waited for
    (`run --rm` returns at once): reaped at the next call here or, once this short-lived
    process has exited, by init. One fork, not a daemon's two: ~2 ms less."""
    _reap_background()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.setsid()
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            os.closerange(3, 65536)
            with contextlib.suppress(BaseException):
                work()
        finally:
            os._exit(0)
    _background.append(pid)


def _reap_background() -> None:
    for pid in list(_background):
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0] == 0:
                continue
        _background.remove(pid)


def _wait_gone(pid: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while pid and proc.alive(pid) and time.monotonic() < deadline:
        time.sleep(0.005)


def _remove_storage(paths: Paths, store: ContainerStore, c: Container) -> None:
    from pycontainer.storage import select as drivers

    mapping = c.config.id_mapping()
    name = c.config.rootfs.driver if c.config.rootfs else "vfs"
    with contextlib.suppress(OSError, PycError):
        drivers.driver(name).remove(store.dir(c.id) / "storage", mapping)
    if c.config.runtime not in ("builtin", ""):
        root = os.path.join(str(paths.runtime), "oci-" + os.path.basename(c.config.runtime))
        shutil.rmtree(os.path.join(root, c.id), ignore_errors=True)


def cleanup(paths: Paths, ref: str, remove_it: bool = False) -> None:
    """The supervisor's exit command: record the exit and, for --rm, remove the container."""
    store = store_for(paths)
    try:
        cid = store.resolve(ref)
    except PycError:
        return  # already removed (e.g. by the foreground `run --rm`)
    with store.lock(cid):
        c = load_synced(store, cid)
        if c.state.status == Status.EXITED:
            hooks.teardown(paths, store, c)
        delay = None
        if not remove_it and not c.state.restarting and restarts.should_restart(c):
            delay = restarts.mark(c)
            c.state.restart_count += 1
            store.save(cid, c.state)
    if remove_it and c.state.status == Status.EXITED:
        try:
            remove(paths, cid, force=True)
        except PycError as exc:
            _failed_unwatched(store, cid, "cannot remove the container", exc)
    if delay is not None:
        restarts.sleep(delay)
        try:
            start(paths, cid, StartRequest(restart_by=os.getpid()))
        except PycError as exc:
            _failed_unwatched(store, cid, "cannot restart the container", exc)


def _failed_unwatched(store: ContainerStore, cid: str, what: str, exc: PycError) -> NoReturn:
    """A failure of the exit command, which nobody waits for: kept in the container's
    State.Error (inspect) and raised, so that the CLI writes it to the exit command's log
    (`cleanup.log` in the run dir, where the supervisor sends its stderr)."""
    text = f"{what}: {exc.message}"
    with contextlib.suppress(PycError, OSError):
        if store.dir(cid).is_dir():  # else it is gone after all: no record to keep it in
            with store.lock(cid):
                c = store.load(cid)
                c.state.error = text
                store.save(cid, c.state)
    raise ContainerRuntimeError(text) from exc
