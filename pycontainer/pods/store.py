"""PodStore: one directory per pod under the data dir, a name index, a lock per pod.

    <data>/pods/<id>/config.json    PodConfig
                    /state.json     PodState, replaced atomically under the lock
                    /lock           flock: every change of the pod holds it
                    /userdata/      hostname, hosts, resolv.conf, shm/ (the shared /dev/shm)
    <data>/pods/names/<name>        a symlink to the id (symlink(2): the atomic "create if
                                    absent" that makes names unique, as for containers)
    <data>/pods/.new-<id>/          a new pod's tree until its records exist
    <runtime>/pods/<id>/            volatile: slirp4netns's socket and log
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from pathlib import Path

from pycontainer.errors import Conflict, IntegrityError, PodNotFound, UsageError
from pycontainer.linux.locks import FileLock
from pycontainer.linux.recordindex import NAMES, RecordIndex
from pycontainer.linux.replace import write_replace
from pycontainer.paths import Paths
from pycontainer.pods.model import Pod, PodConfig, PodState


def _valid_name(name: str) -> bool:
    # Docker's (and Podman's) [a-zA-Z0-9][a-zA-Z0-9_.-]*, without importing re
    ok = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
    return bool(name) and name[0] not in "_.-" and set(name) <= ok and len(name) <= 200


class PodStore(RecordIndex):
    def __init__(self, paths: Paths) -> None:
        self.root = paths.data / "pods"
        self.run_root = paths.runtime / "pods"

    def dir(self, pid: str) -> Path:
        return self.root / pid

    def run_dir(self, pid: str) -> Path:
        return self.run_root / pid

    def userdata(self, pid: str) -> Path:
        return self.root / pid / "userdata"

    def ensure(self) -> None:
        (self.root / NAMES).mkdir(mode=0o700, parents=True, exist_ok=True)

    # -- names ----------------------------------------------------------------------
    def reserve_name(self, name: str, pod_id: str) -> None:
        if not _valid_name(name):
            raise UsageError(f"invalid pod name {name!r}: only [a-zA-Z0-9][a-zA-Z0-9_.-] "
                             "are allowed")
        link = self.root / NAMES / name
        try:
            os.symlink(pod_id, link)
            return
        except FileExistsError:
            pass
        with FileLock(self.root / NAMES / ".lock"):  # one reclaimer at a time
            other = self._read_name(name)
            if other is None:
                os.symlink(pod_id, link)
                return
            if not self._in_use(other):
                # a killed create's or rm's name: neither its pod nor a live create has it
                shutil.rmtree(self.root / f".new-{other}", ignore_errors=True)
                os.unlink(link)
                os.symlink(pod_id, link)
                return
        raise Conflict(f"{name}: the pod name is already in use by {other[:12]}. "
                       "You have to remove that pod to be able to reuse that name")

    def _in_use(self, pod_id: str) -> bool:
        if (self.root / pod_id).exists():
            return True
        try:
            fd = os.open(self.root / f".new-{pod_id}" / "lock", os.O_RDWR | os.O_CLOEXEC)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True  # its create is under way
        finally:
            os.close(fd)
        return (self.root / pod_id).exists()  # renamed into place meanwhile

    def resolve(self, ref: str) -> str:
        """Full id for an id, an unambiguous id prefix, or a name."""
        ref = ref.strip()
        found = self.candidates(ref, ref)
        if len(found) == 1:
            return found[0]
        if found:
            raise Conflict(f"more than one result for pod ID {ref}")
        raise PodNotFound(f"no pod with name or ID {ref} found: no such pod")

    def exists(self, ref: str) -> bool:
        try:
            self.resolve(ref)
        except PodNotFound:
            return False
        return True

    # -- records ----------------------------------------------------------------------
    def lock(self, pod_id: str, timeout: float = 60) -> FileLock:
        return FileLock(self.root / pod_id / "lock", timeout=timeout)

    def begin(self, pod_id: str) -> FileLock:
        """A new pod's tree under a temp name, with its lock held (returned) until `create`
        renames it into place: a name pointing at it is taken while the lock is held."""
        tmp = self.root / f".new-{pod_id}"
        tmp.mkdir(mode=0o700)
        (tmp / "userdata").mkdir(mode=0o700)
        lock = FileLock(tmp / "lock")
        lock.acquire()
        return lock

    def abort(self, pod_id: str, lock: FileLock) -> None:
        shutil.rmtree(self.root / f".new-{pod_id}", ignore_errors=True)
        lock.release()

    def create(self, config: PodConfig, state: PodState) -> None:
        """Write the records into the tree `begin` made and rename it into place: a pod is
        there whole or not at all. The name must be reserved first."""
        tmp = self.root / f".new-{config.id}"
        try:
            write_replace(tmp / "state.json", json.dumps(state.to_dict()).encode())
            write_replace(tmp / "config.json", json.dumps(config.to_dict()).encode())
            os.rename(tmp, self.dir(config.id))
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def load(self, pod_id: str) -> Pod:
        return Pod(PodConfig.from_dict(self._read(pod_id, "config.json")),
                   PodState.from_dict(self._read(pod_id, "state.json")))

    def _read(self, pod_id: str, name: str) -> dict[str, object]:
        path = self.dir(pod_id) / name
        try:
            with open(path, "rb") as f:
                data = json.loads(f.read())
        except FileNotFoundError:
            raise PodNotFound(f"no pod with name or ID {pod_id} found: no such pod") from None
        except (OSError, ValueError) as exc:
            raise IntegrityError(f"pod {pod_id[:12]}: corrupt record {path} ({exc})") from None
        if not isinstance(data, dict):
            raise IntegrityError(f"pod {pod_id[:12]}: corrupt record {path}")
        return data

    def save(self, pod_id: str, state: PodState) -> None:
        write_replace(self.dir(pod_id) / "state.json", json.dumps(state.to_dict()).encode())

    def delete(self, pod: Pod) -> None:
        """Remove the records (the caller holds the lock): the directory is renamed away
        first, so the pod disappears at once for resolve and ps."""
        trash = self.root / f".rm-{pod.id}"
        os.rename(self.dir(pod.id), trash)
        self.release_name(pod.name, pod.id)
        shutil.rmtree(trash, ignore_errors=True)
        shutil.rmtree(self.run_dir(pod.id), ignore_errors=True)
