"""Exec instances of the Engine API (`POST /containers/{id}/exec`, then `/exec/{id}/start`):
a record per instance in the runtime dir, so a service started anew still answers
`GET /exec/{id}/json` for an exec an earlier one ran."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from pycontainer.errors import NotFound
from pycontainer.ops.exec import ExecOptions
from pycontainer.paths import Paths, ensure_runtime


class ExecNotFound(NotFound):
    pass


@dataclass
class ExecRecord:
    id: str
    container_id: str
    command: list[str]
    tty: bool = False
    attach_stdin: bool = False
    attach_stdout: bool = True
    attach_stderr: bool = True
    env: list[str] = field(default_factory=list)
    workdir: str | None = None
    user: str | None = None
    privileged: bool = False
    detach_keys: str = ""
    running: bool = False
    exit_code: int | None = None
    pid: int = 0
    #: the terminal size asked for before the process existed (`/exec/{id}/resize`)
    size: list[int] = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ExecRecord:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})

    def options(self, detach: bool = False) -> ExecOptions:
        return ExecOptions(command=list(self.command), interactive=self.attach_stdin,
                           tty=self.tty, detach=detach, env=list(self.env),
                           workdir=self.workdir, user=self.user, privileged=self.privileged)


def _dir(paths: Paths) -> Path:
    return ensure_runtime(paths) / "execs"


def create(paths: Paths, ref: str, record: ExecRecord) -> ExecRecord:
    from pycontainer.containers.store import ContainerStore
    from pycontainer.ops import events

    store = ContainerStore(paths)
    record.container_id = store.resolve(ref)
    c = store.load(record.container_id)
    if not c.state.running:
        from pycontainer.errors import Conflict

        raise Conflict(f"Container {record.container_id} is not running")
    record.id = events.exec_event(paths, c, "exec_create", record.command)
    save(paths, record)
    return record


def save(paths: Paths, record: ExecRecord) -> None:
    from pycontainer.linux.replace import write_replace

    directory = _dir(paths)
    directory.mkdir(mode=0o700, exist_ok=True)
    write_replace(directory / f"{record.id}.json", json.dumps(asdict(record)).encode(), 0o600)


def load(paths: Paths, exec_id: str) -> ExecRecord:
    path = _dir(paths) / f"{os.path.basename(exec_id)}.json"
    try:
        return ExecRecord.from_dict(json.loads(path.read_bytes()))
    except (OSError, ValueError):
        raise ExecNotFound(f"No such exec instance: {exec_id}") from None


def remove_for(paths: Paths, container_id: str) -> None:
    """Forget the exec instances of a removed container."""
    directory = _dir(paths)
    if not directory.is_dir():
        return
    for entry in directory.glob("*.json"):
        try:
            if json.loads(entry.read_bytes()).get("container_id") == container_id:
                entry.unlink()
        except (OSError, ValueError):
            continue
