"""ContainerStore: one directory per container under the data dir, a name index, locks.

    <data>/containers/<id>/config.json   ContainerConfig, written once
                          /state.json    ContainerState, replaced atomically under the lock
                          /lock          flock: every operation on the container holds it
                          /bundle/       config.json + rootfs (the mount point)
                          /storage/      the writable layer (overlay diff+work, or vfs copy)
                          /userdata/     hostname, hosts, resolv.conf, the log
    <data>/containers/names/<name>       a symlink to the id: os.symlink is the atomic
                                         "create if absent" that makes names unique
    <data>/containers/names/.lock        serialises reclaiming the name of a killed create
    <data>/containers/.new-<id>/         a new container's tree until its lock is held
    <runtime>/containers/<id>/           volatile: supervisor config, pid.json, exit.json,
                                         attach socket (gone after a reboot)
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pycontainer.containers.lifecycle import ACTIVE, Status
from pycontainer.containers.model import Container, ContainerConfig, ContainerState
from pycontainer.errors import (
    Conflict,
    ContainerNotFound,
    IntegrityError,
    LockTimeout,
    PycError,
    UsageError,
)
from pycontainer.linux import proc
from pycontainer.linux.locks import FileLock
from pycontainer.linux.recordindex import NAMES, RecordIndex
from pycontainer.linux.replace import write_replace
from pycontainer.paths import Paths

if TYPE_CHECKING:
    from pycontainer.jsontypes import JSON
    from pycontainer.oci.runtime import Spec


_R = TypeVar("_R")


class BrokenRecord(IntegrityError):
    """A container whose config.json or state.json does not parse (a crash or a full disk
    cut it short): commands that need it fail naming the file; `ps -a` lists it as dead
    and `rm -f` removes it."""

    def __init__(self, cid: str, path: Path, reason: str) -> None:
        super().__init__(f"container {cid[:12]}: corrupt record {path} ({reason}); "
                         "`pyc rm -f` removes the container")
        self.cid = cid
        self.path = path


class ContainerStore(RecordIndex):
    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self.root = paths.containers
        self.run_root = paths.run_containers

    # -- layout -----------------------------------------------------------------------
    def dir(self, cid: str) -> Path:
        return self.root / cid

    def run_dir(self, cid: str) -> Path:
        return self.run_root / cid

    def bundle(self, cid: str) -> Path:
        return self.root / cid / "bundle"

    def userdata(self, cid: str) -> Path:
        return self.root / cid / "userdata"

    def log_path(self, cid: str) -> Path:
        return self.userdata(cid) / "ctr.log"

    def ensure(self) -> None:
        (self.root / NAMES).mkdir(parents=True, exist_ok=True)

    # -- names ----------------------------------------------------------------------
    def reserve_name(self, name: str, cid: str) -> None:
        from pycontainer.containers.names import MAX_LENGTH, VALID

        if not VALID.match(name):
            raise UsageError(f'Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-]'
                             " are allowed")
        if len(name) > MAX_LENGTH:
            raise UsageError(f"Invalid container name ({name}): names are at most {MAX_LENGTH}"
                             " characters")
        link = self.root / NAMES / name
        for _ in range(3):
            try:
                os.symlink(cid, link)
                return
            except FileExistsError:
                owner = self._read_name(name)
                if owner is not None and not self._reclaim(name, owner):
                    break
        raise Conflict(
            f'Conflict. The container name "/{name}" is already in use by container '
            f'"{self._read_name(name) or "?"}". You have to remove (or rename) that container '
            "to be able to reuse that name.")

    def _reclaim(self, name: str, owner: str) -> bool:
        """Free `name` if its owner is a `create` that was killed before the container's
        records existed (the name would be taken for good by nothing `ps` shows). A create
        in progress holds its container's lock from before it takes the name until its
        records are written (ops.create), so a lock that can be had means a dead creator.
        Serialised by `names/.lock` (no valid name starts with a dot): two reclaimers must
        not both unlink, the second one a name just taken anew. True: try again."""
        with FileLock(self.root / NAMES / ".lock", timeout=10):
            if self._read_name(name) != owner:
                return True  # changed meanwhile
            if not self._unfinished_and_dead(owner):
                return False
            self.remove_unfinished(owner)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.root / NAMES / name)
        return True

    def _unfinished_and_dead(self, cid: str) -> bool:
        d = self.dir(cid)
        if (d / "config.json").exists():
            return False
        lock = FileLock(d / "lock", timeout=0)
        try:
            lock.acquire()
        except FileNotFoundError:
            return True  # no directory at all
        except LockTimeout:
            return False  # its create is running
        lock.release()
        return not (d / "config.json").exists()

    def remove_unfinished(self, cid: str) -> None:
        """Remove the directory of a container whose create died; its writable layer may
        hold files of subordinate ids (vfs), removed inside the user namespace."""
        d = self.dir(cid)
        shutil.rmtree(d, ignore_errors=True)
        if os.path.lexists(d) and os.getuid() != 0:
            from pycontainer.linux import userns

            def child() -> int:
                shutil.rmtree(d, ignore_errors=True)
                return 0

            with contextlib.suppress(OSError, PycError):
                userns.run_in_userns(child, userns.default_mapping())

    def sweep_unfinished(self) -> list[str]:
        """Remove what killed `create`s left (a directory without records, its name);
        returns their ids. For `container prune`: `ps` and `run` do not look."""
        try:
            entries = os.listdir(self.root)
        except FileNotFoundError:
            return []
        gone = [e for e in entries if len(e) == 64 and self._unfinished_and_dead(e)]
        for cid in gone:
            self.remove_unfinished(cid)
        # a `.new-` tree is locked a moment after it is made: only old ones are dead
        old = time.time() - 60
        for e in entries:
            if e.startswith(".new-") and _older(self.root / e, old):
                shutil.rmtree(self.root / e, ignore_errors=True)
        names = self.root / NAMES
        for name in os.listdir(names) if gone and names.is_dir() else []:
            if self._read_name(name) in gone:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(names / name)
        return gone

    def resolve(self, ref: str) -> str:
        """Full id for an id, an unambiguous id prefix, or a name (with or without `/`)."""
        ref = ref.strip()
        found = self.candidates(ref, ref[1:] if ref.startswith("/") else ref)
        if len(found) == 1:
            return found[0]
        if found:
            raise Conflict(f"multiple containers match {ref!r}: be more specific")
        raise ContainerNotFound(f"No such container: {ref}")

    def exists(self, ref: str) -> bool:
        try:
            self.resolve(ref)
        except ContainerNotFound:
            return False
        return True

    # -- records ----------------------------------------------------------------------
    def lock(self, cid: str, timeout: float = 60) -> FileLock:
        return FileLock(self.root / cid / "lock", timeout=timeout)

    def make_dirs(self, cid: str, base: Path | None = None) -> Path:
        """The container's directory tree (before its records: create fills it first)."""
        d = base or self.dir(cid)
        d.mkdir(mode=0o700)
        for sub in ("bundle", "userdata"):
            (d / sub).mkdir(mode=0o700)
        (d / "bundle" / "rootfs").mkdir(mode=0o755)
        return d

    def claim_dirs(self, cid: str) -> FileLock:
        """The directory tree, appearing with its lock already held (returned): made and
        locked under a temp name, then renamed. So a container directory without records
        whose lock is free is a killed create's (see _reclaim, sweep_unfinished)."""
        tmp = self.root / f".new-{cid}"
        self.make_dirs(cid, tmp)
        lock = FileLock(tmp / "lock")
        lock.acquire()
        try:
            os.rename(tmp, self.dir(cid))
        except BaseException:
            lock.release()
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return lock

    def create(self, config: ContainerConfig, state: ContainerState) -> None:
        """Write the records; the container exists (for resolve and ps) from here on."""
        d = self.dir(config.id)
        self.save(config.id, state)
        write_replace(d / "config.json", json.dumps(config.to_dict()).encode())

    def load(self, cid: str) -> Container:
        return Container(self.load_config(cid), self._record(cid, "state.json",
                                                             ContainerState.from_dict))

    def load_config(self, cid: str) -> ContainerConfig:
        return self._record(cid, "config.json", ContainerConfig.from_dict)

    def load_state(self, cid: str) -> ContainerState:
        return self._record(cid, "state.json", ContainerState.from_dict)

    def _record(self, cid: str, name: str, build: Callable[[dict[str, Any]], _R]) -> _R:
        """One record, parsed; BrokenRecord (naming the file) when it does not parse."""
        path = self.dir(cid) / name
        try:
            # json here, not linux.fs.read_json: that module's tempfile import costs every
            # `exec` and `ps` a few milliseconds
            data = json.loads(path.read_bytes())
            if not isinstance(data, dict):
                raise TypeError("not a JSON object")
            return build(data)
        except FileNotFoundError:
            raise ContainerNotFound(f"No such container: {cid}") from None
        except (ValueError, TypeError, KeyError) as exc:  # JSONDecodeError is a ValueError
            raise BrokenRecord(cid, path, _reason(exc)) from None

    def name_of(self, cid: str) -> str:
        """The name the index gives `cid` ("" if none): for a container whose config.json,
        where its name lives, is broken."""
        try:
            names = os.listdir(self.root / NAMES)
        except OSError:
            return ""
        return next((n for n in names if self._read_name(n) == cid), "")

    def save(self, cid: str, state: ContainerState) -> None:
        write_replace(self.dir(cid) / "state.json", json.dumps(state.to_dict()).encode())

    def save_config(self, config: ContainerConfig) -> None:
        """Rewrite config.json (rename, network connect/disconnect, update)."""
        write_replace(self.dir(config.id) / "config.json", json.dumps(config.to_dict()).encode())

    def load_bundle_spec(self, cid: str) -> Spec:
        """The bundle's runtime config.json, which start-time edits go through."""
        from pycontainer.oci.runtime import Spec

        return Spec.from_json((self.bundle(cid) / "config.json").read_bytes())

    def save_bundle_spec(self, cid: str, spec: Spec, mode: int = 0o600) -> None:
        write_replace(self.bundle(cid) / "config.json", spec.to_json(), mode)

    def read_extra(self, cid: str, name: str) -> JSON:
        """A record other layers keep beside config.json (e.g. the network's
        `network.json`); {} when it is missing or unreadable."""
        data = _read(self.dir(cid) / name)
        return data if data is not None else {}

    def write_extra(self, cid: str, name: str, data: JSON) -> None:
        write_replace(self.dir(cid) / name, json.dumps(data).encode())

    def trash_dir(self, cid: str) -> Path:
        """Where a removed container's directory waits for its deletion (same file system:
        a rename; outside `containers/`, so nothing lists it)."""
        trash = self.paths.data / "trash"
        trash.mkdir(exist_ok=True)
        return trash / f"{cid}-{os.getpid()}"

    def remove_records(self, container: Container) -> None:
        self.release_name(container.name, container.id)
        shutil.rmtree(self.run_dir(container.id), ignore_errors=True)
        shutil.rmtree(self.dir(container.id), ignore_errors=True)

    # -- sync: what happened while no pyc was looking ---------------------------------------
    def sync(self, c: Container) -> bool:
        """Fold the supervisor's pid and exit files into the state (podman's
        syncContainer). Returns True when the state changed (the caller saves it)."""
        st = c.state
        if st.status not in ACTIVE:
            return False
        run = self.run_dir(c.id)
        exit_rec = _read(run / "exit.json")
        pid_rec = _read(run / "pid.json")
        changed = False
        if pid_rec and st.status == Status.CREATED:  # started while its starter was gone
            st.status = Status.RUNNING
            st.pid = _int(pid_rec["pid"])
            started = pid_rec.get("started")
            st.pid_started = started if isinstance(started, int) else None
            st.supervisor_pid = _int(pid_rec.get("supervisor", 0))
            st.started_at = str(pid_rec.get("startedAt", ""))
            changed = True
        if exit_rec is not None:
            return self._exited(st, exit_rec)
        if st.supervisor_pid and proc.alive(st.supervisor_pid):
            return changed  # still running, or exiting and about to write the exit file
        if st.pid and proc.alive(st.pid, st.pid_started):
            return changed  # supervisor gone but the container lives on (unmanaged)
        # the supervisor may have written its record and exited since the first look
        exit_rec = _read(run / "exit.json")
        if exit_rec is not None:
            return self._exited(st, exit_rec)
        st.status = Status.EXITED  # neither a supervisor nor an exit record
        st.exit_code = 255
        st.error = "the container's supervisor died"
        return True

    @staticmethod
    def _exited(st: ContainerState, exit_rec: JSON) -> bool:
        st.status = Status.EXITED
        st.exit_code = _int(exit_rec.get("exitCode", 0))
        st.oom_killed = bool(exit_rec.get("oomKilled", False)) or _oom_killed(st)
        st.finished_at = str(exit_rec.get("finishedAt", ""))
        st.error = str(exit_rec.get("error", ""))
        return True


def _int(value: object) -> int:
    """A number of a supervisor record (TypeError, a broken record, when it is none)."""
    if isinstance(value, (int, float, str)):
        return int(value)
    raise TypeError(f"not a number: {value!r}")


def _older(path: Path, than: float) -> bool:
    try:
        return path.stat().st_mtime < than
    except OSError:
        return False


def _oom_killed(st: ContainerState) -> bool:
    """Docker's OOMKilled: died of SIGKILL while its memory limit killed (issue 7)."""
    if st.exit_code != 137 or not st.cgroup:
        return False
    from pycontainer.linux.cgroup_container import ContainerCgroup

    try:
        return ContainerCgroup.from_record(st.cgroup).oom_killed()
    except (OSError, ValueError):
        return False


def _reason(exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
    return f"unexpected content: {exc}"


def _read(path: Path) -> JSON | None:
    try:
        with open(path, "rb") as f:
            data = json.loads(f.read())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


