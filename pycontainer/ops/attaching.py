"""`start -a [-i]` and `attach`: a client on a container's stdio (the socket protocol is
`ops.attach`, which `ops.lifecycle` uses too, so these verbs live above both)."""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

from pycontainer.errors import Conflict
from pycontainer.ops import attach
from pycontainer.ops.lifecycle import StartRequest, load_synced, start, store_for
from pycontainer.paths import Paths

if TYPE_CHECKING:
    from collections.abc import Callable


def start_attached(paths: Paths, ref: str, interactive: bool, detach_keys: str) -> int | None:
    """`start -a [-i]`: start with a client attached before the container execs."""
    store = store_for(paths)
    cid = store.resolve(ref)
    spec = store.load(cid).config.spec
    tty = bool(spec.tty)
    size = _terminal_size() if tty else None
    started = start(paths, cid, StartRequest(attach=True, mode="fork", tty_size=size))
    if started.sock is None:  # it was already running: attach like `pyc attach`
        return attach_running(paths, cid, interactive, detach_keys, True)
    opts = attach.AttachOptions(stdin=interactive and bool(spec.interactive), tty=tty,
                                detach_keys=detach_keys)
    return attach.pump(started.sock, opts, _signaller(started.pid))


def attach_running(paths: Paths, ref: str, stdin: bool, detach_keys: str,
                   sig_proxy: bool) -> int | None:
    store = store_for(paths)
    cid = store.resolve(ref)
    with store.lock(cid):
        c = load_synced(store, cid)
    if not c.state.running:
        raise Conflict("You cannot attach to a stopped container, start it first")
    spec = c.config.spec
    opts = attach.AttachOptions(stdin=stdin and bool(spec.interactive),
                                tty=bool(spec.tty), detach_keys=detach_keys,
                                sig_proxy=sig_proxy)
    sock = attach.connect(str(store.run_dir(cid)))
    attach.hello(sock, opts)
    return attach.pump(sock, opts, _signaller(c.state.pid))


def _signaller(pid: int) -> Callable[[int], None]:
    def send(sig: int) -> None:
        with contextlib.suppress(OSError):
            os.kill(pid, sig)

    return send


def _terminal_size() -> tuple[int, int]:
    from pycontainer.linux import pty

    return pty.get_size(0) or pty.get_size(1) or (24, 80)
