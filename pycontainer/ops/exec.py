"""`pyc exec`: run a command in a running container (no supervisor: the CLI holds stdio)."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
from dataclasses import dataclass, field

from pycontainer.containers.lifecycle import Status
from pycontainer.containers.model import Container
from pycontainer.containers.store import ContainerStore
from pycontainer.errors import Conflict
from pycontainer.linux import caps
from pycontainer.linux import pty as ptys
from pycontainer.oci.runtime import Process, Spec
from pycontainer.ops import events
from pycontainer.paths import Paths
from pycontainer.runtime.base import Stdio
from pycontainer.runtime.builtin import exec as rexec


@dataclass
class ExecOptions:
    command: list[str]
    interactive: bool = False
    tty: bool = False
    detach: bool = False
    env: list[str] = field(default_factory=list)
    workdir: str | None = None
    user: str | None = None
    privileged: bool = False
    detach_keys: str = "ctrl-p,ctrl-q"


def _process(spec: Spec, opts: ExecOptions) -> Process:
    base = spec.process
    env = {e.split("=", 1)[0]: e for e in base.env}
    for item in opts.env:
        env[item.split("=", 1)[0]] = item
    if opts.tty:
        env.setdefault("TERM", "TERM=xterm")
    caps_ = dict(base.capabilities)
    if opts.privileged:
        every = caps.all_caps()
        caps_ = {k: every for k in ("bounding", "effective", "permitted")}
    proc = Process(args=list(opts.command), env=list(env.values()),
                   cwd=opts.workdir or base.cwd, terminal=opts.tty, user=base.user,
                   capabilities=caps_, rlimits=base.rlimits,
                   no_new_privileges=base.no_new_privileges)
    return proc


@dataclass
class Spawned:
    """A started exec: the middle process (its exit status is the command's) and, with a
    terminal, the pty master."""

    container_id: str
    mid: int
    master: int = -1
    paths: Paths | None = None
    container: Container | None = None
    exec_id: str = ""

    def wait(self) -> int:
        """The command's exit status (and Docker's exec_die event)."""
        _, status = os.waitpid(self.mid, 0)
        code = os.waitstatus_to_exitcode(status)
        if self.paths is not None and self.container is not None:
            events.container(self.paths, self.container, "exec_die", execID=self.exec_id,
                             exitCode=str(code))
        return code


def exec_in(paths: Paths, ref: str, opts: ExecOptions) -> int | None:
    """Returns the command's exit status (None when detached)."""
    started = spawn(paths, ref, opts)
    if opts.detach:
        return None
    if started.master >= 0:
        _pump_pty(started.master, opts.interactive)
    return started.wait()


def _running_container(paths: Paths, ref: str) -> tuple[Container, Spec]:
    # Not through ops.lifecycle: its start/stop hooks (networks, volumes, cgroups) cost
    # `exec` ~20 ms of imports it never uses.
    store = ContainerStore(paths)
    cid = store.resolve(ref)
    with store.lock(cid):
        c = store.load(cid)
        if store.sync(c):
            store.save(cid, c.state)
        if not c.state.running:
            raise Conflict(f"Container {cid} is not running")
        if c.state.status == Status.PAUSED:
            raise Conflict(f"Container {cid} is paused, unpause the container before exec")
    with open(store.bundle(cid) / "config.json", "rb") as f:
        spec = Spec.from_json(f.read())
    return c, spec


def spawn(paths: Paths, ref: str, opts: ExecOptions, stdin: int = 0, stdout: int = 1,
          stderr: int = 2, exec_id: str = "") -> Spawned:
    """Start the command; without a terminal its stdio are the fds given (the CLI's own;
    the Engine API's pipes), with one the pty master comes back in `Spawned`. `exec_id`:
    an exec instance the API created (its exec_create event is out already)."""
    c, spec = _running_container(paths, ref)
    cid, pid, cgroup = c.id, c.state.pid, c.state.cgroup
    process = _process(spec, opts)
    if not exec_id:
        exec_id = events.exec_event(paths, c, "exec_create", opts.command)
    err_r, err_w = os.pipe()
    console = None
    ours = []  # opened here for the child: closed once it has them (the service lives on)
    if opts.tty:
        parent, child = socket.socketpair()
        console = parent
        stdio = Stdio(-1, -1, -1, console_socket=child.detach())
    elif opts.detach:
        null = os.open(os.devnull, os.O_RDWR)
        ours.append(null)
        stdio = Stdio(null, null, null)
    else:
        if not opts.interactive:
            stdin = os.open(os.devnull, os.O_RDONLY)
            ours.append(stdin)
        stdio = Stdio(stdin, stdout, stderr)
    try:
        mid = rexec.spawn(pid, spec, process, stdio, err_w, opts.detach, opts.user, cgroup)
    finally:
        for fd in ours:
            os.close(fd)
    os.close(err_w)
    if stdio.console_socket >= 0:
        os.close(stdio.console_socket)
    master = _receive_master(console) if console is not None else -1
    error = rexec.read_error(err_r)
    if error is not None:
        os.waitpid(mid, 0)
        if master >= 0:
            os.close(master)
        raise error.to_exception(opts.command[0])
    events.exec_event(paths, c, "exec_start", opts.command, exec_id)
    return Spawned(cid, mid, master, paths, c, exec_id)


def set_size(master: int, rows: int, cols: int) -> None:
    """Resize an exec's terminal (the Engine API's /exec/{id}/resize)."""
    ptys.set_size(master, rows, cols)


def _receive_master(sock: socket.socket) -> int:
    _, fds, _, _ = socket.recv_fds(sock, 16, 1)
    sock.close()
    return fds[0] if fds else -1


def _pump_pty(master: int, interactive: bool) -> None:
    size = ptys.get_size(0) or ptys.get_size(1)
    if size:
        ptys.set_size(master, *size)

    def resize(*_: object) -> None:
        s = ptys.get_size(0) or ptys.get_size(1)
        if s:
            ptys.set_size(master, *s)

    old = signal.signal(signal.SIGWINCH, resize)
    raw = ptys.raw_mode(0) if interactive and os.isatty(0) else contextlib.nullcontext()
    fds = [master] + ([0] if interactive else [])
    try:
        with raw:
            while True:
                ready, _, _ = select.select(fds, [], [])
                if master in ready:
                    try:
                        data = os.read(master, 65536)
                    except OSError:
                        data = b""
                    if not data:
                        return
                    os.write(1, data)
                if 0 in ready:
                    data = os.read(0, 65536)
                    if not data:
                        fds.remove(0)
                        continue
                    os.write(master, data)
    finally:
        signal.signal(signal.SIGWINCH, old)
        os.close(master)
