"""What a killed or racing pyc command may leave behind, for crash and concurrency probes.

    procs = start_killed(pyc, "pull", ref, after=0.3)   # SIGKILLed after 0.3 s
    ... the user's next commands ...
    assert leftovers(pyc, session=procs.pid) == []

`leftovers` returns one line per problem: live processes of the killed command's session
(the unpacker children, a starter) or mentioning the state dirs, mounts below the state dirs,
temp files and dirs in the store (`*.tmp`, `.tmp-*`, `blobs/tmp/*`, `trash/*`), lock files
someone still holds, and half-written records (a container dir without its records, a name
pointing at no container, a layer dir without its metadata or the reverse, images whose
blobs or layers are missing).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from helpers.runner import Pyc, _mentions, _ppids

#: Directories whose contents are image or container files, not pyc's own records.
_OPAQUE = {"rootfs", "storage", "diff", "work", "merged", "_data", "mounts", "userdata"}


def start_killed(pyc: Pyc, *args: str, after: float = 0.0,
                 when: Callable[[], bool] | None = None,
                 group: bool = True) -> subprocess.Popen[bytes]:
    """Run `pyc args...` in a session of its own and SIGKILL it `after` seconds in, or as
    soon as `when()` is true (polled every 0.5 ms; an AssertionError if the command ends
    first): its whole process group (as a shell's `kill -9 %1` does: the command and its
    helpers, not the supervisors, which have sessions of their own), or with `group=False`
    the pyc process alone. Returns the reaped Popen (its pid is the session id)."""
    proc = subprocess.Popen(pyc.argv(*args), env=pyc.env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    time.sleep(after)
    deadline = time.monotonic() + 30
    while when is not None and not when():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise AssertionError(f"pyc {' '.join(args)} never reached the kill point")
        time.sleep(0.0005)
    with contextlib.suppress(ProcessLookupError):
        if group:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    proc.wait()
    return proc


def session_processes(sid: int) -> list[int]:
    """Live (not zombie) processes of session `sid`."""
    out = []
    for pid in _ppids():
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        if fields[0] != b"Z" and int(fields[3]) == sid:
            out.append(pid)
    return out


def state_processes(pyc: Pyc) -> list[int]:
    """Processes whose command line or environment names the runner's state dirs."""
    needles = [str(pyc.root).encode(), str(pyc.runroot).encode()]
    me = os.getpid()
    return [p for p in _ppids() if p != me and _mentions(p, needles) and not _zombie(p)]


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return True
    return stat[stat.rfind(b")") + 2:].split()[0] in (b"Z", b"X")


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def marked_processes(marker: str) -> list[int]:
    """Processes whose command line holds `marker` (a container's command, which names
    neither state dir)."""
    me = os.getpid()
    return [p for p in _ppids() if p != me and marker in _cmdline(p) and not _zombie(p)]


def processes(pyc: Pyc, session: int | None = None, marker: str = "",
              wait: float = 10) -> list[str]:
    """Leftover processes (waiting up to `wait` s for those that are on their way out, e.g.
    an unpacker removing its temp dir after its parent died)."""
    deadline = time.monotonic() + wait
    while True:
        pids = set(state_processes(pyc))
        if session is not None:
            pids |= set(session_processes(session))
        if marker:
            pids |= set(marked_processes(marker))
        if not pids or time.monotonic() > deadline:
            return [f"process {p} left: {_cmdline(p)}" for p in sorted(pids)]
        time.sleep(0.1)


def mounts(pyc: Pyc) -> list[str]:
    roots = (str(pyc.root), str(pyc.runroot))
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4]
            if any(point == r or point.startswith(r + "/") for r in roots):
                out.append(f"mount left: {point}")
    return out


def _walk(top: Path) -> Iterator[Path]:
    """Paths below `top`, not descending into image layers or container file systems."""
    try:
        entries = list(os.scandir(top))
    except OSError:
        return
    for e in entries:
        path = Path(e.path)
        yield path
        if not e.is_dir(follow_symlinks=False) or e.name in _OPAQUE:
            continue
        if top.name == "layers" and len(e.name) == 64:
            continue  # an unpacked layer: image content
        yield from _walk(path)


def temp_files(pyc: Pyc) -> list[str]:
    out = []
    for top in (pyc.root, pyc.runroot):
        for path in _walk(top):
            name = path.name
            if (name.endswith(".tmp") or name.startswith(".tmp-") or
                    path.parent.name == "tmp" and path.parent.parent.name == "blobs" or
                    path.parent.name == "trash"):
                out.append(f"temp file left: {path}")
    return out


def held_locks(pyc: Pyc) -> list[str]:
    """Lock files someone still holds (a lost process); unheld lock files are harmless."""
    out = []
    for top in (pyc.root, pyc.runroot):
        for path in _walk(top):
            if not (path.name.endswith(".lock") or path.name == "lock") or not path.is_file():
                continue
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                out.append(f"lock still held: {path}")
            finally:
                os.close(fd)
    return out


def half_records(pyc: Pyc) -> list[str]:
    out = []
    containers = pyc.root / "containers"
    if containers.is_dir():
        for e in os.scandir(containers):
            if e.name == "names":
                continue
            for rec in ("config.json", "state.json"):
                if not (Path(e.path) / rec).is_file():
                    out.append(f"container dir without {rec}: {e.path}")
        names = containers / "names"
        for e in (os.scandir(names) if names.is_dir() else ()):
            if not e.is_symlink():
                continue  # names/.lock
            target = os.readlink(e.path)
            if not (containers / target / "config.json").is_file():
                out.append(f"name {e.name} points at no container ({target})")
    run = pyc.runroot / "containers"
    for e in (os.scandir(run) if run.is_dir() else ()):
        if not (containers / e.name / "config.json").is_file():
            out.append(f"run dir of no container: {e.path}")
    return out + _image_records(pyc)


def _image_records(pyc: Pyc) -> list[str]:
    from pycontainer.images.store import ImageStore
    from pycontainer.paths import Paths

    store = ImageStore(Paths(data=pyc.root, runtime=pyc.runroot, config=pyc.root / "cfg"))
    out = store.fsck()
    layers = store.layers.root
    for e in (os.scandir(layers) if layers.is_dir() else ()):
        if len(e.name) == 64 and not os.path.exists(e.path + ".json"):
            out.append(f"layer dir without metadata: {e.path}")
        # <hex>.json and <hex>.sources.json (images.layersources) belong to the dir <hex>
        stem = e.path[:-len(".sources.json")] if e.name.endswith(".sources.json") \
            else e.path[:-len(".json")]
        if e.name.endswith(".json") and not os.path.isdir(stem):
            out.append(f"layer metadata without its dir: {e.path}")
    return out


def leftovers(pyc: Pyc, session: int | None = None) -> list[str]:
    """Every problem found (empty: clean)."""
    return (processes(pyc, session) + mounts(pyc) + temp_files(pyc) + held_locks(pyc) +
            half_records(pyc))
