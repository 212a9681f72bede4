"""cgroups: which hierarchy the host has, which part of it this user may write, and one
cgroup per container under that part.

Rootless limits need a delegated subtree. On cgroup v2 that is a cgroup the user owns with
controllers enabled (systemd's `user@UID.service` with Delegate=, or a Slurm step). On a v1 or
hybrid host it is a directory per controller that an administrator chowned to the user. pyc
discovers both from /proc/self/cgroup; `[engine] cgroup_parent` in pyc's config overrides.

Container cgroups live at `<delegated>/pyc/<container id>` on both hierarchies. The `pyc`
level exists because of v2's "no internal processes" rule: the delegated cgroup pyc runs in
has processes, so controllers are enabled on `pyc` (which never holds a process) and the
container cgroups below it are leaves. Stdlib only: the supervisor imports this module.

How the runtime uses it (one container):

    info = cgroups.detect(cfg.cgroup_parent)            # `[engine] cgroup_parent`, or None
    cg = cgroups.create(info, cid, limits, on_missing)  # before forking the container: a
                                                        # HostError here means exit 125, nothing
                                                        # started; show cg.warnings
    save cg.to_dict() in the container's state          # later pyc processes: from_dict()
    fork the container init; while it waits on the sync pipe (still this user's uid, not yet
    exec'd): cg.add(init_pid); write /proc/PID/oom_score_adj; then let it exec. Every process
    it starts inherits the cgroup.
    pause/unpause: cg.freeze() / cg.thaw();  `pyc update`: cg.update(new limits)
    stats: cg.stats();  on exit: status 137 and cg.oom_killed() -> OOMKilled: true
    stop/kill of the whole container: cg.kill_all();  every exit path: cg.remove()

`[engine] cgroup_limits = "warn"` (default "error") becomes `on_missing`: a limit this user
cannot enforce is then dropped with a warning instead of failing the run.
"""


from __future__ import annotations

import errno
import os
import re
from dataclasses import dataclass, field

from pycontainer.errors import ContainerRuntimeError, HostError, UsageError
from pycontainer.linux.cgroup_container import ContainerCgroup, read_file, write_file
from pycontainer.linux.cgroup_limits import FLAGS, Limits

__all__ = ["CgroupInfo", "ContainerCgroup", "Limits", "check", "create", "detect"]

V1_CONTROLLERS = ("cpu", "cpuacct", "cpuset", "memory", "pids", "freezer", "blkio")


@dataclass
class CgroupInfo:
    version: str  # "v2", "v1" (including hybrid hosts) or "none"
    #: controller -> the delegated directory pyc may create container cgroups under
    delegated: dict[str, str] = field(default_factory=dict)
    #: controllers the host has but this user may not use
    unusable: list[str] = field(default_factory=list)
    reason: str = ""
    #: v2: the delegated cgroup, even with no controllers (freeze and kill need none)
    parent: str = ""

    @property
    def can_limit(self) -> bool:
        return "memory" in self.delegated or (self.version == "v2" and bool(self.delegated))


def mounts() -> tuple[str | None, dict[str, str]]:
    """(the cgroup2 mount point or None, {v1 controller: mount point})."""
    v2: str | None = None
    v1: dict[str, str] = {}
    try:
        with open("/proc/self/mountinfo") as f:
            lines = f.read().splitlines()
    except OSError:
        return None, {}
    for line in lines:
        left, _, right = line.partition(" - ")
        fields = right.split()
        if len(fields) < 3:
            continue
        point = left.split()[4]
        if fields[0] == "cgroup2" and v2 is None:
            v2 = point
        elif fields[0] == "cgroup":
            for opt in fields[2].split(","):
                if opt in V1_CONTROLLERS:
                    v1.setdefault(opt, point)
    return v2, v1


def own_cgroups() -> dict[str, str]:
    """{controller (or "" for the v2 hierarchy): this process's cgroup path}."""
    result: dict[str, str] = {}
    try:
        with open("/proc/self/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return result
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if parts[0] == "0" and parts[1] == "":
            result[""] = parts[2]
        for ctrl in parts[1].split(","):
            if ctrl:
                result[ctrl] = parts[2]
    return result


def detect(parent_override: str | None = None, hierarchy: str | None = None) -> CgroupInfo:
    """Where this user may create cgroups. `hierarchy` ("v1"/"v2") forces one on a hybrid
    host; by default a host with v1 controllers uses them, since its v2 mount has none."""
    v2, v1 = mounts()
    own = own_cgroups()
    if v1 and hierarchy != "v2":
        return _detect_v1(v1, own, parent_override)
    if v2 and hierarchy != "v1":
        return _detect_v2(v2, own.get("", "/"), parent_override)
    return CgroupInfo("none", reason="no cgroup file system is mounted")


def _writable(path: str) -> bool:
    # directories need search permission too; control files are never executable
    mode = os.W_OK | os.X_OK if os.path.isdir(path) else os.W_OK
    return os.access(path, mode)


def _detect_v1(v1: dict[str, str], own: dict[str, str], override: str | None) -> CgroupInfo:
    info = CgroupInfo("v1")
    for ctrl, mount in sorted(v1.items()):
        rel = override if override else own.get(ctrl, "/")
        path = os.path.join(mount, rel.lstrip("/"))
        if _writable(path) and _writable(os.path.join(path, "cgroup.procs")):
            info.delegated[ctrl] = path
        else:
            info.unusable.append(ctrl)
    if info.delegated:
        info.reason = "cgroup v1 subtree owned by this user: " + ", ".join(sorted(info.delegated))
    else:
        info.reason = "cgroup v1 without a subtree delegated to this user"
    return info


def _v2_delegated(path: str) -> bool:
    files = ("", "cgroup.procs", "cgroup.subtree_control")
    return all(_writable(os.path.join(path, f)) for f in files)


def _v2_parent(mount: str, own: str) -> str | None:
    """The topmost cgroup above (or at) our own that we may write: with systemd that is
    `user@UID.service` when pyc runs in one of its scopes, which has no processes of its own."""
    rel = own.strip("/").split("/") if own.strip("/") else []
    best = None
    for depth in range(len(rel), -1, -1):
        path = os.path.join(mount, *rel[:depth])
        if not _v2_delegated(path):
            break
        best = path
    return best


def _detect_v2(mount: str, own: str, override: str | None) -> CgroupInfo:
    info = CgroupInfo("v2")
    path = os.path.join(mount, override.lstrip("/")) if override else _v2_parent(mount, own)
    if path is None or not _v2_delegated(path):
        where = path or os.path.join(mount, own.lstrip("/"))
        info.unusable = _read_words(os.path.join(where, "cgroup.controllers"))
        info.reason = f"cgroup v2, but {where} is not delegated to this user"
        service = os.path.join(mount, f"user.slice/user-{os.getuid()}.slice",
                               f"user@{os.getuid()}.service")
        if not override and _v2_delegated(service):
            info.reason += (f" ({service} is: start pyc inside it, e.g. with "
                            "`systemd-run --user --scope pyc ...`)")
        return info
    controllers = _read_words(os.path.join(path, "cgroup.controllers"))
    info.parent = path
    info.delegated = {ctrl: path for ctrl in controllers}
    info.reason = f"cgroup v2 subtree {path} delegated with: {' '.join(controllers) or 'none'}"
    return info


def _read_words(path: str) -> list[str]:
    try:
        with open(path) as f:
            return f.read().split()
    except OSError:
        return []


# --- container cgroups ----------------------------------------------------------------------

PYC_LEVEL = "pyc"
#: v2 controllers pyc enables for its containers (limits and stats); others are left alone
V2_WANTED = ("cpu", "cpuset", "io", "memory", "pids")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
FAIL, WARN = "error", "warn"  # `[engine] cgroup_limits`: what a limit without a cgroup does


def create(info: CgroupInfo, container_id: str, limits: Limits | None = None,
           on_missing: str = FAIL) -> ContainerCgroup:
    """Create `<delegated>/pyc/<container_id>` and write `limits` into it.

    A limit whose controller this user cannot use raises HostError, or with
    on_missing="warn" is dropped and explained in the result's `warnings`. Without any
    usable cgroup and without limits the result is a no-op cgroup (`enabled` is False).
    """
    limits = limits or Limits()
    limits.validate()
    if not _ID.match(container_id):
        raise UsageError(f"invalid container id for a cgroup: {container_id!r}")
    limits, warnings = _usable_limits(info, limits, on_missing)
    # filled as directories appear, so a failure half-way removes exactly what was made
    cg = ContainerCgroup(info.version, {}, warnings)
    try:
        if info.version == "v1":
            for ctrl, base in sorted(info.delegated.items()):
                cg.dirs[ctrl] = _mkdir_v1(base, ctrl, container_id)
        elif info.version == "v2" and info.parent:
            cg.dirs[""] = _mkdir_v2(info.parent, container_id, limits.controllers())
        cg.update(limits)
    except BaseException:
        cg.remove()
        raise
    return cg


def check(info: CgroupInfo, limits: Limits, on_missing: str = FAIL) -> list[str]:
    """What create() would say about `limits` without creating anything: raises the same
    HostError, or returns its warnings (`pyc create` checks before writing any record)."""
    limits.validate()
    return _usable_limits(info, limits, on_missing)[1]


def _usable_limits(info: CgroupInfo, limits: Limits, on_missing: str) -> tuple[Limits, list[str]]:
    missing = [name for name, ctrl in limits.requested().items() if ctrl not in info.delegated]
    if not missing:
        return limits, []
    flags = ", ".join(FLAGS[name][0] for name in missing)
    ctrls = " ".join(sorted({FLAGS[name][1] for name in missing}))
    why = f"{flags} needs the cgroup controller(s) {ctrls}, but {info.reason or 'none'}"
    if on_missing != WARN:
        raise HostError(f"{why}; see `pyc system check`",
                        hint="or set [engine] cgroup_limits = \"warn\" to run without them")
    dropped = Limits(**{**limits.__dict__, **{name: None for name in missing}})
    return dropped, [f"{why}: running without these limits"]


def _mkdir(path: str) -> bool:
    """mkdir; False when it already existed."""
    try:
        os.mkdir(path)
        return True
    except FileExistsError:
        return False
    except PermissionError as exc:
        raise HostError(f"cannot create cgroup {path}: {exc.strerror}; "
                        "see `pyc system check`") from None


def _mkdir_v1(base: str, ctrl: str, container_id: str) -> str:
    for _ in range(5):
        level = os.path.join(base, PYC_LEVEL)
        try:
            for parent, path in ((base, level), (level, os.path.join(level, container_id))):
                _mkdir(path)
                if ctrl == "cpuset":
                    _fill_cpuset(parent, path)
            return os.path.join(level, container_id)
        except FileNotFoundError:
            continue
    raise ContainerRuntimeError(f"cannot create cgroup under {base}: it keeps disappearing")


def _fill_cpuset(parent: str, path: str) -> None:
    """A v1 cpuset with no cpus/mems takes no tasks (ENOSPC): inherit the parent's.

    Checked even when the directory already existed, because a concurrent `pyc` may have
    created it and not yet filled it; writing the same value twice is harmless.
    """
    for name in ("cpuset.cpus", "cpuset.mems"):
        if not read_file(os.path.join(path, name)).strip():
            write_file(os.path.join(path, name), read_file(os.path.join(parent, name)))


def _mkdir_v2(base: str, container_id: str, needed: set[str]) -> str:
    level = os.path.join(base, PYC_LEVEL)
    for _ in range(5):
        try:
            _mkdir(level)
            _enable(base, level, needed)
            path = os.path.join(level, container_id)
            _mkdir(path)
            return path
        except FileNotFoundError:
            continue
    raise ContainerRuntimeError(f"cannot create cgroup under {base}: it keeps disappearing")


def _enable(base: str, level: str, needed: set[str]) -> None:
    """Enable controllers on `base` (for `pyc`) and on `pyc` (for the containers)."""
    available = set(_read_words(os.path.join(base, "cgroup.controllers")))
    for path in (base, level):
        on = set(_read_words(os.path.join(path, "cgroup.subtree_control")))
        for ctrl in sorted((available & set(V2_WANTED)) - on):
            try:
                write_file(os.path.join(path, "cgroup.subtree_control"), f"+{ctrl}")
            except OSError as exc:
                if ctrl in needed:
                    raise HostError(_enable_error(path, ctrl, exc)) from None
                # not needed for a limit: the container only lacks its statistics


def _enable_error(path: str, ctrl: str, exc: OSError) -> str:
    if exc.errno == errno.EBUSY:
        return (f"cannot enable the {ctrl} controller in {path}: it has processes of its own "
                "(cgroup v2 allows controllers only above leaves); run pyc from a leaf "
                "cgroup, e.g. `systemd-run --user --scope pyc ...`; see `pyc system check`")
    return f"cannot enable the {ctrl} controller in {path}: {exc.strerror}"
