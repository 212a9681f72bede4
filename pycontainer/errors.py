"""The exceptions pyc raises, each with a one-line user-facing message and an exit code.

Only `pycontainer.cli.app` turns these into exit codes; nothing else calls `sys.exit`.
This module imports nothing from pycontainer so every layer may use it.

    PycError                      125  anything pyc itself could not do
    ├── UsageError                125  a bad or unsupported option or argument
    ├── NotFound                  125  no such image / container / volume / network
    │   ├── ImageNotFound
    │   ├── ContainerNotFound
    │   ├── VolumeNotFound
    │   └── NetworkNotFound
    ├── Conflict                  125  a name in use, an object in use, a wrong state
    │   └── InvalidTransition          a lifecycle operation the container's state forbids
    ├── InvalidReference          125  an image reference that does not parse
    ├── RegistryError             125  the registry said no, or could not be reached
    │   ├── AuthError                  401 / 403, or a bad login
    │   └── RegistryNotFound           404: manifest or blob unknown
    ├── IntegrityError            125  a digest or size did not match; corrupt data
    ├── UnsafeArchive             125  a layer tries to write outside its root
    ├── HostError                 125  the host lacks a rootless prerequisite
    ├── LockTimeout               125  another pyc holds a lock for too long
    ├── ContainerRuntimeError     125  the runtime failed to create or start a container
    ├── BuildError                125  a Dockerfile that does not parse, or a failing step
    ├── ComposeError                1  a compose file that does not load or validate (Compose)
    ├── CannotInvoke              126  the container's command exists but cannot be executed
    └── CommandNotFound           127  the container's command does not exist

`ContainerExit` is not an error: it carries a container's own exit status to the CLI.

The statuses of a container command that could not be started are decided here too, once for
the CLI, the runtimes and the supervisor (which imports this module and nothing else of pyc's
error handling): `exec_status` and `recorded_status`.
"""

from __future__ import annotations

ENGINE_ERROR, CANNOT_INVOKE, NOT_FOUND = 125, 126, 127
#: State.ExitCode of a container whose start failed for a reason of pyc's own (Docker's
#: `exitUnknown`); the CLI still exits 125
START_FAILED = 128

#: errno of a failed execve(2) of the container's command -> Docker's status: 127 for a
#: command not found (ENOENT, ENOTDIR on its path), 126 for one found but that cannot be
#: invoked (EACCES, EPERM, ENOEXEC, EISDIR); any other errno is an engine error (125)
EXEC_ERRNO_STATUS = {2: NOT_FOUND, 20: NOT_FOUND, 13: CANNOT_INVOKE, 1: CANNOT_INVOKE,
                     8: CANNOT_INVOKE, 21: CANNOT_INVOKE}


def exec_status(stage: str, errno: int) -> int:
    """The exit status for a container process that failed at `stage` with `errno`."""
    return EXEC_ERRNO_STATUS.get(errno, ENGINE_ERROR) if stage == "exec" else ENGINE_ERROR


def recorded_status(status: int) -> int:
    """What a container's record keeps for a start that failed with exit `status`."""
    return START_FAILED if status == ENGINE_ERROR else status


class PycError(Exception):
    """Base of every error pyc reports to its user."""

    exit_code = ENGINE_ERROR

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(PycError):
    pass


class NotFound(PycError):
    pass


class ImageNotFound(NotFound):
    pass


class ContainerNotFound(NotFound):
    pass


class VolumeNotFound(NotFound):
    pass


class NetworkNotFound(NotFound):
    pass


class PodNotFound(NotFound):
    pass


class Conflict(PycError):
    pass


class InvalidTransition(Conflict):
    def __init__(self, container: str, current: str, action: str) -> None:
        super().__init__(f"cannot {action} container {container}: container state is {current}")
        self.current = current
        self.action = action


class InvalidReference(PycError):
    pass


class RegistryError(PycError):
    pass


class AuthError(RegistryError):
    pass


class RegistryNotFound(RegistryError):
    pass


class IntegrityError(PycError):
    pass


class UnsafeArchive(PycError):
    pass


class HostError(PycError):
    pass


class LockTimeout(PycError):
    pass


class ContainerRuntimeError(PycError):
    pass


class BuildError(PycError):
    pass


class ComposeError(PycError):
    """A compose project that cannot be loaded: Docker Compose exits 1."""

    exit_code = 1


class CannotInvoke(PycError):
    exit_code = CANNOT_INVOKE


class CommandNotFound(PycError):
    exit_code = NOT_FOUND


class ExitStatus(Exception):  # noqa: N818 - not an error, a result
    """Leave with `status`; whatever there was to say has been said (one of several
    containers of `pyc rm a b` failed: 1, as Docker)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class ContainerExit(ExitStatus):
    """The container ran and exited with `status`; the CLI exits with it."""
