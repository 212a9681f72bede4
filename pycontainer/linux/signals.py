"""Signal state handed to a container's processes.

Ignored signals and the signal mask survive fork and exec: pyc ignores SIGPIPE (Python does
at start-up), the supervisor SIGHUP, and a pyc started by `nohup` or as a shell's background
job inherits SIGINT/SIGQUIT/SIGHUP ignored. runc and Podman give the container's process
every disposition at its default and an empty mask, and so does pyc (`reset`).
"""

from __future__ import annotations

import contextlib
import signal

_UNCATCHABLE = (signal.SIGKILL, signal.SIGSTOP)


def reset() -> None:
    """Every signal back to SIG_DFL and nothing blocked (call in a forked child only)."""
    for sig in signal.valid_signals():
        if sig in _UNCATCHABLE:
            continue
        # glibc reserves 32 and 33 for its threads: EINVAL there is expected
        with contextlib.suppress(OSError, ValueError):
            signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
