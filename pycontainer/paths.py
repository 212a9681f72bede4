"""Where pyc keeps its state.

- data (durable: images, layers, container records, volumes): platformdirs' user data dir,
  `~/.local/share/pycontainer`; `/var/lib/pycontainer` for real root.
- config: `~/.config/pycontainer` (`/etc/pycontainer` for root).
- runtime (volatile: running state, sockets, pid files): `$XDG_RUNTIME_DIR/pycontainer`, or
  `/tmp/pycontainer-<uid>` where XDG_RUNTIME_DIR is unset or unusable (after `su`, on hosts
  without /run/user). The fallback is created 0700 and refused when it is a symlink or belongs
  to someone else, because another user could otherwise plant sockets or state for us.

`--root` / `--runroot` (or PYC_ROOT / PYC_RUNROOT) override the data and runtime dirs.

The data dir is private (0700), whatever its path, as Podman's graphroot is: it holds image
layers with setuid files the user owns, container configs with their environment, logs and
volumes. `resolve` creates it so, and tightens an older group/other-accessible one with a notice.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from pycontainer.errors import HostError

APP = "pycontainer"


@dataclass(frozen=True)
class Paths:
    """The store's directories. Immutable: the derived ones are joined once (cached_property
    writes the instance dict, which a frozen dataclass allows), not per use."""

    data: Path
    runtime: Path
    config: Path
    runtime_reason: str = ""

    @cached_property
    def images(self) -> Path:
        return self.data / "images"

    @cached_property
    def containers(self) -> Path:
        return self.data / "containers"

    @cached_property
    def volumes(self) -> Path:
        return self.data / "volumes"

    @cached_property
    def build_cache(self) -> Path:
        return self.data / "build-cache"

    @cached_property
    def run_containers(self) -> Path:
        return self.runtime / "containers"


def resolve(root: str | None = None, runroot: str | None = None) -> Paths:
    """The paths for this invocation; `root`/`runroot` come from the global CLI options."""
    root = root or os.environ.get("PYC_ROOT") or None
    runroot = runroot or os.environ.get("PYC_RUNROOT") or None
    uid = os.getuid()
    config = _config_dir(uid)
    data = Path(root).absolute() if root else _data_dir(uid)
    private_store(data)
    if runroot:
        run_dir = Path(runroot).absolute()
        reason = "set by --runroot/PYC_RUNROOT"
    else:
        run_dir, reason = runtime_dir(uid)
    return Paths(data=data, runtime=run_dir, config=config, runtime_reason=reason)


def private_store(data: Path) -> None:
    """Make the store root 0700: one stat on every command. Only the root's mode matters, as
    a root nobody else may traverse hides everything below it. Failures are left to the code
    that uses the store, which reports them in context."""
    try:
        st = os.stat(data)
    except FileNotFoundError:
        with contextlib.suppress(OSError):
            data.parent.mkdir(parents=True, exist_ok=True)
            os.mkdir(data, 0o700)
        return
    except OSError:
        return
    if stat.S_ISDIR(st.st_mode) and st.st_mode & 0o077:
        make_private(data, 0o700, "store")


def make_private(path: Path, mode: int, what: str) -> bool:
    """chmod `path` to `mode`, saying so on stderr unless it is an empty directory (nothing
    could have been read: `mkdir dir && pyc --root dir` is no news). False if chmod failed."""
    try:
        old = stat.S_IMODE(os.stat(path).st_mode)
        exposed = not path.is_dir() or _has_entries(path)
        os.chmod(path, mode)
    except OSError:
        return False
    if exposed:
        sys.stderr.write(f"NOTICE: {what} {path} was accessible to other users (mode "
                         f"{old:04o}); made it private (mode {mode:04o})\n")
    return True


def _has_entries(path: Path) -> bool:
    with os.scandir(path) as entries:
        return next(entries, None) is not None


def _data_dir(uid: int) -> Path:
    if uid == 0:
        return Path("/var/lib") / APP
    xdg = os.environ.get("XDG_DATA_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / APP
    if sys.platform.startswith("linux"):  # platformdirs' answer, without importing it (~1.5 ms)
        return Path(os.path.expanduser("~/.local/share")) / APP
    import platformdirs  # lazily: it is only needed when no override is given

    return Path(platformdirs.user_data_dir(APP, appauthor=False))


def config_dir() -> Path:
    """This user's config dir (containers.conf, registries.conf)."""
    return _config_dir(os.getuid())


def _config_dir(uid: int) -> Path:
    if uid == 0:
        return Path("/etc") / APP
    xdg = os.environ.get("XDG_CONFIG_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / APP
    if sys.platform.startswith("linux"):
        return Path(os.path.expanduser("~/.config")) / APP
    import platformdirs

    return Path(platformdirs.user_config_dir(APP, appauthor=False))


def runtime_dir(uid: int) -> tuple[Path, str]:
    """The runtime dir and why it was chosen (shown by `pyc info`)."""
    if uid == 0:
        return Path("/run") / APP, "root"
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg:
        problem = _unusable_runtime_base(Path(xdg), uid)
        if problem is None:
            return Path(xdg) / APP, "XDG_RUNTIME_DIR"
        reason = f"XDG_RUNTIME_DIR {xdg} {problem}; using the /tmp fallback"
    else:
        reason = "XDG_RUNTIME_DIR is unset; using the /tmp fallback"
    return Path(f"/tmp/{APP}-{uid}"), reason


def _unusable_runtime_base(path: Path, uid: int) -> str | None:
    try:
        st = os.stat(path)
    except OSError:
        return "does not exist"
    if st.st_uid != uid:
        return "belongs to another user"
    if not os.access(path, os.W_OK | os.X_OK):
        return "is not writable"
    return None


def ensure_private_dir(path: Path) -> Path:
    """Create `path` 0700 for this user, refusing a symlink or someone else's directory."""
    uid = os.getuid()
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        return ensure_private_dir(path)
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        raise HostError(f"refusing runtime directory {path}: it is a symbolic link")
    if not stat.S_ISDIR(st.st_mode):
        raise HostError(f"refusing runtime directory {path}: it is not a directory")
    if st.st_uid != uid:
        raise HostError(
            f"refusing runtime directory {path}: it belongs to uid {st.st_uid}, not {uid}",
            hint="remove it, or set XDG_RUNTIME_DIR or --runroot to a directory you own",
        )
    if stat.S_IMODE(st.st_mode) & 0o077:
        os.chmod(path, 0o700)
    return path


def ensure_runtime(paths: Paths) -> Path:
    """Create the runtime dir (and, for the /tmp fallback, check it is ours)."""
    return ensure_private_dir(paths.runtime)
