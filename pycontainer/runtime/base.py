"""The runtime seam: what the launcher hands to a runtime and what it gets back.

A runtime turns a bundle (config.json + rootfs) into a process that waits to be started:
`create` returns the container's pid; writing one byte to the start pipe lets it exec.
Errors before or at exec come back as a structured record (stage, errno, message) on the
error pipe, never as text to parse.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Protocol

from pycontainer import errors
from pycontainer.errors import CannotInvoke, CommandNotFound, ContainerRuntimeError, PycError
from pycontainer.oci.runtime import Spec


@dataclass
class Stdio:
    """File descriptors the container's process gets, and how its terminal is delivered."""

    stdin: int
    stdout: int
    stderr: int
    #: with a terminal: a socket the runtime sends the pty master over (SCM_RIGHTS)
    console_socket: int = -1
    console_path: str = ""


@dataclass
class ContainerError(Exception):  # noqa: N818 - a record that travels between processes
    stage: str  # "exec" or a setup step name
    errno: int
    message: str

    def encode(self) -> bytes:
        """`stage NUL errno NUL message`, one line: readable by the supervisor without a
        JSON parser (it keeps its imports small) and safe in line-based pipes."""
        msg = self.message.replace("\n", " ").replace("\0", " ")
        return f"{self.stage}\0{self.errno}\0{msg}".encode()

    @classmethod
    def decode(cls, raw: bytes) -> ContainerError:
        stage, errno, msg = raw.decode(errors="replace").rstrip("\n").split("\0", 2)
        return cls(stage, int(errno), msg)

    def to_exception(self, command: str) -> PycError:
        status = errors.exec_status(self.stage, self.errno)  # the one errno table
        if status == errors.NOT_FOUND:
            # runc's lower-case wording after the colon: scripts grep for it
            return CommandNotFound(
                f"container command {command!r} not found or does not exist: exec: "
                f"{command}: {os.strerror(self.errno or 2).lower()}")
        if status == errors.CANNOT_INVOKE:
            return CannotInvoke(f"container command {command!r} could not be invoked: "
                                f"exec: {command}: {os.strerror(self.errno).lower()}")
        return ContainerRuntimeError(f"{self.stage}: {self.message}")


class OCIRuntime(Protocol):
    """Runs in the launcher: already root of the container's user namespace, in a mount
    namespace where the rootfs is mounted at `bundle/rootfs`."""

    name: str

    def create(self, container_id: str, bundle: str, spec: Spec, stdio: Stdio,
               start_fd: int, error_fd: int) -> int:
        """Create the container process, waiting on `start_fd`; return its host pid."""
        ...

    def start(self, container_id: str, start_fd: int, error_fd: int) -> None:
        """Let the created container exec (the builtin runtime's process reads `start_fd`
        itself; an external runtime waits for it here and runs `RUNTIME start`)."""
        ...
