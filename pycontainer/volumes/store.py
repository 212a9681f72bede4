"""Named volumes: directories under the data dir that outlive containers (`docker volume`).

Layout, like Docker's /var/lib/docker/volumes:

    <paths.volumes>/.lock              flock: one writer at a time for the whole store
    <paths.volumes>/NAME/volume.json   the record, written atomically; its presence is the commit
    <paths.volumes>/NAME/_data         the content mounted into containers

A NAME directory without volume.json is a create that crashed half-way: invisible to readers,
completed by the next create of that name. The store knows nothing about containers: whether a
volume is in use comes from the caller (the ops layer, which has the container records).

Copy-up (Docker fills a new volume with the image's content at the mount point) needs the
container's root file system and user namespace, so the runtime does it; see `needs_copy_up`.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pycontainer.errors import Conflict, PycError, UsageError, VolumeNotFound
from pycontainer.formats.filters import Filters, boolean, match_label, validate
from pycontainer.formats.timestamps import rfc3339
from pycontainer.linux import fs, userns
from pycontainer.linux.locks import FileLock

if TYPE_CHECKING:
    from pycontainer.jsontypes import JSON

DRIVER = "local"
ANONYMOUS_LABEL = "com.docker.volume.anonymous"  # Docker >= 23 marks anonymous volumes so
#: a name is a directory name, and `.trash-<name>-<8 hex>` while it is removed: pyc refuses
#: names longer than MAX_NAME (Docker sets no limit) rather than failing with ENAMETOOLONG
MAX_NAME = 200
_NAME = re.compile(rf"^[a-zA-Z0-9][a-zA-Z0-9_.-]{{1,{MAX_NAME - 1}}}$")
#: the local driver's options (`--opt type=tmpfs --opt device=tmpfs --opt o=size=64m`)
LOCAL_OPTIONS = frozenset({"type", "device", "o"})
FILTERS = frozenset({"dangling", "name", "label", "driver"})
#: Docker's filter form: {"label": ["a=1", "b"], "dangling": ["true"]}


@dataclass(frozen=True)
class Volume:
    name: str
    path: Path  # <volumes>/NAME; the content is in `mountpoint`
    created_at: str
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    anonymous: bool = False
    #: the image's content was copied in (or the volume was mounted once without any)
    copied_up: bool = False

    @property
    def mountpoint(self) -> Path:
        return self.path / "_data"


@dataclass(frozen=True)
class PruneReport:
    removed: list[str]
    reclaimed: int  # bytes


class VolumeStore:
    def __init__(self, root: Path, mapping: userns.IdMapping | None = None) -> None:
        self.root = Path(root)
        #: for removing content that a container's subordinate ids own (lazily the default)
        self._mapping = mapping

    def _lock(self) -> FileLock:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        return FileLock(self.root / ".lock")

    # --- records ---------------------------------------------------------------------------

    def create(self, name: str | None = None, labels: dict[str, str] | None = None,
               options: dict[str, str] | None = None, driver: str = DRIVER) -> Volume:
        """Create a volume, or return the existing one of that name (as Docker does).

        Without a name the volume is anonymous: a random 64-hex name and Docker's label.
        """
        _check_driver(driver)
        _check_options(options or {})
        labels = dict(labels or {})
        if name is None:
            name = os.urandom(32).hex()  # secrets.token_hex, without importing hmac
            labels[ANONYMOUS_LABEL] = ""
        else:
            check_name(name)
        with self._lock():
            existing = self._load(name)
            if existing is not None:
                return existing
            vol = Volume(name, self.root / name, _now(), labels, dict(options or {}),
                         anonymous=ANONYMOUS_LABEL in labels)
            vol.path.mkdir(mode=0o700, exist_ok=True)
            vol.mountpoint.mkdir(mode=0o755, exist_ok=True)
            self._save(vol)
            return vol

    def get(self, name: str) -> Volume:
        vol = self._load(name) if _NAME.match(name) else None
        if vol is None:
            raise VolumeNotFound(f"No such volume: {name}")
        return vol

    def exists(self, name: str) -> bool:
        return bool(_NAME.match(name)) and self._load(name) is not None

    def list(self, filters: Filters | None = None,
             in_use: Callable[[str], bool] | None = None) -> list[Volume]:
        """Volumes matching Docker's `volume ls --filter`: values of one key are alternatives,
        different keys must all match. `in_use(name)` answers `dangling=`."""
        check_filters(filters or {})
        vols = [v for v in self._all() if _matches(v, filters or {}, in_use or _unused)]
        return sorted(vols, key=lambda v: v.name)

    def _all(self) -> Iterable[Volume]:
        try:
            names = sorted(os.listdir(self.root))
        except FileNotFoundError:
            return []
        return [v for v in (self._load(n) for n in names if _NAME.match(n)) if v is not None]

    def _load(self, name: str) -> Volume | None:
        try:
            raw = fs.read_json(self.root / name / "volume.json")
        except (FileNotFoundError, NotADirectoryError):
            return None
        return Volume(name=name, path=self.root / name, created_at=raw.get("CreatedAt", ""),
                      labels=raw.get("Labels") or {}, options=raw.get("Options") or {},
                      anonymous=bool(raw.get("Anonymous")),
                      copied_up=bool(raw.get("CopiedUp")))

    def _save(self, vol: Volume) -> None:
        record = {**inspect_json(vol), "Anonymous": vol.anonymous, "CopiedUp": vol.copied_up}
        fs.atomic_write_json(vol.path / "volume.json", record, mode=0o600)

    # --- removal ---------------------------------------------------------------------------

    def remove(self, name: str, in_use: bool = False, users: Sequence[str] = (),
               force: bool = False) -> None:
        """Remove a volume and its content. Refused while in use (`users`: the containers, for
        the message); `force` only ignores a missing volume, as `docker volume rm -f` does."""
        with self._lock():
            vol = self._load(name) if _NAME.match(name) else None
            if vol is None:
                if force:
                    return
                raise VolumeNotFound(f"No such volume: {name}")
            if in_use or users:
                ids = f" - [{', '.join(users)}]" if users else ""
                raise Conflict(f"remove {name}: volume is in use{ids}")
            self._delete(vol)

    def prune(self, in_use_names: Iterable[str], all_volumes: bool = False,
              filters: Filters | None = None) -> PruneReport:
        """Remove unused volumes: anonymous ones only unless `all_volumes` (Docker >= 23's
        `volume prune` vs `volume prune --all`)."""
        busy = set(in_use_names)
        removed, reclaimed = [], 0
        with self._lock():
            for vol in self.list(filters, in_use=busy.__contains__):
                if vol.name in busy or not (all_volumes or vol.anonymous):
                    continue
                reclaimed += _disk_usage(vol.mountpoint)
                self._delete(vol)
                removed.append(vol.name)
        return PruneReport(removed, reclaimed)

    def _delete(self, vol: Volume) -> None:
        # Renaming first makes the volume vanish at once for readers, even if deleting the
        # content takes long or fails half-way; the trash is retried by later deletes.
        trash = self.root / f".trash-{vol.name}-{os.urandom(4).hex()}"
        os.rename(vol.path, trash)
        fs.fsync_dir(self.root)
        for leftover in self.root.glob(".trash-*"):
            self._remove_tree(leftover)

    def _remove_tree(self, path: Path) -> None:
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists() or os.getuid() == 0:
            return

        # a container's non-root users (subordinate ids) own parts of it: delete as their root
        def child() -> int:
            shutil.rmtree(path, ignore_errors=True)
            return 0

        mapping = self._mapping or userns.default_mapping()
        with contextlib.suppress(OSError, PycError):  # what is left is removed below
            userns.run_in_userns(child, mapping)
        shutil.rmtree(path, ignore_errors=True)

    # --- copy-up ---------------------------------------------------------------------------

    def needs_copy_up(self, vol: Volume) -> bool:
        """True until the volume's first mount: the runtime then copies the image's content at
        the mount point into `vol.mountpoint` (only if the volume is still empty).

        How: in the container's mount and user namespaces, after the root file system is
        mounted and before the volume is bind-mounted over TARGET, if `<rootfs>/TARGET` is a
        non-empty directory, copy it into the volume's `_data` preserving owners (lchown works
        in the namespace: the ids are mapped), modes, times, symlinks and xattrs, and give
        `_data` TARGET's owner and mode. Then the caller calls `mark_copied(vol)` on the host
        side, also when TARGET was empty or missing, so a later mount never copies again.
        """
        if vol.copied_up:
            return False
        try:
            return not any(os.scandir(vol.mountpoint))
        except FileNotFoundError:
            return False

    def mark_copied(self, vol: Volume) -> Volume:
        with self._lock():
            current = self._load(vol.name)
            if current is None:
                raise VolumeNotFound(f"No such volume: {vol.name}")
            done = replace(current, copied_up=True)
            self._save(done)
            return done


def inspect_json(vol: Volume) -> JSON:
    """The object `docker volume inspect` prints."""
    return {
        "CreatedAt": vol.created_at,
        "Driver": DRIVER,
        "Labels": dict(vol.labels) or None,  # Docker prints null, not {}, when there are none
        "Mountpoint": str(vol.mountpoint),
        "Name": vol.name,
        "Options": dict(vol.options) or None,
        "Scope": "local",
    }


def check_name(name: str) -> None:
    if len(name) < 2 and _NAME.match(name + "x"):
        raise UsageError(f"create {name}: volume name is too short, names should be at least "
                         "two alphanumeric characters")
    if len(name) > MAX_NAME:
        raise UsageError(f"create {name}: volume name is too long, names are at most "
                         f"{MAX_NAME} characters")
    if not _NAME.match(name):
        raise UsageError(f'create {name}: "{name}" includes invalid characters for a local '
                         'volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you '
                         "intended to pass a host directory, use absolute path")


def _check_driver(driver: str) -> None:
    if driver != DRIVER:
        raise UsageError(f"volume driver {driver!r} is not supported: pyc has only \"local\"")


def _check_options(options: dict[str, str]) -> None:
    for key in options:
        if key not in LOCAL_OPTIONS:
            raise UsageError(f'invalid option key: "{key}"')


def check_filters(filters: Filters) -> None:
    validate(filters, FILTERS)
    for value in filters.get("dangling", []):
        boolean("dangling", value)


def _matches(vol: Volume, filters: Filters, in_use: Callable[[str], bool]) -> bool:
    checks: dict[str, Callable[[str], bool]] = {
        "name": lambda v: v in vol.name,  # Docker: all or part of the name
        "driver": lambda v: v == DRIVER,
        "label": lambda v: match_label(vol.labels, v),
        "dangling": lambda v: boolean("dangling", v) != in_use(vol.name),
    }
    return all(any(checks[key](v) for v in values) for key, values in filters.items() if values)


def _unused(name: str) -> bool:
    return False


def _now() -> str:
    # RFC 3339 with the local offset, as Docker prints CreatedAt ("Z" for UTC)
    return rfc3339(digits=0, local=True)


def _disk_usage(path: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
    return total
