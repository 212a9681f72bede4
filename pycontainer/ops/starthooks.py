"""What `ops.lifecycle` calls around a container's start and removal for its network and
volumes: one line each there, the logic in `ops.netsetup` and `ops.mounts`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pycontainer.containers.model import Container
from pycontainer.containers.store import ContainerStore
from pycontainer.ops import mounts, netsetup
from pycontainer.paths import Paths

if TYPE_CHECKING:
    from pycontainer.supervisor.protocol import SupervisorConfig


class StartPlan(netsetup.Starter):
    """The network starter plus the volumes the launcher must fill from the image."""

    copy_up: list[list[str]]


def prepare_start(paths: Paths, store: ContainerStore, c: Container) -> StartPlan:
    """Before the supervisor exists: bind sources checked, ports allocated, pipes made."""
    spec_mounts = list(c.config.spec.mounts)
    mounts.check_sources(spec_mounts)
    plan = StartPlan(paths, store, c)
    plan.copy_up = mounts.copy_up_list(paths, spec_mounts)
    if c.config.spec.pid or c.config.spec.ipc == "shareable" or c.config.spec.pod or \
            (c.config.spec.ipc or "").startswith("container:"):
        from pycontainer.ops import nsjoin

        joined = nsjoin.prepare(store, c)  # --pid/--ipc container:NAME, checked first
        plan.prepare()
        try:
            plan.userns_path = nsjoin.merge(plan.userns_path, joined)
        except BaseException:
            plan.close()
            netsetup.teardown(paths, store, c.id)
            raise
        return plan
    plan.prepare()
    return plan


def configure(plan: StartPlan, cfg: SupervisorConfig) -> None:
    """Fill the supervisor's config from the plan."""
    fds = plan.supervisor_fds()
    cfg.go_fd, cfg.hold_fd = fds["go_fd"], fds["hold_fd"]
    if plan.userns_path:
        cfg.launch["userns_path"] = plan.userns_path
    if plan.copy_up:
        cfg.launch["copy_up"] = plan.copy_up


def started(paths: Paths, c: Container, plan: StartPlan) -> None:
    """The container's init exists (pid in c.state.pid): connect it, then let it exec."""
    if plan.go_w >= 0:
        plan.setup(c.state.pid)
    if plan.copy_up:
        mounts.mark_copied(paths, list(c.config.spec.mounts), plan.copy_up)


def teardown(paths: Paths, store: ContainerStore, c: Container) -> None:
    netsetup.teardown(paths, store, c.id)


def removed(paths: Paths, c: Container, volumes: bool) -> None:
    """After `rm`: anonymous volumes go with `rm -v` and with `--rm` (as in Docker)."""
    if volumes or c.config.spec.auto_remove:
        mounts.discard_anonymous(paths, list(c.config.spec.mounts))


def exit_command(paths: Paths, c: Container) -> list[str]:
    """The supervisor's exit command for a container that is not --rm: only when its exit
    leaves something outside the container to free (user-defined networks)."""
    if not netsetup.needs_cleanup(c):
        return []
    from pycontainer.selfexec import exit_command as command

    return command(paths, c.id, False)
