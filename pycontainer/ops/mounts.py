"""Volumes and bind mounts of a container: `-v`, `--mount`, `--volumes-from`, image VOLUMEs.

At create, `plan` turns the options into OCI mount dicts kept in the container's
`spec.mounts` (so `ops.volumes.users_of` sees them) with a few extra keys the runtime
ignores:

    "volume": NAME        a named or anonymous volume (source is its `_data` directory)
    "anonymous": true     made for `-v /path` or an image VOLUME: `rm -v` / `--rm` remove it
    "copy_up": true       fill the volume with the image's content at the destination the
                          first time it is mounted (Docker's copy-up; `nocopy` turns it off)

At start, `copy_up_list` says which volumes the launcher must fill (inside the container's
user namespace, so the image's owners are kept) and `mark_copied` records that it happened.
"""

from __future__ import annotations

import contextlib
import csv
import os
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, NotRequired, TypedDict

from pycontainer.errors import PycError, UsageError, VolumeNotFound
from pycontainer.ops import events
from pycontainer.paths import Paths
from pycontainer.volumes.store import VolumeStore

if TYPE_CHECKING:
    from pycontainer.jsontypes import JSON
    from pycontainer.oci.imagespec import RunConfig
    from pycontainer.oci.specjson import MountJSON

_BIND_PROPAGATION = {"shared", "rshared", "slave", "rslave", "private", "rprivate"}
_VOLUME_FLAGS = {"ro", "rw", "z", "Z", "nocopy", "copy", "exec", "noexec", "suid", "nosuid",
                 "dev", "nodev", "rbind", "bind"} | _BIND_PROPAGATION


class WantedMount(TypedDict):
    """One `-v` or `--mount` as parsed, before any volume or directory exists."""

    kind: str  # bind, volume, tmpfs
    source: str
    destination: str
    readonly: bool
    copy: bool  # copy-up into a volume (`nocopy`, `volume-nocopy` turn it off)
    create_source: NotRequired[bool]  # `-v` creates a missing host directory
    tmpfs: NotRequired[list[str]]  # tmpfs mount options (size=, mode=)


@dataclass
class MountRequest:
    volumes: list[str] = field(default_factory=list)  # -v
    mounts: list[str] = field(default_factory=list)  # --mount
    volumes_from: list[str] = field(default_factory=list)


def store(paths: Paths) -> VolumeStore:
    return VolumeStore(paths.volumes)


# --- parsing (pure) ---------------------------------------------------------------------------


def parse_volume(text: str) -> WantedMount:
    """One `-v`: `/host:/ctr[:opts]`, `name:/ctr[:opts]` or `/ctr` (anonymous volume).

    Returns {"kind": bind|volume, "source", "destination", "readonly", "copy"}.
    """
    parts = text.split(":")
    if len(parts) == 1:
        src, dst, opts = "", parts[0], ""
    elif len(parts) == 2:
        src, dst, opts = parts[0], parts[1], ""
    elif len(parts) == 3:
        src, dst, opts = parts
    else:
        raise UsageError(f"invalid volume specification: '{text}'")
    if not dst.startswith("/"):
        raise UsageError(f"invalid volume specification: '{text}': the container path must "
                         "be absolute")
    if _clean(dst) == "/":
        kind = "bind" if src.startswith(("/", ".", "~")) else "volume"
        raise UsageError(f"invalid volume specification: '{text}': invalid mount config for "
                         f"type \"{kind}\": invalid specification: destination can't be '/'")
    flags = [o for o in opts.split(",") if o]
    bad = [o for o in flags if o not in _VOLUME_FLAGS]
    if bad:
        raise UsageError(f"invalid volume specification: '{text}': unknown option {bad[0]!r}")
    if "ro" in flags and "rw" in flags:
        raise UsageError(f"invalid volume specification: '{text}': both ro and rw")
    kind = "bind" if src.startswith(("/", ".", "~")) else "volume"
    if kind == "bind":
        src = os.path.abspath(os.path.expanduser(src))
    elif flags and any(o in _BIND_PROPAGATION for o in flags):
        raise UsageError(f"invalid volume specification: '{text}': propagation applies to "
                         "bind mounts only")
    return {"kind": kind, "source": src, "destination": _clean(dst), "readonly": "ro" in flags,
            "copy": "nocopy" not in flags, "create_source": True}


def parse_mount(text: str) -> WantedMount:
    """One `--mount type=bind|volume|tmpfs,source=,target=,readonly,...` (Docker's csv)."""
    fields = next(csv.reader([text]))
    out: WantedMount = {"kind": "volume", "source": "", "destination": "",
                        "readonly": False, "copy": True, "create_source": False, "tmpfs": []}
    for item in fields:
        key, sep, value = item.strip().partition("=")
        key = key.lower()
        _mount_field(out, key, value if sep else None, text)
    if out["kind"] not in ("bind", "volume", "tmpfs"):
        raise UsageError(f"invalid --mount {text}: type {out['kind']} is not supported "
                         "(bind, volume, tmpfs)")
    if not out["destination"]:
        raise UsageError(f"invalid --mount {text}: target is required")
    if out["kind"] == "bind" and not out["source"]:
        raise UsageError(f"invalid --mount {text}: a bind mount needs a source")
    if out["kind"] == "tmpfs" and out["source"]:
        raise UsageError(f"invalid --mount {text}: a tmpfs mount takes no source")
    if out["kind"] == "bind":
        out["source"] = os.path.abspath(os.path.expanduser(out["source"]))
    out["destination"] = _clean(out["destination"])
    if out["destination"] == "/":
        raise UsageError(f"invalid argument \"{text}\" for \"--mount\" flag: invalid mount "
                         f"config for type \"{out['kind']}\": invalid specification: "
                         "destination can't be '/'")
    return out


def _mount_field(out: WantedMount, key: str, value: str | None, text: str) -> None:
    if key == "type":
        out["kind"] = value or ""
    elif key in ("source", "src"):
        out["source"] = value or ""
    elif key in ("target", "destination", "dst"):
        out["destination"] = value or ""
    elif key in ("readonly", "ro"):
        out["readonly"] = value is None or value.lower() in ("1", "true")
    elif key == "volume-nocopy":
        out["copy"] = not (value is None or value.lower() in ("1", "true"))
    elif key == "tmpfs-size":
        out["tmpfs"].append(f"size={value}")
    elif key == "tmpfs-mode":
        out["tmpfs"].append(f"mode={value}")
    elif key in ("bind-propagation", "consistency", "bind-nonrecursive", "volume-driver",
                 "volume-label", "volume-opt", "z", "relabel"):
        return  # accepted as Docker does; rootless binds stay private
    else:
        raise UsageError(f"invalid --mount {text}: unexpected key '{key}'")
    if key in ("target", "destination", "dst") and value and not value.startswith("/"):
        raise UsageError(f"invalid --mount {text}: the target must be absolute")


def _clean(path: str) -> str:
    return os.path.normpath(path) if path != "/" else path


def validate(req: MountRequest | None) -> None:
    """Parse every `-v` and `--mount` (no host access): UsageError on a bad one."""
    if req is None:
        return
    _check_duplicates([parse_volume(v)["destination"] for v in req.volumes]
                      + [parse_mount(m)["destination"] for m in req.mounts])


# --- create ----------------------------------------------------------------------------------


def plan(paths: Paths, req: MountRequest, image_config: RunConfig) -> list[MountJSON]:
    """The OCI mount dicts for `spec.mounts`; creates missing `-v` host dirs and volumes.

    On failure, anonymous volumes made so far are removed again.
    """
    wanted = [parse_volume(v) for v in req.volumes] + [parse_mount(m) for m in req.mounts]
    _check_duplicates([w["destination"] for w in wanted])
    out: list[MountJSON] = []
    try:
        for w in wanted:
            out.append(_realize(paths, w))
        out += _volumes_from(paths, req.volumes_from, {m["destination"] for m in out})
        taken = {m["destination"] for m in out}
        for path in sorted(image_config.get("Volumes") or {}):
            if _clean(path) not in taken:
                out.append(_realize(paths, {"kind": "volume", "source": "", "readonly": False,
                                            "destination": _clean(path), "copy": True}))
    except BaseException:
        discard_anonymous(paths, out)
        raise
    return out


def _check_duplicates(destinations: list[str]) -> None:
    seen: set[str] = set()
    for d in destinations:
        if d in seen:
            raise UsageError(f"Duplicate mount point: {d}")
        seen.add(d)


def _realize(paths: Paths, w: WantedMount) -> MountJSON:
    ro = ["ro"] if w["readonly"] else []
    if w["kind"] == "tmpfs":
        return {"destination": w["destination"], "type": "tmpfs", "source": "tmpfs",
                "options": ["nosuid", "nodev", *w.get("tmpfs", [])] + ro}
    if w["kind"] == "bind":
        src = w["source"]
        if not os.path.exists(src):
            if not w["create_source"]:
                raise UsageError(f'invalid mount config for type "bind": bind source path '
                                 f"does not exist: {src}")
            make_source(src)  # Docker's -v creates it
        return {"destination": w["destination"], "type": "bind", "source": src,
                "options": ["rbind", *ro]}
    name = w["source"] or None
    vol = store(paths).create(name)
    events.volume(paths, "create", vol.name)
    return {"destination": w["destination"], "type": "bind", "source": str(vol.mountpoint),
            "options": ["rbind", *ro], "volume": vol.name, "anonymous": vol.anonymous,
            "copy_up": bool(w["copy"])}


def make_source(src: str) -> None:
    """Create a missing `-v` host directory and its parents, as Docker does; on failure the
    directories made so far are removed again and the error names the path, as Docker's."""
    made: list[str] = []
    missing: list[str] = []
    path = src
    while path != "/" and not os.path.lexists(path):
        missing.append(path)
        path = os.path.dirname(path)
    try:
        for d in reversed(missing):
            os.mkdir(d, 0o755)
            made.append(d)
    except OSError as exc:
        for d in reversed(made):
            with contextlib.suppress(OSError):
                os.rmdir(d)
        reason = (exc.strerror or str(exc)).lower()
        raise PycError(f"error while creating mount source path '{src}': mkdir "
                       f"{exc.filename or src}: {reason}") from None


def _volumes_from(paths: Paths, refs: list[str], taken: set[str]) -> list[MountJSON]:
    from pycontainer.containers.store import ContainerStore

    cstore = ContainerStore(paths)
    out: list[MountJSON] = []
    for ref in refs:
        name, _, mode = ref.partition(":")
        if mode not in ("", "ro", "rw", "z", "Z"):
            raise UsageError(f"invalid --volumes-from {ref}: mode must be ro or rw")
        other = cstore.load(cstore.resolve(name)).config.spec
        for m in other.mounts:
            if m.get("type") != "bind" or m["destination"] in taken:
                continue
            opts = [o for o in m.get("options") or [] if o not in ("ro", "rw")]
            ro = mode == "ro" or (mode == "" and "ro" in (m.get("options") or []))
            new = m.copy()
            new["options"] = opts + (["ro"] if ro else [])
            new["anonymous"] = new["copy_up"] = False
            out.append(new)
            taken.add(m["destination"])
    return out


def discard_anonymous(paths: Paths, mounts: list[MountJSON]) -> None:
    """Remove the anonymous volumes among `mounts` that no other container uses."""
    names = [m["volume"] for m in mounts if m.get("anonymous") and m.get("volume")]
    if not names:
        return
    from pycontainer.ops.volumes import usage

    busy = usage(paths)
    for name in names:
        with contextlib.suppress(PycError, OSError):
            store(paths).remove(name, in_use=bool(busy.get(name)))


# --- start -----------------------------------------------------------------------------------


def copy_up_list(paths: Paths, mounts: list[MountJSON]) -> list[list[str]]:
    """[[container path, volume data dir]] the launcher fills from the image before mounting."""
    out: list[list[str]] = []
    vstore = store(paths)
    for m in sorted(mounts, key=lambda m: len(PurePosixPath(m["destination"]).parts)):
        if not m.get("copy_up") or not m.get("volume"):
            continue
        try:
            vol = vstore.get(m["volume"])
        except VolumeNotFound:
            continue
        if vstore.needs_copy_up(vol):
            out.append([m["destination"], str(vol.mountpoint)])
    return out


def mark_copied(paths: Paths, mounts: list[MountJSON], done: list[list[str]]) -> None:
    vstore = store(paths)
    by_dest = {m["destination"]: m.get("volume") for m in mounts}
    for dest, _ in done:
        name = by_dest.get(dest)
        if name:
            with contextlib.suppress(PycError, OSError):
                vstore.mark_copied(vstore.get(name))


def check_sources(mounts: list[MountJSON]) -> None:
    """At start: a bind source removed since create fails the start (exit 125)."""
    for m in mounts:
        if m.get("type") == "bind" and not m.get("volume") and not os.path.exists(m["source"]):
            raise UsageError(f"bind source path does not exist: {m['source']}")


# --- inspect -----------------------------------------------------------------------------------


def inspect_mounts(mounts: list[MountJSON]) -> list[JSON]:
    """`Mounts` of `pyc inspect`, as Docker shows them."""
    out: list[JSON] = []
    for m in mounts:
        rw = "ro" not in (m.get("options") or [])
        if m.get("type") == "tmpfs":
            out.append({"Type": "tmpfs", "Source": "", "Destination": m["destination"],
                        "Mode": "", "RW": rw, "Propagation": ""})
        elif m.get("volume"):
            out.append({"Type": "volume", "Name": m["volume"], "Source": m["source"],
                        "Destination": m["destination"], "Driver": "local", "Mode": "z",
                        "RW": rw, "Propagation": ""})
        else:
            out.append({"Type": "bind", "Source": m["source"], "Destination": m["destination"],
                        "Mode": "", "RW": rw, "Propagation": "rprivate"})
    return out


def binds(mounts: list[MountJSON]) -> list[str] | None:
    """`HostConfig.Binds`: the `-v` forms."""
    out = []
    for m in mounts:
        if m.get("type") != "bind" or m.get("anonymous"):
            continue
        src = m.get("volume") or m["source"]
        ro = ":ro" if "ro" in (m.get("options") or []) else ""
        out.append(f"{src}:{m['destination']}{ro}")
    return out or None
