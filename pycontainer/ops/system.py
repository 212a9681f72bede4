"""`pyc info`, `pyc version` and `pyc system check`: what the host offers a rootless user.

Each check is data (name, status, detail, fix) so the CLI only formats it; the fix is the
exact command an administrator runs.
"""

from __future__ import annotations

import os
import platform
import pwd
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pycontainer import __version__, binaries
from pycontainer.linux import cgroups, userns
from pycontainer.ops.version import GoFields as GoFields
from pycontainer.ops.version import arch as _arch
from pycontainer.ops.version import version_report as version_report
from pycontainer.paths import Paths, ensure_runtime
from pycontainer.storage import select

PASS, WARN, FAIL = "PASS", "WARN", "FAIL"
MIN_IDS = 65536


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str
    fix: str = ""


def _user() -> str:
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def info_report(paths: Paths) -> dict[str, Any]:
    # Create (or vet) the runtime dir first: a symlink or someone else's directory at the /tmp
    # fallback must be refused (HostError, exit 125) before anything reports or uses it.
    ensure_runtime(paths)
    mapping = userns.default_mapping() if os.getuid() != 0 else None
    cg = cgroups.detect()
    driver = select.choose(paths.runtime if paths.runtime.is_dir() else None)
    return {
        "host": {
            "kernel": platform.release(),
            "os": "linux",
            "arch": _arch(),
            "hostname": platform.node(),
            "cpus": os.cpu_count(),
            "rootless": os.getuid() != 0,
            "uid": os.getuid(),
            "gid": os.getgid(),
            "idMappings": _mapping_json(mapping),
            "subuid": [r.__dict__ for r in userns.subid_ranges(userns.SUBUID)],
            "subgid": [r.__dict__ for r in userns.subid_ranges(userns.SUBGID)],
            "cgroupVersion": cg.version,
            "cgroupControllers": sorted(cg.delegated),
            "cgroupReason": cg.reason,
            "resourceLimits": cg.can_limit or os.getuid() == 0,
            "slirp4netns": binaries.find("slirp4netns") or "",
            "fuseOverlayfs": binaries.find("fuse-overlayfs") or "",
        },
        "store": {
            "graphRoot": str(paths.data),
            "runRoot": str(paths.runtime),
            "runRootReason": paths.runtime_reason,
            "configDir": str(paths.config),
            "graphDriverName": driver.name,
            "graphDriverReason": driver.reason,
        },
        "version": version_report()["Client"],
    }


def docker_info(paths: Paths, report: dict[str, Any]) -> dict[str, Any]:
    """The fields of Docker's `info` that scripts read (`{{.ServerVersion}}`, `{{.Driver}}`,
    `{{.SecurityOptions}}`, ...), from pyc's own report and the container store."""
    from pycontainer import config
    from pycontainer.images.store import ImageStore
    from pycontainer.ops.ps import PsOptions, list_containers

    states = [e.state for e in list_containers(paths, PsOptions(all=True))]
    host, store = report["host"], report["store"]
    limits = bool(host["resourceLimits"])
    return {
        "ID": "", "Name": host["hostname"], "ServerVersion": __version__,
        "Containers": len(states), "ContainersRunning": states.count("running"),
        "ContainersPaused": states.count("paused"),
        "ContainersStopped": len(states) - states.count("running") - states.count("paused"),
        "Images": len(ImageStore(paths).all()),
        "Driver": store["graphDriverName"], "DockerRootDir": store["graphRoot"],
        "CgroupDriver": "cgroupfs", "CgroupVersion": host["cgroupVersion"].lstrip("v"),
        "MemoryLimit": limits, "SwapLimit": limits, "CpuCfsPeriod": limits,
        "CpuCfsQuota": limits, "CPUShares": limits, "CPUSet": limits, "PidsLimit": limits,
        "KernelVersion": host["kernel"], "OperatingSystem": _os_name(), "OSType": "linux",
        "Architecture": platform.machine(), "NCPU": host["cpus"], "MemTotal": _mem_total(),
        "LoggingDriver": config.load_engine(paths.config).log_driver,
        "DefaultRuntime": "builtin",
        "SecurityOptions": ["name=seccomp,profile=builtin"]
        + (["name=rootless"] if host["rootless"] else []),
        "IndexServerAddress": "https://index.docker.io/v1/", "Warnings": [],
    }


def _os_name() -> str:
    for line in (_read("/etc/os-release") or "").splitlines():
        key, _, value = line.partition("=")
        if key == "PRETTY_NAME":
            return value.strip('"')
    return "Linux"


def _mem_total() -> int:
    for line in (_read("/proc/meminfo") or "").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return 0


def _mapping_json(mapping: userns.IdMapping | None) -> dict[str, Any]:
    if mapping is None:
        return {"uidmap": [], "gidmap": [], "single": False}

    def entries(es: tuple[userns.IdMapEntry, ...]) -> list[dict[str, int]]:
        return [{"container_id": e.inner, "host_id": e.outer, "size": e.count} for e in es]

    return {"uidmap": entries(mapping.uids), "gidmap": entries(mapping.gids),
            "single": mapping.single}


# --- system check -------------------------------------------------------------------------


def check_all(paths: Paths) -> list[Check]:
    if os.getuid() == 0:
        return [Check("rootful", PASS, "running as root: no id mapping helpers are needed"),
                check_cgroups(), check_store(paths)]
    checks = [*check_idmap_helpers(), *check_subids(), check_userns()]
    checks += [check_device("/dev/fuse"), check_device("/dev/net/tun")]
    checks += [check_slirp(), check_overlay(), check_cgroups(), check_runtime_dir(paths)]
    checks.append(check_store(paths))
    checks += [check_optional_program("nft", "nftables", "user-defined networks"),
               check_optional_program("catatonit", "catatonit", "--init", ("tini",))]
    return checks


def check_optional_program(name: str, package: str, feature: str,
                           alternatives: tuple[str, ...] = ()) -> Check:
    """A program only one feature needs: missing is a WARN naming the feature, not a FAIL."""
    for candidate in (name, *alternatives):
        path = binaries.find(candidate)
        if path:
            return Check(name, PASS, f"{path} ({feature})")
    return Check(name, WARN, f"{name} is not installed: {feature} will not work",
                 f"sudo apt-get install {package}")


def _helper_ok(path: str) -> bool:
    st = os.stat(path)
    if st.st_uid == 0 and st.st_mode & stat.S_ISUID:
        return True
    try:
        return bool(os.getxattr(path, "security.capability"))
    except OSError:
        return False


def check_idmap_helpers() -> list[Check]:
    out = []
    for name in ("newuidmap", "newgidmap"):
        path = binaries.find(name)
        if path is None:
            out.append(Check(name, FAIL, f"{name} is not installed", "sudo apt-get install uidmap"))
        elif not _helper_ok(path):
            out.append(Check(name, FAIL, f"{path} is neither setuid root nor has file "
                             "capabilities", f"sudo chmod u+s {path}"))
        else:
            out.append(Check(name, PASS, f"{path} can map subordinate ids"))
    return out


def _free_range_start(path: str) -> int:
    end = 100000
    text = _read(path) or ""
    for line in text.splitlines():
        parts = line.strip().split(":")
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
            end = max(end, int(parts[1]) + int(parts[2]))
    return end


def check_subids() -> list[Check]:
    user, uid = _user(), os.getuid()
    out = []
    for label, path, flag in (("subuid", userns.SUBUID, "--add-subuids"),
                              ("subgid", userns.SUBGID, "--add-subgids")):
        ranges = userns.subid_ranges(path)
        total = sum(r.count for r in ranges)
        start = _free_range_start(path)
        fix = f"sudo usermod {flag} {start}-{start + MIN_IDS - 1} {user}"
        if total >= MIN_IDS:
            out.append(Check(label, PASS, f"{total} ids in {path} for {user}"))
        elif total:
            out.append(Check(label, FAIL, f"only {total} ids in {path} for {user}; "
                             f"images need {MIN_IDS}", fix))
        else:
            out.append(Check(label, FAIL, f"no range for {user} in {path}", fix))
        own = uid if label == "subuid" else os.getgid()
        if any(r.start <= own < r.start + r.count for r in ranges):
            out.append(Check(label, WARN, f"your own id {own} lies inside your {label} range",
                             f"edit {path} so the range for {user} excludes {own}"))
    return out


def check_userns() -> Check:
    maxns = _read("/proc/sys/user/max_user_namespaces")
    if maxns is not None and maxns == "0":
        return Check("user namespaces", FAIL, "user.max_user_namespaces is 0",
                     "sudo sysctl -w user.max_user_namespaces=28633")
    clone = _read("/proc/sys/kernel/unprivileged_userns_clone")
    if clone == "0":
        return Check("user namespaces", FAIL, "kernel.unprivileged_userns_clone is 0",
                     "sudo sysctl -w kernel.unprivileged_userns_clone=1")
    apparmor = _read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns")
    if apparmor == "1":
        return Check("user namespaces", FAIL,
                     "kernel.apparmor_restrict_unprivileged_userns is 1",
                     "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0")
    return Check("user namespaces", PASS, f"allowed (max_user_namespaces={maxns})")


def check_device(path: str) -> Check:
    if not os.path.exists(path):
        return Check(path, FAIL, f"{path} does not exist",
                     f"sudo modprobe {'fuse' if 'fuse' in path else 'tun'}")
    if os.access(path, os.R_OK | os.W_OK):
        return Check(path, PASS, f"{path} is readable and writable")
    return Check(path, FAIL, f"{path} is not readable and writable by you",
                 f"sudo chmod 666 {path}")


def check_slirp() -> Check:
    path = binaries.find("slirp4netns")
    if path:
        return Check("slirp4netns", PASS, f"{path} gives containers a network")
    return Check("slirp4netns", FAIL, "slirp4netns is not installed",
                 "sudo apt-get install slirp4netns")


def check_overlay() -> Check:
    problem = select.probe_native_overlay()
    if problem is None:
        return Check("overlay", PASS, "native overlay mounts inside a user namespace")
    fuse = select.fuse_overlayfs_problem()
    if fuse is None:
        return Check("overlay", WARN, f"native overlay failed ({problem}); using fuse-overlayfs",
                     "use a kernel >= 5.11 for faster native overlay")
    return Check("overlay", WARN, f"native overlay failed ({problem}) and {fuse}; "
                 "falling back to the slow copying vfs driver",
                 "sudo apt-get install fuse-overlayfs && sudo chmod 666 /dev/fuse")


def check_cgroups() -> Check:
    cg = cgroups.detect()
    if os.getuid() == 0:
        return Check("cgroups", PASS, f"cgroup {cg.version}, root may set limits")
    if cg.can_limit:
        return Check("cgroups", PASS, cg.reason)
    user = _user()
    if cg.version == "v2":
        fix = ("sudo mkdir -p /etc/systemd/system/user@.service.d && printf '[Service]\\n"
               "Delegate=cpu cpuset io memory pids\\n' | sudo tee "
               "/etc/systemd/system/user@.service.d/delegate.conf && sudo systemctl "
               "daemon-reload (then log in again)")
    else:
        fix = ("for c in memory pids cpu cpuacct cpuset freezer; do sudo mkdir -p "
               f"/sys/fs/cgroup/$c/pyc-{user} && sudo chown -R {user} "
               f"/sys/fs/cgroup/$c/pyc-{user}; done (and set [engine] cgroup_parent = "
               f"\"/pyc-{user}\" in ~/.config/pycontainer/containers.conf)")
    return Check("cgroups", WARN, f"{cg.reason}: resource limits (--memory, --cpus, "
                 "--pids-limit) cannot be enforced", fix)


def check_runtime_dir(paths: Paths) -> Check:
    from pycontainer.errors import HostError
    from pycontainer.paths import ensure_runtime

    try:
        ensure_runtime(paths)
    except HostError as exc:
        return Check("runtime dir", FAIL, exc.message,
                     f"rm -rf {paths.runtime} (as its owner), or export XDG_RUNTIME_DIR")
    # The /tmp fallback is a supported mode, not a failure: pyc copes after su/sudo.
    return Check("runtime dir", PASS, f"{paths.runtime} ({paths.runtime_reason})")


def check_store(paths: Paths) -> Check:
    """Other users must not reach the store: its layers hold setuid files this user owns, its
    container records the `-e` environment. pyc makes it 0700 on every command, so this WARNs
    only where that failed (someone else's directory)."""
    try:
        mode = stat.S_IMODE(os.stat(paths.data).st_mode)
    except OSError:
        return Check("store", PASS, f"{paths.data} does not exist yet; it will be made 0700")
    if not mode & 0o077:
        return Check("store", PASS, f"{paths.data} is private to you (mode {mode:04o})")
    blocker = _traversal_blocker(paths.data)
    if blocker is not None:
        return Check("store", PASS, f"{paths.data} is mode {mode:04o}, but other users "
                     f"cannot enter {blocker}")
    return Check("store", WARN, f"{paths.data} (mode {mode:04o}) lets other users read "
                 "your images, containers' environment and logs, and run setuid files "
                 "from image layers as you", f"chmod 700 {paths.data}")


def _traversal_blocker(path: Path) -> Path | None:
    """The nearest directory above `path` that other users cannot search, if any."""
    for parent in path.parents:
        try:
            if not os.stat(parent).st_mode & 0o011:
                return parent
        except OSError:
            return parent
    return None


def python_ok() -> bool:
    return sys.version_info >= (3, 11)
