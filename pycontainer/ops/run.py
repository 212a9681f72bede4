"""`pyc run`: create, start and (in the foreground) attach; composition only."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field

from pycontainer.errors import PycError
from pycontainer.ops import lifecycle
from pycontainer.ops.attach import DEFAULT_DETACH_KEYS, AttachOptions, pump
from pycontainer.ops.create import CreateOptions, create
from pycontainer.paths import Paths


@dataclass
class RunOptions:
    create: CreateOptions
    detach: bool = False
    detach_keys: str = DEFAULT_DETACH_KEYS
    sig_proxy: bool = True
    tty_size: tuple[int, int] | None = None
    #: `-a`: the streams to attach ("stdin", "stdout", "stderr"); empty: stdout and stderr
    attach: tuple[str, ...] = ()


@dataclass
class RunReport:
    container_id: str
    #: the container's exit status (foreground), None when detached
    exit_code: int | None = None
    warnings: list[str] = field(default_factory=list)


def run(paths: Paths, opts: RunOptions) -> RunReport:
    cid = create(paths, opts.create)
    spec = opts.create.spec
    if opts.detach:
        try:
            lifecycle.start(paths, cid, lifecycle.StartRequest(mode="reexec"))
        except PycError:
            _cleanup_failed(paths, cid, spec.auto_remove)
            raise
        return RunReport(cid)
    req = lifecycle.StartRequest(attach=True, removes=spec.auto_remove, mode="fork",
                                 tty_size=opts.tty_size if spec.tty else None)
    try:
        started = lifecycle.start(paths, cid, req)
    except PycError:
        _cleanup_failed(paths, cid, spec.auto_remove)
        raise
    assert started.sock is not None
    aopts = AttachOptions(stdin=spec.interactive, tty=spec.tty, detach_keys=opts.detach_keys,
                          sig_proxy=opts.sig_proxy, removes=spec.auto_remove,
                          stdout=not opts.attach or "stdout" in opts.attach,
                          stderr=not opts.attach or "stderr" in opts.attach)

    def signal_container(sig: int) -> None:
        with contextlib.suppress(OSError):
            os.kill(started.pid, sig)

    code = pump(started.sock, aopts, signal_container)
    if code is None:
        return RunReport(cid)  # detached with the detach keys
    if spec.auto_remove:
        with contextlib.suppress(PycError):
            lifecycle.remove(paths, cid, force=True, background=True)
    else:
        store = lifecycle.store_for(paths)
        with contextlib.suppress(PycError), store.lock(cid):
            lifecycle.load_synced(store, cid)
    return RunReport(cid, code)


def terminal_size() -> tuple[int, int]:
    from pycontainer.linux import pty

    return pty.get_size(0) or pty.get_size(1) or (24, 80)


def _cleanup_failed(paths: Paths, cid: str, auto_remove: bool) -> None:
    if auto_remove:
        with contextlib.suppress(PycError):
            lifecycle.remove(paths, cid, force=True)


__all__ = ["RunOptions", "RunReport", "run"]
