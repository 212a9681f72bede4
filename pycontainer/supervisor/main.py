"""The supervisor's life: launch, report, hold stdio, wait, record the exit, clean up."""

from __future__ import annotations

# Only C modules and our own: `socket`, `signal`, `selectors` and `contextlib` wrap these in
# enums and helpers that would cost the long-lived supervisor megabytes of memory.
import _signal
import _socket
import fcntl
import marshal
import os
import select
import struct
import time

from pycontainer import eventlog
from pycontainer.linux.replace import write_replace
from pycontainer.supervisor import protocol as p
from pycontainer.supervisor.logfile import LogWriter, timestamp
from pycontainer.supervisor.stdio import HeldStdio, make

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import FrameType
    from typing import Any

PR_SET_CHILD_SUBREAPER = 36

FORWARDED = (_signal.SIGTERM, _signal.SIGINT, _signal.SIGHUP, _signal.SIGQUIT,
             _signal.SIGUSR1, _signal.SIGUSR2, _signal.SIGWINCH)
DRAIN_SECONDS = 2.0


class Client:
    def __init__(self, sock: _socket.socket) -> None:
        self.sock = sock
        self.reader = p.FrameReader()
        self.removes = False


class Supervisor:
    def __init__(self, cfg: p.SupervisorConfig, sync_fd: int, tty_size: tuple[int, int] | None
                 = None, launch_in_process: bool = False, reexec: bool = False) -> None:
        self.cfg = cfg
        #: forked from the CLI, memory does not matter and a fork less is faster
        self.launch_in_process = launch_in_process
        #: forked from the CLI to start the container at once, then a fresh, small
        #: interpreter for the container's life (`resume`): the start costs no interpreter
        #: start-up, the memory stays a fresh supervisor's
        self.reexec = reexec
        self.sync_fd = sync_fd
        self.tty_size = tty_size
        self.poller = select.epoll()
        self.kinds: dict[int, str] = {}  # registered fd -> wake, listen, output, client
        self.clients: dict[int, Client] = {}
        self.pid = 0
        self.status: int | None = None
        self.helpers: list[int] = []
        self.stdio: HeldStdio | None = None
        self.log: LogWriter | None = None
        self.listener: _socket.socket | None = None
        #: the healthcheck helper running now (0: none) and when the next one is due
        self.health_pid = 0
        self.health_due: float | None = None
        self.health_started = 0.0
        self.started_at = 0.0  # monotonic, for the die event's execDuration

    # -- reporting to the CLI that started us -------------------------------------------
    def sync(self, msg: dict[str, Any]) -> None:
        if self.sync_fd < 0:
            return
        try:
            os.write(self.sync_fd, p.dumps(msg).encode() + b"\n")
        except OSError:
            self.sync_fd = -1  # the CLI is gone; the container carries on

    def close_sync(self) -> None:
        if self.sync_fd >= 0:
            os.close(self.sync_fd)
            self.sync_fd = -1

    # -- the sequence ---------------------------------------------------------------------
    def run(self) -> int:
        if os.environ.pop(p.SUBREAPER_ENV, "") != "1":  # else the starting pyc set it
            _prctl(PR_SET_CHILD_SUBREAPER, 1)
        cfg = self.cfg
        self.log = LogWriter(cfg.log_path, cfg.log_driver, cfg.log_opts)
        self.listener = self._listen()
        self.stdio = make(cfg.tty, cfg.stdin)
        start_r, start_w = os.pipe()
        err_r, err_w = os.pipe()
        report = self._start_container(start_r, err_w)
        os.close(start_r)
        os.close(err_w)
        self.stdio.close_child_ends()
        self.helpers = list(report.get("helpers") or [])
        self._reap_nohang()
        if "error" in report:
            return self._failed(report["error"])
        self.pid = int(report["pid"])
        for procs in cfg.cgroup_procs:  # limits apply before the command runs
            try:
                with open(procs, "w") as f:
                    f.write(str(self.pid))
            except OSError as exc:
                return self._failed({"stage": "cgroup", "errno": exc.errno or 0,
                                     "msg": f"cannot join cgroup {procs}: {exc.strerror}"})
        self.sync({"pid": self.pid})
        if cfg.tty and self.stdio.receive_master() >= 0 and self.tty_size:
            _set_size(self.stdio.master, *self.tty_size)
        if cfg.go_fd >= 0 and _read_all(cfg.go_fd) != b"1":
            return self._failed({"stage": "network", "errno": 0,
                                 "msg": "the container's network setup failed"})
        if cfg.wait_attach:
            self._accept_first()
        os.write(start_w, b"1")
        os.close(start_w)
        error = _read_all(err_r)
        if error:
            e = ContainerErrorRecord(error)
            return self._failed({"stage": e[0], "errno": e[1], "msg": e[2]})
        started = timestamp()
        self.started_at = time.monotonic()
        if self.cfg.events:  # here, before any `die` this process may write
            self._event("start", {})
        write_replace(p.pid_file(cfg.run_dir), p.dumps({
            "pid": self.pid, "started": _start_time(self.pid), "supervisor": os.getpid(),
            "startedAt": started}).encode())
        if self.reexec:
            self._reexec(started)  # returns only where the exec failed: this process carries on
        self.sync({"started": started})
        self.close_sync()
        self.loop()
        return self.finish()

    # -- the hand-over to a fresh interpreter (reexec) --------------------------------------
    def _reexec(self, started: str) -> None:
        """execve into `python -m pycontainer.supervisor --resume`: the same pid (the
        container stays our child; the subreaper attribute survives execve), the same
        descriptors, none of the CLI's modules. Nothing was read from the container's output
        yet: the new process's loop takes it from the pipes. The new process reports
        `started`, so that the CLI returns with the loop running (a `logs` right after
        `run -d` has what the command wrote at once, as before)."""
        from pycontainer import selfexec

        assert self.stdio is not None and self.listener is not None
        state = {"pid": self.pid, "helpers": self.helpers, "startedAt": self.started_at,
                 "listener": self.listener.fileno(), "outputs": self.stdio.outputs,
                 "stdin": self.stdio.stdin_w, "master": self.stdio.master,
                 "sync": self.sync_fd, "started": started}
        keep = [self.listener.fileno(), *self.stdio.outputs, self.stdio.stdin_w,
                self.stdio.master, self.cfg.hold_fd, self.sync_fd]
        for fd in keep:
            if fd >= 0:
                os.set_inheritable(fd, True)
        argv = selfexec.python_argv("pycontainer.supervisor", "--resume",
                                    p.config_file(self.cfg.run_dir),
                                    marshal.dumps(state).hex())
        _signal.pthread_sigmask(_signal.SIG_SETMASK, [])
        with p.suppress(OSError):
            os.execv(argv[0], argv)

    def resume(self, state: dict[str, Any]) -> int:
        """The fresh interpreter's half of `_reexec`: rebuild the running supervisor."""
        self.pid = int(state["pid"])
        self.helpers = list(state["helpers"])
        self.started_at = float(state["startedAt"])
        self.log = LogWriter(self.cfg.log_path, self.cfg.log_driver, self.cfg.log_opts)
        self.listener = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM, 0,
                                       int(state["listener"]))
        self.stdio = HeldStdio()
        self.stdio.outputs = {int(fd): str(name) for fd, name in state["outputs"].items()}
        self.stdio.stdin_w, self.stdio.master = int(state["stdin"]), int(state["master"])
        self.sync_fd = int(state["sync"])
        fds = [self.listener.fileno(), *self.stdio.outputs, self.stdio.stdin_w,
               self.stdio.master, self.cfg.hold_fd, self.sync_fd]
        for fd in fds:  # not into the exit command nor the healthcheck helpers
            if fd >= 0:
                os.set_inheritable(fd, False)
        self.sync({"started": str(state["started"])})
        self.close_sync()
        self.loop()
        return self.finish()

    def _start_container(self, start_r: int, err_w: int) -> dict[str, Any]:
        """Fork the starter, which launches the container and exits; the container is
        reparented to us (we are a child subreaper)."""
        assert self.stdio is not None
        if self.launch_in_process:
            from pycontainer.supervisor.starter import start

            return dict(marshal.loads(start(self.cfg.launch, self.stdio.child, start_r, err_w)))
        rep_r, rep_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the starter
            code = 1
            try:
                from pycontainer.supervisor.starter import close_all_but, start

                child = self.stdio.child
                close_all_but({rep_w, start_r, err_w, *[fd for fd in child.values() if fd >= 0]})
                data = start(self.cfg.launch, child, start_r, err_w)
                os.write(rep_w, len(data).to_bytes(4, "big") + data)
                code = 0
            finally:
                os._exit(code)
        os.close(rep_w)
        # Length-prefixed, not up to EOF: the container may hold the write end until exec.
        with os.fdopen(rep_r, "rb") as f:
            size = int.from_bytes(f.read(4) or b"\0", "big")
            raw = f.read(size) if size else b""
        with p.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        if not raw:
            return {"error": {"stage": "create", "errno": 0, "msg": "the starter died"}}
        return dict(marshal.loads(raw))

    def _failed(self, error: dict[str, Any]) -> int:
        stage, errno_, msg = str(error.get("stage")), int(error.get("errno", 0)), error.get("msg")
        self.sync({"error": {"stage": stage, "errno": errno_, "msg": msg}})
        self.close_sync()
        if self.pid:
            with p.suppress(OSError):
                os.kill(self.pid, _signal.SIGKILL)
        self._wait_all(2.0)
        self._kill_helpers()
        from pycontainer import errors  # the one errno -> status table (no imports of its own)

        code = errors.recorded_status(errors.exec_status(stage, errno_))
        self._write_exit(code, str(msg))
        return 0

    def _listen(self) -> _socket.socket:
        path = p.attach_path(self.cfg.run_dir)
        with p.suppress(FileNotFoundError):
            os.unlink(path)
        addr, dir_fd = p.socket_address(path)
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        try:
            sock.bind(addr)
        finally:
            if dir_fd is not None:
                os.close(dir_fd)
        sock.listen(16)
        return sock

    def _accept_first(self) -> None:
        assert self.listener is not None
        self.listener.settimeout(30)
        try:
            conn = _accept(self.listener)
        except TimeoutError:
            return  # start anyway: the output is in the log
        finally:
            self.listener.settimeout(None)
        self._add_client(conn)
        # Let the client's first frames (resize, "I remove") arrive before the exec.
        conn.settimeout(0.2)
        with p.suppress(OSError):
            data = conn.recv(4096)
            self._client_frames(self.clients[conn.fileno()], data)
        conn.settimeout(None)

    # -- the event loop ---------------------------------------------------------------
    def loop(self) -> None:
        assert self.stdio is not None and self.listener is not None
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_r, False)
        os.set_blocking(wake_w, False)
        _signal.set_wakeup_fd(wake_w)
        _signal.signal(_signal.SIGCHLD, lambda *_: None)
        for sig in FORWARDED:
            _signal.signal(sig, self._forward)
        self._watch(wake_r, "wake")
        self._watch(self.listener.fileno(), "listen")
        for fd in self.stdio.outputs:
            self._watch(fd, "output")
        self._reap_nohang()
        if self.cfg.health:
            self.health_started = time.monotonic()
            self.health_due = self.health_started + self._health_interval()
        deadline: float | None = None
        while self.stdio.outputs or self.status is None:
            if self.status is not None and deadline is None:
                deadline = time.monotonic() + DRAIN_SECONDS
            timeout = -1.0 if deadline is None else max(0.0, deadline - time.monotonic())
            if deadline is not None and timeout == 0:
                break
            if self.health_due is not None and self.status is None:
                wait = self._health_tick()
                timeout = wait if timeout < 0 else min(timeout, wait)
            for fd, _ in self.poller.poll(timeout):
                self._dispatch(fd)
        self._unwatch(wake_r)
        _signal.set_wakeup_fd(-1)

    def _watch(self, fd: int, kind: str) -> None:
        self.poller.register(fd, select.EPOLLIN)
        self.kinds[fd] = kind

    def _unwatch(self, fd: int) -> None:
        if self.kinds.pop(fd, None) is not None:
            with p.suppress(OSError):
                self.poller.unregister(fd)

    def _dispatch(self, fd: int) -> None:
        kind = self.kinds.get(fd)
        if kind == "wake":
            with p.suppress(BlockingIOError):
                os.read(fd, 512)
            self._reap_nohang()
        elif kind == "listen":
            assert self.listener is not None
            self._add_client(_accept(self.listener))
        elif kind == "output":
            self._read_output(fd)
        elif kind == "client":
            self._read_client(fd)

    def _forward(self, sig: int, _frame: FrameType | None) -> None:
        if sig == _signal.SIGWINCH or not self.pid:
            return
        with p.suppress(OSError):
            os.kill(self.pid, sig)

    def _read_output(self, fd: int) -> None:
        assert self.stdio is not None and self.log is not None
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:  # EIO from a pty master once the terminal is gone
            data = b""
        if not data:
            self._unwatch(fd)
            self.stdio.outputs.pop(fd)
            if fd != self.stdio.master:
                os.close(fd)
            return
        stream = self.stdio.outputs[fd]
        self.log.write(stream, data)
        self._broadcast(p.encode(p.STDOUT if stream == "stdout" else p.STDERR, data))

    def _add_client(self, conn: _socket.socket) -> None:
        self.clients[conn.fileno()] = Client(conn)
        self._watch(conn.fileno(), "client")

    def _drop_client(self, fd: int) -> None:
        client = self.clients.pop(fd, None)
        if client is not None:
            self._unwatch(fd)
            client.sock.close()

    def _read_client(self, fd: int) -> None:
        client = self.clients.get(fd)
        if client is None:
            return
        try:
            data = client.sock.recv(65536)
        except OSError:
            data = b""
        if not data:
            self._drop_client(fd)
            return
        self._client_frames(client, data)

    def _client_frames(self, client: Client, data: bytes) -> None:
        assert self.stdio is not None
        for kind, payload in client.reader.feed(data):
            if kind == p.STDIN and self.stdio.stdin_w >= 0:
                with p.suppress(OSError):
                    _write_all(self.stdio.stdin_w, payload)
            elif kind == p.STDIN_CLOSE and not self.cfg.tty and self.stdio.stdin_w >= 0:
                os.close(self.stdio.stdin_w)
                self.stdio.stdin_w = -1
            elif kind == p.RESIZE and self.stdio.master >= 0:
                rows, cols = (int(x) for x in payload.split())
                _set_size(self.stdio.master, rows, cols)
            elif kind == p.CLIENT_REMOVES:
                client.removes = True
            elif kind == p.LOG_MARK:
                self._mark(client)

    def _mark(self, client: Client) -> None:
        """The log's size now, then what the log holds back of a partial line: the log up
        to the mark and the frames after it are the output once, nothing lost between."""
        assert self.log is not None
        size = os.fstat(self.log.fd).st_size if self.log.fd >= 0 else 0
        frames = [p.encode(p.MARK, str(size).encode())]
        for stream, held in self.log.partial.items():
            if held and self.log.fd >= 0:
                frames.append(p.encode(p.STDOUT if stream == "stdout" else p.STDERR, held))
        try:
            client.sock.settimeout(5)
            client.sock.sendall(b"".join(frames))
        except OSError:
            self._drop_client(client.sock.fileno())

    def _broadcast(self, frame: bytes) -> None:
        for fd, client in list(self.clients.items()):
            try:
                client.sock.settimeout(5)
                client.sock.sendall(frame)
            except OSError:
                self._drop_client(fd)

    # -- healthcheck ----------------------------------------------------------------------
    def _health_tick(self) -> float:
        """Spawn the healthcheck helper when it is due; seconds until the next look."""
        assert self.health_due is not None
        now = time.monotonic()
        if self.health_pid or now < self.health_due:
            return max(0.0, self.health_due - now) if not self.health_pid else 1.0
        argv = list(self.cfg.health["argv"])
        try:
            self.health_pid = os.posix_spawn(argv[0], argv, dict(os.environ), file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)], setsid=True)
        except OSError:
            self.health_pid = 0
        self.health_due = now + self._health_interval()
        return self.health_due - now

    def _health_interval(self) -> float:
        """Docker's: `start_interval` while still starting within the start period (the
        helper records the status), `interval` otherwise."""
        health = self.cfg.health
        period = float(health.get("start_period", 0))
        if not period or time.monotonic() - self.health_started >= period:
            return float(health["interval"])
        try:
            with open(os.path.join(self.cfg.run_dir, "health.json"), "rb") as f:
                # atomic_write_json's layout (indent=1): no json module in the supervisor
                starting = b'"Status": "starting"' in f.read()
        except OSError:
            starting = True  # no probe recorded yet
        return float(health.get("start_interval", 0)) if starting else float(health["interval"])

    # -- children -------------------------------------------------------------------------
    def _reap_nohang(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == self.pid and self.status is None:
                self.status = status
            elif pid == self.health_pid:
                self.health_pid = 0

    def _wait_all(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == self.pid and self.status is None:
                self.status = status
            if pid == 0:
                time.sleep(0.01)

    def _kill_helpers(self) -> None:
        # Helpers: pids the launcher reported, and whatever else was reparented to us (a
        # subreaper), such as the fuse-overlayfs daemon serving the container's rootfs.
        self.helpers = list(dict.fromkeys(self.helpers + _children()))
        for pid in self.helpers:
            with p.suppress(OSError):
                os.kill(pid, _signal.SIGTERM)
        self._wait_all(0.5 if self.helpers else 0)

    # -- the end --------------------------------------------------------------------------
    def exit_code(self) -> int:
        if self.status is None:
            return 255
        code = os.waitstatus_to_exitcode(self.status)
        return 128 - code if code < 0 else code

    def _write_exit(self, code: int, error: str = "") -> None:
        record = {"exitCode": code, "finishedAt": timestamp(), "oomKilled": False,
                  "error": error}
        write_replace(p.exit_file(self.cfg.run_dir), p.dumps(record).encode())

    def finish(self) -> int:
        assert self.log is not None
        code = self.exit_code()
        self.log.close()
        self._kill_helpers()
        self._write_exit(code)
        self._exit_events(code)  # before the exit status: `run --rm` then logs destroy
        self._broadcast(p.encode(p.EXIT, str(code).encode()))
        removers = [c for c in self.clients.values() if c.removes]
        if self.listener is not None:
            self.listener.close()
        self._wait_removers(removers)
        for fd in list(self.clients):
            self._drop_client(fd)
        if not removers:  # a client that got the exit status removes the container itself
            self._exit_command()
        return 0

    def _exit_events(self, code: int) -> None:
        """Docker's `oom` (the memory limit killed it) and `die` with its exit code."""
        settings = self.cfg.events
        if not settings:
            return
        if code == 137 and self.cfg.launch.get("cgroup"):
            from pycontainer.linux.cgroup_container import ContainerCgroup

            with p.suppress(Exception):
                if ContainerCgroup.from_dict(self.cfg.launch["cgroup"]).oom_killed():
                    self._event("oom", {})
        duration = int(time.monotonic() - self.started_at) if self.started_at else 0
        self._event("die", {"exitCode": str(code), "execDuration": str(duration)})

    def _event(self, action: str, extra: dict[str, str]) -> None:
        settings = self.cfg.events
        attrs = {**settings["attrs"], **extra}
        msg = eventlog.message("container", action, settings["id"], attrs)
        eventlog.append(settings["path"], (p.dumps(msg) + "\n").encode())

    def _wait_removers(self, removers: list[Client]) -> None:
        """A foreground `run --rm` removes the container itself; give it the time to."""
        deadline = time.monotonic() + 10
        for client in removers:
            client.sock.settimeout(max(0.0, deadline - time.monotonic()))
            with p.suppress(OSError):
                while client.sock.recv(4096):
                    pass

    def _exit_command(self) -> None:
        cfg = self.cfg
        if not cfg.exit_command:
            return
        if cfg.auto_remove and cfg.record_path and not os.path.exists(cfg.record_path):
            return  # already removed by the CLI that ran it
        import subprocess

        # its failures (a restart or an --rm removal that did not happen) are kept in a log
        # beside the exit record, not thrown away; the container's State.Error names them
        try:
            log = os.open(p.cleanup_log(cfg.run_dir), os.O_WRONLY | os.O_CREAT | os.O_APPEND
                          | os.O_CLOEXEC, 0o600)
        except OSError:
            log = subprocess.DEVNULL
        try:
            subprocess.Popen(cfg.exit_command, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
        finally:
            if log >= 0:
                os.close(log)


def ContainerErrorRecord(raw: bytes) -> tuple[str, int, str]:  # noqa: N802
    """runtime.base.ContainerError's wire form, parsed without importing the runtime."""
    stage, errno_, msg = raw.decode(errors="replace").rstrip("\n").split("\0", 2)
    return stage, int(errno_), msg


def _prctl(option: int, value: int) -> None:
    """prctl(2) through the bare _ctypes module: `ctypes` itself costs the supervisor a
    megabyte of memory for this one call. _ctypes's names are CPython's private API: where
    they are not what this expects, the public ctypes does it (the memory is then spent)."""
    try:
        prctl = _bare_prctl()
    except (ImportError, AttributeError, TypeError):
        from pycontainer.linux import syscalls

        syscalls.prctl(option, value)
        return
    if prctl(option, value, 0, 0, 0) != 0:
        raise OSError("prctl failed")


def _bare_prctl() -> Any:
    import _ctypes

    class _Int(_ctypes._SimpleCData):
        _type_ = "i"

    class _Func(_ctypes.CFuncPtr):
        _flags_ = _ctypes.FUNCFLAG_CDECL
        _restype_ = _Int

    return _Func(_ctypes.dlsym(_ctypes.dlopen(None), "prctl"))  # type: ignore[arg-type]


def _children() -> list[int]:
    me = os.getpid()
    with p.suppress(OSError, ValueError), open(f"/proc/{me}/task/{me}/children") as f:
        return [int(x) for x in f.read().split()]
    return []


def _accept(listener: _socket.socket) -> _socket.socket:
    """accept(2) on the bare C socket: `_accept` is its private name for what the `socket`
    module (~0.5 MB here) wraps; without it, that module does it on the same descriptor."""
    accept = getattr(listener, "_accept", None)
    if accept is None:
        import socket

        public = socket.socket(listener.family, listener.type, 0, listener.fileno())
        try:
            conn, _ = public.accept()
        finally:
            public.detach()  # the descriptor stays the listener's
        fd = conn.detach()
    else:
        fd, _ = accept()
    return _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM, 0, fd)


def _set_size(fd: int, rows: int, cols: int) -> None:
    import termios  # lazily: only tty containers resize (0.15 MB of the supervisor's memory)

    with p.suppress(OSError):
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def _start_time(pid: int) -> int | None:
    """/proc/PID/stat's start time (linux.proc.start_time, without importing it)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
        return int(data[data.rfind(b")") + 2 :].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        data = os.read(fd, 65536)
        if not data:
            break
        chunks.append(data)
    os.close(fd)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def detach_stdio(log_path: str) -> None:
    """The supervisor must not hold the CLI's stdout (a caller reading it to EOF would hang)."""
    null = os.open(os.devnull, os.O_RDWR)
    err = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.dup2(err, 2)
    os.close(null)
    os.close(err)


def serve(cfg: p.SupervisorConfig, sync_fd: int, tty_size: tuple[int, int] | None = None,
          launch_in_process: bool = False, reexec: bool = False) -> int:
    import gc

    # A supervisor forked from the CLI inherits its collector switched off and every object
    # the CLI made since: frozen first, or the first collection walks them all (~10 ms).
    gc.freeze()
    gc.enable()
    detach_stdio(os.path.join(cfg.run_dir, "supervisor.log"))
    _signal.signal(_signal.SIGHUP, _signal.SIG_IGN)
    _signal.signal(_signal.SIGPIPE, _signal.SIG_IGN)
    try:
        return Supervisor(cfg, sync_fd, tty_size, launch_in_process, reexec).run()
    except BaseException as exc:  # noqa: BLE001 - the log is the only place left to tell
        import traceback

        traceback.print_exc()
        with p.suppress(OSError):
            os.write(sync_fd, p.dumps({"error": {"stage": "supervisor", "errno": 0,
                                                 "msg": str(exc)}}).encode() + b"\n")
        return 1


def resume(cfg: p.SupervisorConfig, state_hex: str) -> int:
    """`--resume CONFIG STATE`: the supervisor re-executed by `Supervisor._reexec`."""
    state = marshal.loads(bytes.fromhex(state_hex))
    sup = Supervisor(cfg, -1)
    try:
        return sup.resume(state)
    except BaseException as exc:  # noqa: BLE001 - the log is the only place left to tell
        import traceback

        traceback.print_exc()
        if sup.sync_fd >= 0:  # not started as far as the CLI knows: nobody would supervise it
            with p.suppress(OSError):
                os.kill(int(state["pid"]), _signal.SIGKILL)
            sup.sync({"error": {"stage": "supervisor", "errno": 0, "msg": str(exc)}})
        return 1
