"""The client side of attach: the foreground `run`, `start -a` and `attach` pump the
container's stdio between the user's terminal and the supervisor's socket."""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pycontainer.errors import ContainerNotFound
from pycontainer.linux import pty as ptys
from pycontainer.supervisor import protocol as p

DEFAULT_DETACH_KEYS = "ctrl-p,ctrl-q"


@dataclass
class AttachOptions:
    stdin: bool = False
    tty: bool = False
    detach_keys: str = DEFAULT_DETACH_KEYS
    sig_proxy: bool = True
    #: tell the supervisor this client removes the container (foreground run --rm)
    removes: bool = False
    #: which output streams this client shows (`run -a STDOUT`): the others are dropped
    stdout: bool = True
    stderr: bool = True


def parse_detach_keys(text: str) -> bytes:
    """Docker's `--detach-keys` (`ctrl-p,ctrl-q`, `a`, `ctrl-@`...) -> the byte sequence."""
    out = bytearray()
    for key in text.split(","):
        key = key.strip()
        if not key:
            continue
        if key.startswith("ctrl-") and len(key) == 6:
            ch = key[5]
            code = {"@": 0, "[": 27, "\\": 28, "]": 29, "^": 30, "_": 31}.get(ch)
            out.append(code if code is not None else (ord(ch.lower()) - ord("a") + 1) & 0x1F)
        elif len(key) == 1:
            out.append(ord(key))
        else:
            from pycontainer.errors import UsageError

            raise UsageError(f"invalid detach keys: {text}")
    return bytes(out)


def connect(run_dir: str, timeout: float = 5) -> socket.socket:
    path = p.attach_path(run_dir)
    addr, dir_fd = p.socket_address(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(addr)
    except OSError:
        sock.close()
        raise ContainerNotFound("the container is not running (no attach socket)") from None
    finally:
        if dir_fd is not None:
            os.close(dir_fd)
    sock.settimeout(None)
    return sock


def hello(sock: socket.socket, opts: AttachOptions) -> None:
    """The first frames: terminal size and whether this client removes the container."""
    frames = b""
    if opts.tty:
        size = ptys.get_size(0) or ptys.get_size(1)
        if size:
            frames += p.encode(p.RESIZE, f"{size[0]} {size[1]}".encode())
    if opts.removes:
        frames += p.encode(p.CLIENT_REMOVES)
    if frames:
        sock.sendall(frames)


class _Pump:
    def __init__(self, sock: socket.socket, opts: AttachOptions,
                 signal_container: Callable[[int], None] | None) -> None:
        self.sock = sock
        self.opts = opts
        self.signal_container = signal_container
        self.reader = p.FrameReader()
        self.detach_seq = parse_detach_keys(opts.detach_keys) if opts.tty else b""
        self.matched = 0
        self.sel = selectors.DefaultSelector()
        self.stdin_fd = 0

    def run(self) -> int | None:
        self.sel.register(self.sock, selectors.EVENT_READ, "sock")
        if self.opts.stdin:
            self._register_stdin()
        while True:
            for key, _ in self.sel.select():
                result = self._on_sock() if key.data == "sock" else self._on_stdin()
                if result is not None:
                    return None if result == -1 else result

    def _on_sock(self) -> int | None:
        data = self.sock.recv(65536)
        if not data:
            return 255  # the supervisor went away without a status
        for kind, payload in self.reader.feed(data):
            if kind == p.EXIT:
                return int(payload)
            if kind == p.STDOUT:
                if self.opts.stdout:
                    _write_all(1, payload)
            elif self.opts.stderr:
                _write_all(2, payload)
        return None

    def _register_stdin(self) -> None:
        try:
            self.sel.register(0, selectors.EVENT_READ, "stdin")
        except PermissionError:
            # epoll refuses regular files and /dev/null (EPERM): a thread copies them into
            # a pipe, which the loop then polls like any other stdin (EOF, detach keys)
            self.stdin_fd = _relay_stdin()
            self.sel.register(self.stdin_fd, selectors.EVENT_READ, "stdin")

    def _on_stdin(self) -> int | None:
        try:
            data = os.read(self.stdin_fd, 65536)
        except OSError:
            data = b""
        if not data:
            self.sel.unregister(self.stdin_fd)
            if self.stdin_fd:
                os.close(self.stdin_fd)
            if not self.opts.tty:
                self.sock.sendall(p.encode(p.STDIN_CLOSE))
            return None
        if self.detach_seq and self._detaches(data):
            return -1
        self.sock.sendall(p.encode(p.STDIN, data))
        return None

    def _detaches(self, data: bytes) -> bool:
        for b in data:
            if b == self.detach_seq[self.matched]:
                self.matched += 1
                if self.matched == len(self.detach_seq):
                    return True
            else:
                self.matched = 0
        return False


def pump(sock: socket.socket, opts: AttachOptions,
         signal_container: Callable[[int], None] | None = None) -> int | None:
    """Copy stdio until the container exits (its status) or the user detaches (None)."""
    import gc

    # The CLI starts with the collector off; this loop may live as long as the container.
    # What exists now lives to the end anyway: frozen, the first collection skips it (~8 ms).
    gc.freeze()
    gc.enable()
    pumper = _Pump(sock, opts, signal_container)
    restore: list[tuple[int, Any]] = []
    if opts.tty:
        def resize(*_: object) -> None:
            size = ptys.get_size(0) or ptys.get_size(1)
            if size:
                with contextlib.suppress(OSError):
                    sock.sendall(p.encode(p.RESIZE, f"{size[0]} {size[1]}".encode()))

        restore.append((signal.SIGWINCH, signal.signal(signal.SIGWINCH, resize)))
    elif opts.sig_proxy and signal_container is not None:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT,
                    signal.SIGUSR1, signal.SIGUSR2):
            restore.append((sig, signal.signal(sig, lambda s, _f: signal_container(s))))
    raw = ptys.raw_mode(0) if opts.tty and opts.stdin and os.isatty(0) else contextlib.nullcontext()
    try:
        with raw:
            return pumper.run()
    finally:
        for signum, handler in restore:
            signal.signal(signum, handler)
        sock.close()
        with contextlib.suppress(OSError, ValueError):  # a closed or broken stdout
            sys.stdout.flush()


def _relay_stdin() -> int:
    """A pipe fed from fd 0 by a daemon thread (plain reads until EOF); its read end."""
    import threading

    r, w = os.pipe()

    def copy() -> None:
        try:
            while data := os.read(0, 65536):
                _write_all(w, data)
        except OSError:
            pass  # an unreadable stdin ends like an empty one: EOF
        finally:
            os.close(w)

    threading.Thread(target=copy, name="stdin-relay", daemon=True).start()
    return r


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except BrokenPipeError:
            return
        view = view[n:]
