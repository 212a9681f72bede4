"""Long operations (pull, push, build, save) as streams: the ops call runs in a thread of its
own and reports through a callback; the response relays what it reports.

As dockerd does, the status line waits for the first message: an operation that fails
before it has said anything (no such image, manifest unknown, a Dockerfile that does not
parse) is an ordinary error response with its status; later failures arrive inside the
200 stream as `{"error", "errorDetail"}`. A client that leaves makes the next report raise
`Cancelled` in the operation, which unwinds through its own cleanup (a failed pull drops
its layers, a build removes its scratch space); the response waits for that to finish.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

from pycontainer.api import errors
from pycontainer.api.wire import Request, json_line
from pycontainer.errors import BuildError

Emit = Callable[[bytes], None]
Work = Callable[[Emit], None]

#: how often a waiting response looks whether its client is still there
POLL = 0.5


class Cancelled(BaseException):
    """The client went away: the operation stops at its next report (BaseException so that
    no `except Exception` in the operation takes it for a failure to carry on from)."""


def error_message(exc: BaseException) -> dict[str, Any]:
    message = errors.message_of(exc)
    detail: dict[str, Any] = {"message": message}
    code = vars(exc).get("exit_code")  # set on the error of a failed RUN only
    if isinstance(code, int) and code > 0 and isinstance(exc, BuildError):
        detail = {"code": code, "message": message}
    return {"errorDetail": detail, "error": message}


class _Runner:
    def __init__(self, work: Work, request: Request, json_errors: bool) -> None:
        self.work, self.request, self.json_errors = work, request, json_errors
        self.items: queue.Queue[bytes | BaseException | None] = queue.Queue()
        self.gone = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def emit(self, data: bytes) -> None:
        if self.gone.is_set():
            raise Cancelled
        if data:
            self.items.put(data)

    def _run(self) -> None:
        try:
            self.work(self.emit)
        except Cancelled:
            pass
        except BaseException as exc:  # noqa: BLE001 - reported to the client
            self.items.put(exc)
        finally:
            self.items.put(None)

    def next(self) -> bytes | BaseException | None:
        while True:
            try:
                return self.items.get(timeout=POLL)
            except queue.Empty:
                if self.request.client_gone():
                    self.gone.set()
                    return None

    def finish(self) -> None:
        self.gone.set()
        self.thread.join()


def start(request: Request, work: Work, json_errors: bool = True) -> Iterator[bytes]:
    """Run `work(emit)` and return its stream; raises what it raised before its first
    message (the caller's handler turns that into an error response)."""
    runner = _Runner(work, request, json_errors)
    runner.thread.start()
    first = runner.next()
    if isinstance(first, BaseException):
        runner.finish()
        raise first
    return _relay(runner, first)


def _relay(runner: _Runner, first: bytes | None) -> Iterator[bytes]:
    item: bytes | BaseException | None = first
    try:
        while item is not None:
            if isinstance(item, BaseException):
                if runner.json_errors:
                    yield json_line(error_message(item))
                return  # a raw stream (save) just ends: the client sees it truncated
            yield item
            item = runner.next()
    finally:
        runner.finish()


def progress_bar(current: int, total: int) -> str:
    """The `progress` text of Docker's JSON messages: a 50-wide bar and the sizes."""
    from pycontainer.formats.units import human_size

    if total <= 0:
        return human_size(current)
    filled = min(50, int(50 * current / total))
    bar = "=" * filled + (">" if filled < 50 else "") + " " * max(0, 49 - filled)
    return f"[{bar}] {human_size(current):>9}/{human_size(total)}"
