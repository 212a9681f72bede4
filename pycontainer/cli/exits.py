"""Errors to exit statuses, and leaving the process; no typer (the fast path uses this too).

Exit codes follow `docker run`: 125 when pyc itself fails, 126 when the container's command
cannot be invoked, 127 when it is not found, otherwise the container's own status.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

from pycontainer import errors


def print_error(message: str) -> None:
    sys.stderr.write(f"Error: {message}\n")


def status_of(exc: BaseException) -> int | None:
    """The exit status for an exception pyc expects, after reporting it; None for others."""
    if isinstance(exc, errors.ExitStatus):
        return exc.status
    if isinstance(exc, errors.PycError):
        print_error(exc.message)
        if exc.hint:
            sys.stderr.write(f"Hint: {exc.hint}\n")
        return exc.exit_code
    if isinstance(exc, KeyboardInterrupt):
        return 130
    if isinstance(exc, BrokenPipeError):
        # Output piped into `head`: not an error; keep Python from complaining at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    if isinstance(exc, OSError) and exc.strerror:
        # A safety net, not a way of reporting: each known failure has its own message.
        # Still one line naming the file, never a traceback or "[Errno N]".
        print_error(os_error_message(exc))
        return 125
    return None


def os_error_message(exc: OSError) -> str:
    where = [str(f) for f in (exc.filename, exc.filename2) if f is not None]
    return f"{exc.strerror}: {' -> '.join(where)}" if where else str(exc.strerror)


def exit_now(code: int) -> NoReturn:
    """Exit with `code`, skipping the interpreter's finalization when there is nothing left
    for it to do: tearing down typer's and pyc's modules costs ~15 ms, a fifth of a `pyc exec`.
    Normal exit when an atexit handler or a non-daemon thread waits, or a flush fails."""
    import atexit
    import threading

    from pycontainer import dccache

    dccache.save()
    others = [t for t in threading.enumerate()
              if t is not threading.main_thread() and not t.daemon]
    # atexit._ncallbacks is CPython's private count; without it, assume handlers wait
    pending = getattr(atexit, "_ncallbacks", lambda: 1)()
    if pending == 0 and not others:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        else:
            os._exit(code)
    sys.exit(code)
