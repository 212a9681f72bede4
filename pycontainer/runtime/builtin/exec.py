"""`exec` for any running container: join its namespaces and run one more process in it.

The joined process is a grandchild: setns(CLONE_NEWPID) only places *children* in the pid
namespace, so a middle process joins, forks, waits and passes the status on. It works for
containers made by runc too, since it needs nothing but their pid.
"""

from __future__ import annotations

import contextlib
import os
import resource  # not lazily: after setns(mnt) the host's modules are out of sight

from pycontainer.linux import syscalls as sc
from pycontainer.linux.cgroup_container import ContainerCgroup
from pycontainer.linux.cgroup_record import CgroupRecord
from pycontainer.oci.convert import resolve_user  # not lazily: setns(mnt) hides our files
from pycontainer.oci.runtime import Process, Spec, User
from pycontainer.runtime.base import ContainerError, Stdio
from pycontainer.runtime.builtin import init

# user first (it grants the capabilities the others need), mnt last (it changes our root).
NS_ORDER = ("user", "ipc", "uts", "net", "pid", "cgroup", "mnt")


def open_namespaces(pid: int) -> list[tuple[str, int]]:
    """Open the target's namespace files now, so a vanished container fails early."""
    out = []
    for ns in NS_ORDER:
        try:
            mine = os.stat(f"/proc/self/ns/{ns}").st_ino
            theirs = os.stat(f"/proc/{pid}/ns/{ns}").st_ino
        except FileNotFoundError:
            continue
        if mine != theirs:
            out.append((ns, os.open(f"/proc/{pid}/ns/{ns}", os.O_RDONLY | os.O_CLOEXEC)))
    return out


def spawn(pid: int, spec: Spec, process: Process, stdio: Stdio, error_fd: int,
          detach: bool = False, user: str | None = None,
          cgroup: CgroupRecord | None = None) -> int:
    """Fork the middle process; returns its pid (its exit status is the command's). With
    `cgroup` (the container's record) the command runs under the container's limits."""
    namespaces = open_namespaces(pid)
    mid = os.fork()
    if mid == 0:  # pragma: no cover - the middle process
        code = 125
        try:
            if detach:
                os.setsid()
            if cgroup:  # still on the host's file system, and moving itself is always allowed
                ContainerCgroup.from_record(cgroup).add(os.getpid())
            for _, fd in namespaces:
                sc.setns(fd, 0)
                os.close(fd)
            child = os.fork()
            if child == 0:
                _exec_main(spec, process, stdio, error_fd, user)
            # hold nothing of the caller's: a long-lived caller (the API service) passes
            # pipe ends whose EOF the command and the caller wait for
            os.closerange(3, _fd_limit())
            _, status = os.waitpid(child, 0)
            code = os.waitstatus_to_exitcode(status)
            code = 128 - code if code < 0 else code
        except BaseException as exc:  # noqa: BLE001
            init.report(error_fd, "join", exc)
        finally:
            os._exit(code)
    for _, fd in namespaces:
        os.close(fd)
    return mid


def _fd_limit() -> int:
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return soft if 0 < soft < (1 << 20) else 1 << 20


def _exec_main(spec: Spec, process: Process, stdio: Stdio, error_fd: int,
               user: str | None) -> None:
    step = init.Step()
    try:
        step.name = "terminal"
        if process.terminal:
            os.setsid()
        init.attach_stdio(process, stdio)
        step.name = "user"
        if user:
            process.user = _resolve_user(process, user)
        run_spec = Spec(process=process, linux=spec.linux)
        init.finalize(run_spec, step)
        step.name = "exec"
        init.execute(process, error_fd)
    except BaseException as exc:  # noqa: BLE001
        init.report(error_fd, step.name, exc)
    os._exit(127)


def _resolve_user(process: Process, name: str) -> User:
    """`exec -u NAME`: names resolved through the container's own /etc/passwd (we are in its
    mount namespace now)."""
    texts = []
    for path in ("/etc/passwd", "/etc/group"):
        try:
            with open(path) as f:
                texts.append(f.read())
        except OSError:
            texts.append("")
    r = resolve_user(name, [], texts[0], texts[1])
    for e in list(process.env):
        if e.startswith("HOME="):
            process.env.remove(e)
    process.env.append(f"HOME={r.home}")
    return User(r.uid, r.gid, list(r.additional_gids))


def read_error(fd: int) -> ContainerError | None:
    chunks = []
    while True:
        data = os.read(fd, 65536)
        if not data:
            break
        chunks.append(data)
    os.close(fd)
    raw = b"".join(chunks)
    if not raw:
        return None
    with contextlib.suppress(ValueError, KeyError):
        return ContainerError.decode(raw)
    return ContainerError("exec", 0, raw.decode(errors="replace"))
