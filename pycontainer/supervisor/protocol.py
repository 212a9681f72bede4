"""The supervisor <-> engine contract in one place: the config it is started with, the files
it writes (pid file, exit file, log, attach socket) and the wire formats it speaks.

Sync pipe (supervisor -> starting CLI), JSON lines:
    {"pid": N}                         the container exists and waits to be started
    {"started": ISO-TIME}              it exec'd its command
    {"error": {"stage", "errno", "msg"}}  it could not be created or could not exec

Attach socket frames, both ways: 1 byte type, 4 bytes big-endian length, payload.
"""

from __future__ import annotations

import marshal
import os
import struct

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypedDict

    class HealthSettings(TypedDict, total=False):
        """`health` ({}: no healthcheck): the helper's argv, the interval in seconds."""

        argv: list[str]
        interval: float
        start_period: float
        start_interval: float

    class EventSettings(TypedDict, total=False):
        """`events` ({}: none): the event log's path, the container id, its actor
        attributes."""

        path: str
        id: str
        attrs: dict[str, str]

# server -> client
STDOUT, STDERR, EXIT = 1, 2, 3
#: the answer to LOG_MARK: the log file's size now (ASCII digits); the output frames before
#: it are in the log up to that size, the ones after it are not (the first ones after it
#: are the partial lines the log holds back)
MARK = 4
# client -> server
STDIN, STDIN_CLOSE, RESIZE, CLIENT_REMOVES = 10, 11, 12, 13
#: ask for a MARK (the API's attach with logs=1 replays the log up to it, then goes live)
LOG_MARK = 14

_HEADER = struct.Struct(">BI")

#: set to "1" in a supervisor's environment when its starter already made it a child
#: subreaper (the attribute survives execve); the supervisor removes it at once
SUBREAPER_ENV = "_PYC_SUBREAPER_SET"


class SupervisorConfig:
    """What a supervisor is started with (a plain class: the supervisor avoids importing
    dataclasses and typing, which cost it megabytes of resident memory)."""

    FIELDS: dict[str, object] = {
        "container_id": "",
        #: runtime.launch.LaunchConfig as a dict
        "launch": None,
        #: volatile per-container dir: pid file, exit file, attach socket
        "run_dir": "",
        "log_path": "",
        "log_driver": "json-file",  # or k8s-file, none
        #: rotation and attrs (ops.logopts.supervisor_settings): max_size, max_file,
        #: compress, attrs (a JSON object's text)
        "log_opts": None,
        "tty": False,
        "stdin": False,
        #: hold the container before exec until the first attach client connects
        "wait_attach": False,
        #: argv run after the container exits and the exit file is written (Podman's exit
        #: command): `pyc container cleanup --rm ID`
        "exit_command": None,
        "auto_remove": False,
        #: a file that exists while the container record does (for --rm bookkeeping)
        "record_path": "",
        #: an fd to read one "go" byte from before the container may exec (the CLI sets up
        #: the container's network meanwhile); EOF instead fails the start. -1: no wait
        "go_fd": -1,
        #: an fd held open for the supervisor's whole life (slirp4netns's exit pipe: it
        #: ends with the supervisor, even a SIGKILLed one). -1: none
        "hold_fd": -1,
        #: cgroup.procs files the container's pid is written to before it may exec (the
        #: cgroup limits hook: ops.limits fills it at start)
        "cgroup_procs": None,
        #: healthcheck (ops.health.supervisor_settings): {"argv": the `pyc healthcheck run
        #: ID` helper, "interval": seconds}; the supervisor spawns it every interval, one at
        #: a time. {}: none
        "health": None,
        #: the event log (ops.events.supervisor_settings): {"path", "id", "attrs": the
        #: container's actor attributes}; the supervisor appends `die` (and `oom`). {}: none
        "events": None,
    }

    def __init__(self, **values: object) -> None:
        unknown = set(values) - set(self.FIELDS)
        if unknown:
            raise TypeError(f"unknown supervisor settings: {sorted(unknown)}")
        for key, default in self.FIELDS.items():
            value = values.get(key, default)
            if value is None and key in ("launch", "exit_command", "cgroup_procs", "log_opts",
                                         "health", "events"):
                value = {} if key in ("launch", "log_opts", "health", "events") else []
            setattr(self, key, value)

    def to_dict(self) -> dict[str, object]:
        return {key: getattr(self, key) for key in self.FIELDS}

    def serialize(self) -> bytes:
        """marshal, not JSON: the supervisor then needs no json (and re) module."""
        return marshal.dumps(self.to_dict())

    @classmethod
    def load(cls, path: str) -> SupervisorConfig:
        with open(path, "rb") as f:
            return cls(**marshal.loads(f.read()))

    container_id: str
    launch: dict[str, Any]
    run_dir: str
    log_path: str
    log_driver: str
    log_opts: dict[str, Any]
    tty: bool
    stdin: bool
    wait_attach: bool
    exit_command: list[str]
    auto_remove: bool
    record_path: str
    go_fd: int
    hold_fd: int
    cgroup_procs: list[str]
    health: HealthSettings
    events: EventSettings


def pid_file(run_dir: str) -> str:
    return os.path.join(run_dir, "pid.json")


def exit_file(run_dir: str) -> str:
    return os.path.join(run_dir, "exit.json")


def cleanup_log(run_dir: str) -> str:
    """The exit command's stderr (`pyc container cleanup`: restarts, --rm removal)."""
    return os.path.join(run_dir, "cleanup.log")


def attach_path(run_dir: str) -> str:
    return os.path.join(run_dir, "attach")


def config_file(run_dir: str) -> str:
    return os.path.join(run_dir, "supervisor.json")


def encode(kind: int, payload: bytes = b"") -> bytes:
    return _HEADER.pack(kind, len(payload)) + payload


class FrameReader:
    """Incremental frame decoder for a stream socket."""

    def __init__(self) -> None:
        self.buf = b""

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        self.buf += data
        frames = []
        while len(self.buf) >= _HEADER.size:
            kind, size = _HEADER.unpack_from(self.buf)
            end = _HEADER.size + size
            if len(self.buf) < end:
                break
            frames.append((kind, self.buf[_HEADER.size:end]))
            self.buf = self.buf[end:]
        return frames


def socket_address(path: str) -> tuple[str, int | None]:
    """A unix socket path short enough for sun_path (108 bytes): long paths go through
    /proc/self/fd/N of their directory. Returns (address, dir fd to close or None)."""
    if len(path.encode()) < 100:
        return path, None
    fd = os.open(os.path.dirname(path), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    return f"/proc/self/fd/{fd}/{os.path.basename(path)}", fd


_ESCAPES = {i: f"\\u{i:04x}" for i in range(32)}
_ESCAPES.update({0x22: '\\"', 0x5C: "\\\\", 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t", 0x08: "\\b",
                 0x0C: "\\f"})


def json_string(s: str) -> str:
    """`json.dumps(s, ensure_ascii=False)` (what _json.encode_basestring gives), in Python:
    loading _json costs the long-lived supervisor 0.25 MB. Printable text without quotes or
    backslashes (a log line, maybe ending in a newline) is the fast path, as fast as _json's."""
    body = s[:-1] if s[-1:] == "\n" else s
    if body.isprintable() and '"' not in body and "\\" not in body:
        return f'"{body}\\n"' if len(body) < len(s) else f'"{body}"'
    return '"' + s.translate(_ESCAPES) + '"'


def dumps(obj: object) -> str:
    """A small JSON encoder for the records the supervisor writes (dicts, lists, strings,
    numbers, booleans, None): the json package would import re and cost it memory."""
    if isinstance(obj, str):
        return json_string(obj)
    if obj is None or isinstance(obj, bool):
        return {None: "null", True: "true", False: "false"}[obj]
    if isinstance(obj, int | float):
        return repr(obj)
    if isinstance(obj, dict):
        return "{" + ",".join(f"{dumps(str(k))}:{dumps(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, list | tuple):
        return "[" + ",".join(dumps(v) for v in obj) + "]"
    raise TypeError(f"cannot encode {type(obj).__name__}")




class suppress:  # noqa: N801 - contextlib.suppress, without importing contextlib
    def __init__(self, *exceptions: type[BaseException]) -> None:
        self.exceptions = exceptions

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> bool:
        return kind is not None and issubclass(kind, self.exceptions)
