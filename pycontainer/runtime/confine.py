"""Put a created container into its cgroup before it execs (issue 7).

The launcher calls `prepare()` before `runtime.create` and the function it returns right
after, while the container's init still waits on the start pipe: everything the user's
command starts later inherits the cgroup. Two steps because the builtin runtime's init shares
the launcher's mount namespace, so its pivot_root also moves the launcher's root: after
create the launcher may no longer see the host's /sys/fs/cgroup or /proc, so the files are
opened before. The launcher is the right process for it: on cgroup v1 only a process with the
same uid as the target may move it, and the launcher and the container's init are the same
user (root of the container's user namespace) until the init switches to the image's user.

An external runtime (runc) switches to the image's user before `create` returns, so for it
the launcher moves itself instead, before create: runc and the container inherit the cgroup,
and runc's own cgroup for the container is made below pyc's (limits are hierarchical).
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING

from pycontainer.linux.cgroup_container import ContainerCgroup
from pycontainer.runtime.base import ContainerError

if TYPE_CHECKING:
    from pycontainer.jsontypes import JSON


def prepare(cgroup: JSON, oom_score_adj: int | None,
            kill: bool = True) -> Callable[[int], None]:
    """Open what confining a pid needs; the result moves the pid into the cgroup recorded
    in `cgroup` ({}: none) and sets its OOM score adjustment, or (`kill`) kills it and
    raises."""
    add = ContainerCgroup.from_dict(cgroup).adder() if cgroup else None
    proc = os.open("/proc", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)

    def confine(pid: int) -> None:
        try:
            if add is not None:
                add(pid)
            if oom_score_adj is not None:
                _set_oom_score_adj(proc, pid, oom_score_adj)
        except BaseException:
            if kill:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            raise
        finally:
            os.close(proc)

    return confine


def _set_oom_score_adj(proc: int, pid: int, value: int) -> None:
    try:
        fd = os.open(f"{pid}/oom_score_adj", os.O_RDWR | os.O_CLOEXEC, dir_fd=proc)
    except OSError as exc:
        raise ContainerError("oom-score-adj", exc.errno or 0, str(exc)) from None
    try:
        current = os.read(fd, 32).decode().strip()
        os.write(fd, str(value).encode())
    except PermissionError:
        # lowering the score needs CAP_SYS_RESOURCE on the host, which no rootless engine
        # has (Podman fails the same way)
        raise ContainerError(
            "oom-score-adj", 1, f"--oom-score-adj {value}: an unprivileged user may only "
            f"raise the OOM score adjustment (it is {current})") from None
    finally:
        os.close(fd)
