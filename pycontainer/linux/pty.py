"""Pseudo-terminals: a pair for `-t`, raw mode for the user's terminal, window sizes."""

from __future__ import annotations

import fcntl
import os
import struct
import termios
import tty
from collections.abc import Iterator
from contextlib import contextmanager, suppress


def open_pair() -> tuple[int, int]:
    """(master, slave) of a fresh pty from the current /dev/ptmx."""
    master, slave = os.openpty()
    os.set_inheritable(slave, True)
    return master, slave


def get_size(fd: int) -> tuple[int, int] | None:
    """(rows, cols) of the terminal on `fd`, or None when it is not a terminal."""
    try:
        data = fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8)
    except OSError:
        return None
    rows, cols, _, _ = struct.unpack("HHHH", data)
    return rows, cols


def set_size(fd: int, rows: int, cols: int) -> None:
    with suppress(OSError):
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def make_controlling(fd: int) -> None:
    """In a new session, make the terminal on `fd` the controlling terminal."""
    fcntl.ioctl(fd, termios.TIOCSCTTY, 0)


@contextmanager
def raw_mode(fd: int) -> Iterator[None]:
    """Put the user's terminal in raw mode (keys go to the container) and restore it."""
    try:
        saved = termios.tcgetattr(fd)
    except termios.error:
        yield
        return
    try:
        tty.setraw(fd, termios.TCSANOW)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
