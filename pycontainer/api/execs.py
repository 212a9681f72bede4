"""Exec endpoints: create an instance, start it on a hijacked connection, resize, inspect.

The stream after the 101: raw bytes with a terminal, else Docker's 8-byte frames (stdout 1,
stderr 2). The client's half-close is the command's stdin EOF; the exit code is in the
instance's record before the connection closes (docker-py reads it right after).
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
import time
from typing import TYPE_CHECKING

from pycontainer.api.routes import route
from pycontainer.api.wire import (
    JSON,
    STDERR,
    STDOUT,
    ApiError,
    Empty,
    Hijack,
    Request,
    Response,
    frame,
)
from pycontainer.errors import PycError
from pycontainer.ops import exec as ops_exec
from pycontainer.ops import execs

if TYPE_CHECKING:
    from pycontainer.paths import Paths

#: after the 101 and before the first byte of output: docker-py reads the upgraded socket
#: past http.client's buffer, and loses a frame that came in the same read as the headers
GRACE = 0.05

#: the pty masters of execs running in this service (for /exec/{id}/resize)
_masters: dict[str, int] = {}


@route("POST", r"/containers/(?P<id>[^/]+)/exec")
def create(request: Request) -> Response:
    body = request.json_object()
    cmd = body.get("Cmd")
    if isinstance(cmd, str):
        cmd = [cmd]
    if not cmd or not all(isinstance(a, str) for a in cmd):
        raise ApiError(400, "No exec command specified")
    record = execs.ExecRecord(
        id="", container_id="", command=list(cmd), tty=bool(body.get("Tty")),
        attach_stdin=bool(body.get("AttachStdin")),
        attach_stdout=bool(body.get("AttachStdout", True)),
        attach_stderr=bool(body.get("AttachStderr", True)),
        env=[e for e in body.get("Env") or [] if isinstance(e, str)],
        workdir=body.get("WorkingDir") or None, user=body.get("User") or None,
        privileged=bool(body.get("Privileged")), detach_keys=body.get("DetachKeys") or "")
    record = execs.create(request.store, request.params["id"], record)
    return JSON({"Id": record.id}, 201)


def _load(request: Request) -> execs.ExecRecord:
    return execs.load(request.store, request.params["id"])


@route("GET", r"/exec/(?P<id>[^/]+)/json")
def inspect(request: Request) -> Response:
    r = _load(request)
    return JSON({
        "ID": r.id, "ContainerID": r.container_id, "Running": r.running,
        "ExitCode": r.exit_code, "Pid": r.pid, "OpenStdin": r.attach_stdin,
        "OpenStdout": r.attach_stdout, "OpenStderr": r.attach_stderr, "CanRemove": False,
        "DetachKeys": r.detach_keys,
        "ProcessConfig": {"entrypoint": r.command[0], "arguments": r.command[1:],
                          "tty": r.tty, "user": r.user or "", "privileged": r.privileged},
    })


@route("POST", r"/exec/(?P<id>[^/]+)/resize")
def resize(request: Request) -> Response:
    r = _load(request)
    h, w = request.int_arg("h", 0) or 0, request.int_arg("w", 0) or 0
    master = _masters.get(r.id)
    if master is not None:
        ops_exec.set_size(master, h, w)
    elif not r.running:  # before the process exists: applied when it starts
        r.size = [h, w]
        execs.save(request.store, r)
    return Empty(200)


@route("POST", r"/exec/(?P<id>[^/]+)/start")
def start(request: Request) -> Response:
    body = request.json_object(required=False)
    record = _load(request)
    if record.running or record.exit_code is not None:
        raise ApiError(409, f"exec {record.id} has already been started")
    if "Tty" in body:
        record.tty = bool(body["Tty"])
    paths = request.store
    if body.get("Detach") or request.flag("detach"):
        spawned = ops_exec.spawn(paths, record.container_id, record.options(detach=True),
                                 exec_id=record.id)
        record.running, record.pid = True, spawned.mid
        execs.save(paths, record)
        return Empty(200)
    return Hijack(lambda sock, already: _attached(paths, record, sock, already),
                  "application/vnd.docker.raw-stream")


def _attached(paths: Paths, record: execs.ExecRecord, sock: socket.socket,
              already: bytes) -> None:
    time.sleep(GRACE)
    try:
        if record.tty:
            code = _with_tty(paths, record, sock, already)
        else:
            code = _with_pipes(paths, record, sock, already)
    except PycError as exc:  # the command could not start: say so in the stream
        message = f"{exc.message}\r\n".encode()
        with contextlib.suppress(OSError):
            sock.sendall(message if record.tty else frame(STDERR, message))
        code = exc.exit_code
    record.running, record.exit_code = False, code
    execs.save(paths, record)
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _with_pipes(paths: Paths, record: execs.ExecRecord, sock: socket.socket,
                already: bytes) -> int:
    in_r, in_w = os.pipe() if record.attach_stdin else (-1, -1)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    try:
        spawned = ops_exec.spawn(paths, record.container_id, record.options(),
                                 stdin=in_r, stdout=out_w, stderr=err_w, exec_id=record.id)
    finally:
        for fd in (in_r, out_w, err_w):
            if fd >= 0:
                os.close(fd)
    record.running, record.pid = True, spawned.mid
    execs.save(paths, record)
    if in_w >= 0:
        threading.Thread(target=_feed, args=(sock, already, in_w), daemon=True).start()
    streams = {out_r: STDOUT if record.attach_stdout else 0,
               err_r: STDERR if record.attach_stderr else 0}
    _drain(sock, streams)
    return spawned.wait()


def _feed(sock: socket.socket, already: bytes, fd: int) -> None:
    """The client's bytes to the command's stdin; the client's half-close closes it."""
    try:
        if already:
            os.write(fd, already)
        while data := sock.recv(65536):
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)


def _drain(sock: socket.socket, streams: dict[int, int]) -> None:
    """Frame each pipe's output until both reach EOF; a client gone stops the sending,
    never the command (its pipes close and it sees EPIPE, as under Docker)."""
    gone = False
    open_fds = list(streams)
    while open_fds:
        ready, _, _ = select.select(open_fds, [], [])
        for fd in ready:
            data = os.read(fd, 65536)
            if not data:
                open_fds.remove(fd)
                os.close(fd)
                continue
            if streams[fd] and not gone:
                try:
                    sock.sendall(frame(streams[fd], data))
                except OSError:
                    gone = True


def _with_tty(paths: Paths, record: execs.ExecRecord, sock: socket.socket,
              already: bytes) -> int:
    spawned = ops_exec.spawn(paths, record.container_id, record.options(), exec_id=record.id)
    master = spawned.master
    if record.size:
        ops_exec.set_size(master, *record.size)
    _masters[record.id] = master
    record.running, record.pid = True, spawned.mid
    execs.save(paths, record)
    try:
        if already:
            os.write(master, already)
        _pump_raw(sock, master, record.attach_stdin)
    finally:
        _masters.pop(record.id, None)
        os.close(master)
    return spawned.wait()


def _pump_raw(sock: socket.socket, master: int, stdin: bool) -> None:
    fds: list[int | socket.socket] = [master] + ([sock] if stdin else [])
    gone = False
    while True:
        ready, _, _ = select.select(fds, [], [])
        if master in ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the last process holding the terminal is gone
                data = b""
            if not data:
                return
            if gone:
                continue
            try:
                sock.sendall(data)
            except OSError:  # the client left: keep draining until the command ends
                gone, fds = True, [master]
        if sock in ready:
            data = sock.recv(65536)
            if not data:
                fds.remove(sock)
                continue
            os.write(master, data)
