"""The container's process from fork to exec, one small step per function, in crun's order:
session -> rootfs -> hostname -> terminal/stdio -> rlimits -> wait for start -> seccomp (when
privileged enough) -> bounding set -> user -> capabilities -> no_new_privs -> seccomp -> exec.

Failures are reported as a `ContainerError` (stage, errno) on the error pipe, which is
close-on-exec: EOF on it means the exec succeeded.
"""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import sys

from pycontainer.linux import caps, seccomp, signals
from pycontainer.linux import pty as ptys
from pycontainer.linux import syscalls as sc
from pycontainer.oci.runtime import Process, Spec
from pycontainer.runtime.base import ContainerError, Stdio
from pycontainer.runtime.builtin import mounts

PR_SET_KEEPCAPS = 8


class Step:
    """Remembers which step is running so an OSError can be reported with its stage."""

    name = "start"


def report(error_fd: int, stage: str, exc: BaseException) -> None:
    err = exc.errno if isinstance(exc, OSError) and exc.errno else 0
    msg = (exc.strerror or str(exc)) if isinstance(exc, OSError) else str(exc)
    if isinstance(exc, OSError) and exc.filename:
        msg = f"{msg}: {exc.filename}"
    with contextlib.suppress(OSError):
        os.write(error_fd, ContainerError(stage, err, msg).encode())


def container_main(spec: Spec, rootfs: str, stdio: Stdio, start_fd: int, error_fd: int) -> None:
    """Runs as the container's first process (pid 1 of its pid namespace); never returns."""
    step = Step()
    try:
        step.name = "session"
        os.setsid()
        step.name = "rootfs"
        mounts.setup_rootfs(spec, rootfs)
        step.name = "cwd"
        make_cwd(spec.process.cwd)
        step.name = "hostname"
        if spec.hostname and spec.linux.has_ns("uts"):
            sc.sethostname(spec.hostname)
        step.name = "terminal"
        attach_stdio(spec.process, stdio)
        step.name = "rlimits"
        set_rlimits(spec.process)
        step.name = "seccomp"
        program = seccomp.compile_profile(spec.linux.seccomp) if spec.linux.seccomp else None
        step.name = "wait-start"
        if os.read(start_fd, 1) != b"1":
            os._exit(1)  # the supervisor went away before starting us
        os.close(start_fd)
        finalize(spec, step, program)
        step.name = "exec"
        execute(spec.process, error_fd)
    except BaseException as exc:  # noqa: BLE001 - everything is reported, then we leave
        report(error_fd, step.name, exc)
    os._exit(127)


def make_cwd(cwd: str) -> None:
    """runc's (and Docker's) rule: a missing working directory is made, 0755 and owned by
    the container's root, once every mount is in place (the root is already pivoted)."""
    if not os.path.isdir(cwd):
        os.makedirs(cwd, 0o755, exist_ok=True)


def attach_stdio(process: Process, stdio: Stdio) -> None:
    if process.terminal:
        master, slave = ptys.open_pair()  # from the container's own /dev/pts
        sock = socket.socket(fileno=stdio.console_socket)
        socket.send_fds(sock, [b"pty"], [master])
        sock.detach()
        os.close(stdio.console_socket)
        os.close(master)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        ptys.make_controlling(0)
        if slave > 2:
            os.close(slave)
        return
    for target, fd in ((0, stdio.stdin), (1, stdio.stdout), (2, stdio.stderr)):
        if fd != target:
            os.dup2(fd, target)


def set_rlimits(process: Process) -> None:
    for r in process.rlimits:
        res = getattr(resource, r.type, None)
        if res is None:
            raise OSError(22, f"unknown rlimit {r.type}")
        resource.setrlimit(res, (r.soft, r.hard))


def finalize(spec: Spec, step: Step, program: bytes | None = None) -> None:
    """User, capabilities, no_new_privs and seccomp (runc's finalizeNamespace order)."""
    proc = spec.process
    if program is None and spec.linux.seccomp:
        program = seccomp.compile_profile(spec.linux.seccomp)
    if program is not None and not proc.no_new_privileges:
        step.name = "seccomp"
        seccomp.load(program)  # needs CAP_SYS_ADMIN, which we are about to drop
    step.name = "capabilities"
    caps_of = {k: caps.mask(v) for k, v in proc.capabilities.items()}
    caps.drop_bounding(caps_of.get("bounding", 0))
    step.name = "user"
    sc.prctl(PR_SET_KEEPCAPS, 1)
    if proc.user.additional_gids or _setgroups_allowed():
        os.setgroups(proc.user.additional_gids)
    os.setresgid(proc.user.gid, proc.user.gid, proc.user.gid)
    os.setresuid(proc.user.uid, proc.user.uid, proc.user.uid)
    sc.prctl(PR_SET_KEEPCAPS, 0)
    step.name = "capabilities"
    caps.capset(caps_of.get("effective", 0), caps_of.get("permitted", 0),
                caps_of.get("inheritable", 0))
    if caps_of.get("ambient"):
        caps.set_ambient(caps_of["ambient"])
    if proc.no_new_privileges:
        sc.prctl(sc.PR_SET_NO_NEW_PRIVS, 1)
        if program is not None:
            step.name = "seccomp"
            seccomp.load(program)
    step.name = "cwd"
    os.chdir(proc.cwd)


def _setgroups_allowed() -> bool:
    # A user namespace mapped without newgidmap (no subordinate ids) must deny setgroups;
    # then the empty list of additional groups is what the process already has.
    try:
        with open("/proc/self/setgroups") as f:
            return f.read().strip() != "deny"
    except OSError:
        return True


def execute(process: Process, error_fd: int) -> None:
    env = {}
    for item in process.env:
        key, _, value = item.partition("=")
        env[key] = value
    os.set_inheritable(error_fd, False)
    _close_other_fds(error_fd)
    sys.stdout.flush()
    # last, so nothing above runs without Python's handlers; exec keeps ignored signals and
    # the mask (the exec path comes here straight from the CLI's own signal state)
    signals.reset()
    os.execvpe(process.args[0], process.args, env)


def _close_other_fds(keep: int) -> None:
    os.closerange(3, keep)
    os.closerange(keep + 1, 65536)
