"""The pod's infra: `catatonit -P` (Podman's pause) in a new user namespace mapped with the
user's ids and in the namespaces the pod shares (net, ipc, uts), holding them while the pod's
containers come and go. No Python stays resident: the forked child sets the namespaces up
(hostname, `lo` up), forks the holder and exits; the holder execs catatonit at once, and is
reparented to the init (or the session's subreaper).

catatonit closes every fd above 2, so the fd that must live exactly as long as the infra
(the write end of slirp4netns's exit pipe) is its stdout: catatonit -P never writes.
"""

from __future__ import annotations

import os

from pycontainer import binaries
from pycontainer.errors import HostError
from pycontainer.linux import proc, syscalls, userns

_FLAGS = {"net": syscalls.CLONE_NEWNET, "ipc": syscalls.CLONE_NEWIPC,
          "uts": syscalls.CLONE_NEWUTS}


def holder_binary() -> str:
    for name in ("catatonit",):
        found = binaries.find(name)
        if found:
            return os.path.realpath(found)
    for path in ("/usr/libexec/podman/catatonit", "/usr/lib/podman/catatonit"):
        if os.access(path, os.X_OK):
            return os.path.realpath(path)
    raise HostError("a pod's infra needs catatonit on the host", hint="apt-get install catatonit")


def start(mapping: userns.IdMapping, share: list[str], hostname: str,
          hold_fd: int = -1) -> tuple[int, int | None]:
    """Start the holder; returns its pid and /proc start time. `hold_fd` (or -1) becomes its
    stdout, so that fd's pipe closes when the infra dies."""
    binary = holder_binary()
    flags = 0
    for ns in share:
        flags |= _FLAGS[ns]
    report_r, report_w = os.pipe()

    def child() -> int:  # pragma: no cover - runs in the forked child
        os.close(report_r)
        if "uts" in share and hostname:
            syscalls.sethostname(hostname)
        if "net" in share:
            from pycontainer.linux.netif import loopback_up

            loopback_up()
        pid = os.fork()
        if pid == 0:
            _exec_holder(binary, hold_fd)
        os.write(report_w, str(pid).encode())
        return 0

    try:
        child_pid = userns.fork_in_userns(child, mapping, flags)
    except BaseException:
        os.close(report_r)
        os.close(report_w)
        raise
    os.close(report_w)
    try:
        _, status = os.waitpid(child_pid, 0)
        data = b""
        while chunk := os.read(report_r, 64):
            data += chunk
    finally:
        os.close(report_r)
    if os.waitstatus_to_exitcode(status) != 0 or not data:
        raise HostError("cannot start the pod's infra process (its namespaces)",
                        hint="run `pyc system check` to see what the host lacks")
    pid = int(data)
    return pid, proc.start_time(pid)


def _exec_holder(binary: str, hold_fd: int) -> None:  # pragma: no cover - forked child
    try:
        os.setsid()
        null = os.open("/dev/null", os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(hold_fd if hold_fd >= 0 else null, 1)
        os.dup2(null, 2)
        # no environment: nothing of the user's is kept resident (and no stack page for it)
        os.execve(binary, [binary, "-P"], {})
    finally:
        os._exit(127)


def alive(pid: int, started: int | None) -> bool:
    return pid > 0 and proc.alive(pid, started)


def stop(pid: int, started: int | None, timeout: float = 5.0) -> None:
    """SIGKILL the holder (it holds nothing that needs a clean exit) and wait until it is
    gone, so its namespaces (and slirp4netns, through the exit pipe) are gone too."""
    import time

    if not alive(pid, started):
        return
    proc.kill(pid, 9, started)
    deadline = time.monotonic() + timeout
    while alive(pid, started) and time.monotonic() < deadline:
        time.sleep(0.005)
