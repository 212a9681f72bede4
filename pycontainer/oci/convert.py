"""Image config + what the user asked for (`ContainerSpec`) -> OCI runtime `Spec`. Pure.

Follows image-spec `conversion.md` and Docker's run semantics: `--entrypoint` replaces the
image's entrypoint *and* drops its Cmd; `-e` overrides image Env by name; `-w` overrides
WorkingDir; capabilities are Docker's default set adjusted by --cap-add/--cap-drop.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import MISSING, Field, asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from pycontainer.errors import UsageError
from pycontainer.oci.runtime import (
    Linux,
    Mount,
    Namespace,
    Process,
    Rlimit,
    Spec,
    User,
    no_resources,
)

if TYPE_CHECKING:
    from pycontainer.oci.imagespec import RunConfig
    from pycontainer.oci.specjson import (
        LimitsJSON,
        MountJSON,
        ResourcesJSON,
        SeccompJSON,
        SyscallJSON,
    )

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
INIT_PATH = "/run/pyc-init"

# Docker's defaults (moby oci/defaults.go).
MASKED_PATHS = [
    "/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
    "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
]
READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

# What Docker's default seccomp profile refuses to a container without CAP_SYS_ADMIN and
# friends (its allowlist, inverted): the same syscalls fail with EPERM here.
DENIED_SYSCALLS = [
    "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module",
    "delete_module", "finit_module", "get_kernel_syms", "get_mempolicy", "init_module",
    "ioperm", "iopl", "kcmp", "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie",
    "mbind", "move_pages", "nfsservctl", "open_by_handle_at", "perf_event_open",
    "process_vm_readv", "process_vm_writev", "query_module", "quotactl", "reboot",
    "request_key", "set_mempolicy", "settimeofday", "stime", "swapon", "swapoff", "sysfs",
    "_sysctl", "uselib", "userfaultfd", "ustat", "vm86", "vm86old", "name_to_handle_at",
]
SYS_ADMIN_SYSCALLS = [
    "mount", "umount", "umount2", "unshare", "setns", "pivot_root", "fsopen", "fsconfig",
    "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr", "quotactl_fd",
]
CLONE_NS_FLAGS = [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000,
                  0x40000000]


def _no_limits() -> LimitsJSON:
    return {}


@dataclass
class ContainerSpec:
    """What `pyc run`/`create` was asked for, with Docker's option names in mind."""

    image: str = ""
    command: list[str] = field(default_factory=list)
    entrypoint: list[str] | None = None  # None: the image's; [] clears it
    env: list[str] = field(default_factory=list)
    workdir: str | None = None
    user: str | None = None
    group_add: list[str] = field(default_factory=list)
    hostname: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    tty: bool = False
    interactive: bool = False
    init: bool = False
    read_only: bool = False
    tmpfs: dict[str, str] = field(default_factory=dict)
    cap_add: list[str] = field(default_factory=list)
    cap_drop: list[str] = field(default_factory=list)
    privileged: bool = False
    no_new_privileges: bool = False
    seccomp: str = "default"  # "default", "unconfined" or a profile path (loaded by ops)
    seccomp_profile: SeccompJSON | None = None
    ulimits: list[str] = field(default_factory=list)
    stop_signal: str | None = None
    stop_timeout: int | None = None
    userns: str = ""  # "" or "keep-id"
    network: str = "private"  # private (lo only, until slirp4netns), none, host
    #: extra mounts (volumes and binds come with the networking/volumes issue)
    mounts: list[MountJSON] = field(default_factory=list)
    #: cgroup limits in runtime-spec form (the cgroups issue)
    resources: ResourcesJSON = field(default_factory=no_resources)
    #: the limit flags as given (ops.limits.as_record); `resources` is what they mean;
    #: None in a record older than the flags (its `resources` are all there is)
    limits: LimitsJSON | None = field(default_factory=_no_limits)
    #: --annotation KEY=VALUE: the runtime spec's annotations
    annotations: dict[str, str] = field(default_factory=dict)
    oom_score_adj: int | None = None
    auto_remove: bool = False
    name: str = ""
    #: --shm-size in bytes (None: Docker's 64m)
    shm_size: int | None = None
    #: --sysctl (validated by `check_sysctls`)
    sysctls: dict[str, str] = field(default_factory=dict)
    #: --pid / --ipc / --uts: "" (private), "host", "container:NAME"; ipc also "none",
    #: "private", "shareable"
    pid: str = ""
    ipc: str = ""
    uts: str = ""
    #: --device: [{"path": host, "dest": container path, "perms": "rwm"}]
    devices: list[dict[str, str]] = field(default_factory=list)
    #: --cgroup-parent
    cgroup_parent: str = ""
    #: --restart: no, always, unless-stopped, on-failure[:N]
    restart: str = "no"
    #: --health-*: Docker's Healthcheck config ({"Test": ["NONE"]}: --no-healthcheck);
    #: merged over the image's HEALTHCHECK
    healthcheck: Mapping[str, object] = field(default_factory=dict)
    #: the Engine API's HostConfig.ConsoleSize [height, width]: the terminal's size until
    #: the client's first resize ([]: 24x80)
    console_size: list[int] = field(default_factory=list)
    #: --pod: the pod's id (ops.podjoin): the namespaces it shares are joined at each start
    pod: str = ""
    #: Docker's Config.AttachStdin/AttachStdout/AttachStderr/StdinOnce as the create asked
    #: (createopts.attach_record); None in an older record: inspect derives them from
    #: `interactive`
    attach: dict[str, bool] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> ContainerSpec:
        """A stored record (`ContainerConfig.spec`), written by this version or an older one:
        unknown keys are ignored, missing ones take their defaults, and a `null` where a
        list or dict belongs reads as empty."""
        known: dict[str, Any] = {}
        for f in _fields_of(cls):
            if f.name not in d:
                continue
            value = d[f.name]
            if value is None and f.default_factory is not MISSING and f.name != "limits":
                continue
            known[f.name] = value
        known.setdefault("limits", None)  # absent: a record from before the limit flags
        return cls(**known)


_FIELDS: dict[type, tuple[Field[Any], ...]] = {}


def _fields_of(cls: type) -> tuple[Field[Any], ...]:
    """`fields(cls)`, once: every record read (the API's list and inspect: one per
    container) asks for them."""
    found = _FIELDS.get(cls)
    if found is None:
        found = _FIELDS[cls] = fields(cls)
    return found


@dataclass(frozen=True)
class ResolvedUser:
    uid: int
    gid: int
    additional_gids: tuple[int, ...] = ()
    home: str = "/"


def _passwd_entries(text: str) -> list[list[str]]:
    return [ln.split(":") for ln in text.splitlines() if ln and not ln.startswith("#")]


def resolve_user(
    user: str | None, group_add: list[str], passwd: str, group: str
) -> ResolvedUser:
    """`-u name|uid[:group|gid]` and `--group-add` through the container's passwd/group."""
    users = _passwd_entries(passwd)
    groups = _passwd_entries(group)
    name, _, grp = (user or "0").partition(":")
    entry = next((u for u in users if len(u) >= 6 and (u[0] == name or u[2] == name)), None)
    if entry is not None:
        uid, gid, home = int(entry[2]), int(entry[3]), entry[5] or "/"
    elif name.isdigit():
        uid, gid, home = int(name), 0, "/"  # Docker: an unknown numeric uid gets gid 0
    else:
        raise UsageError(f"unable to find user {name}: no matching entries in passwd file")
    if grp:
        gid = _group_id(grp, groups)
    login = entry[0] if entry else None
    extra = [int(g[2]) for g in groups if len(g) >= 4 and login and login in g[3].split(",")]
    extra += [_group_id(g, groups) for g in group_add]
    extra = [g for g in dict.fromkeys(extra) if g != gid]
    return ResolvedUser(uid, gid, tuple(extra), home)


def _group_id(name: str, groups: list[list[str]]) -> int:
    if name.isdigit():
        return int(name)
    for g in groups:
        if len(g) >= 3 and g[0] == name:
            return int(g[2])
    raise UsageError(f"unable to find group {name}: no matching entries in group file")


def command_args(spec: ContainerSpec, image_config: RunConfig) -> list[str]:
    """Docker's entrypoint/cmd rule."""
    if spec.entrypoint is not None:
        entry = list(spec.entrypoint)
        cmd = list(spec.command)
    else:
        entry = list(image_config.get("Entrypoint") or [])
        cmd = list(spec.command) or list(image_config.get("Cmd") or [])
    args = entry + cmd
    if not args:
        raise UsageError("no command specified")
    return args


def merge_env(image_env: list[str], user_env: list[str], defaults: dict[str, str]) -> list[str]:
    env: dict[str, str] = dict(defaults)
    for item in [*image_env, *user_env]:
        key, sep, value = item.partition("=")
        if key:
            env[key] = value if sep else env.get(key, "")
    return [f"{k}={v}" for k, v in env.items()]


def parse_ulimit(text: str) -> Rlimit:
    """`nofile=1024:2048` or `nproc=512` (Docker's --ulimit)."""
    name, _, values = text.partition("=")
    soft_s, _, hard_s = values.partition(":")
    try:
        soft = int(soft_s)
        hard = int(hard_s) if hard_s else soft
    except ValueError:
        raise UsageError(f"invalid ulimit: {text}") from None
    if not name.isalpha() or soft > hard:
        raise UsageError(f"invalid ulimit: {text}")
    return Rlimit("RLIMIT_" + name.upper(), soft, hard)


def default_seccomp(caps: list[str]) -> SeccompJSON:
    denied = list(DENIED_SYSCALLS)
    if "CAP_SYS_ADMIN" not in caps:
        denied += SYS_ADMIN_SYSCALLS
    # ptrace stays allowed: Docker allows it on kernels >= 4.8.
    rules: list[SyscallJSON] = [
        {"names": denied, "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
    ]
    if "CAP_SYS_ADMIN" not in caps:
        # glibc falls back to clone() when clone3 fails with ENOSYS, whose flags BPF can see.
        rules.append({"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38})
        rules += [
            {"names": ["clone"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
             "args": [{"index": 0, "value": f, "valueTwo": f, "op": "SCMP_CMP_MASKED_EQ"}]}
            for f in CLONE_NS_FLAGS
        ]
    return {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": rules}


@dataclass
class SpecInputs:
    """What the engine resolved before conversion: ids, user, files it wrote."""

    container_id: str
    user: ResolvedUser
    #: container path -> host file pyc wrote (/etc/hostname, /etc/hosts, /etc/resolv.conf)
    etc_files: dict[str, str] = field(default_factory=dict)
    #: host path of the init binary for --init
    init_binary: str | None = None
    single_id_mapping: bool = False
    #: the capability set (linux.caps.resolve of --cap-add/--cap-drop/--privileged)
    capabilities: list[str] = field(default_factory=list)
    #: the user's hard RLIMIT_NOFILE: containers get it as soft and hard limit (Podman does
    #: the same; Docker's daemon gives 1048576), not the shell's 1024
    nofile_hard: int | None = None


def to_spec(spec: ContainerSpec, image_config: RunConfig, inputs: SpecInputs) -> Spec:
    """The runtime spec for one container (image config is the OCI config's `config`)."""
    hostname = spec.hostname or inputs.container_id[:12]
    caps = list(inputs.capabilities)
    args = command_args(spec, image_config)
    if spec.init:
        args = [INIT_PATH, "--", *args]
    defaults = {"PATH": DEFAULT_PATH, "HOSTNAME": hostname}
    if spec.tty:
        defaults["TERM"] = "xterm"
    env = merge_env(list(image_config.get("Env") or []), spec.env, defaults)
    if not any(e.startswith("HOME=") for e in env):
        env.append(f"HOME={inputs.user.home}")
    u = inputs.user
    effective = caps if u.uid == 0 else []  # moby: only root starts with effective caps
    process = Process(
        args=args,
        env=env,
        cwd=spec.workdir or image_config.get("WorkingDir") or "/",
        terminal=spec.tty,
        user=User(u.uid, u.gid, list(u.additional_gids)),
        capabilities={"bounding": caps, "effective": effective, "permitted": effective,
                      "inheritable": [], "ambient": []},
        rlimits=_rlimits(spec, inputs),
        no_new_privileges=spec.no_new_privileges,
        oom_score_adj=spec.oom_score_adj,
    )
    linux = Linux(
        namespaces=_namespaces(spec),
        masked_paths=[] if spec.privileged else list(MASKED_PATHS),
        readonly_paths=[] if spec.privileged else list(READONLY_PATHS),
        seccomp=_seccomp(spec, caps),
        resources=spec.resources.copy(),
        sysctl=dict(spec.sysctls),
    )
    return Spec(
        process=process,
        root_path="rootfs",
        root_readonly=spec.read_only,
        hostname="" if spec.uts == "host" else hostname,  # runc refuses one then
        mounts=default_mounts(spec, inputs),
        linux=linux,
        annotations={**spec.annotations, "io.pycontainer.id": inputs.container_id},
    )


def _rlimits(spec: ContainerSpec, inputs: SpecInputs) -> list[Rlimit]:
    limits = [parse_ulimit(x) for x in spec.ulimits]
    if inputs.nofile_hard and not any(r.type == "RLIMIT_NOFILE" for r in limits):
        limits.append(Rlimit("RLIMIT_NOFILE", inputs.nofile_hard, inputs.nofile_hard))
    return limits


def _namespaces(spec: ContainerSpec) -> list[Namespace]:
    # The user namespace is not listed: pyc creates it (with the subuid mapping) before the
    # runtime runs, as Podman does for rootless runc.
    # --pid/--ipc/--uts host: no namespace of its own (the launcher's is the host's);
    # container:NAME: listed here, its path is filled in at start (ops.nsjoin).
    kinds = [k for k, mode in (("pid", spec.pid), ("ipc", spec.ipc), ("uts", spec.uts))
             if mode != "host"]
    kinds.append("mount")
    if spec.network != "host":
        kinds.append("network")
    return [Namespace(k) for k in kinds]


#: Docker's namespaced sysctls (moby opts.ValidateSysctl): the IPC ones, and net.* with a
#: network namespace of its own
SYSCTL_IPC = ("kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
              "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced")


def check_sysctls(values: list[str], network: str, ipc: str, uts: str) -> dict[str, str]:
    """`--sysctl k=v` as Docker validates it: only namespaced keys, and only when the
    container has that namespace of its own."""
    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"invalid argument \"{item}\" for \"--sysctl\" flag: "
                             "sysctl must be in the format key=value")
        key = key.strip().replace("/", ".")
        if key in SYSCTL_IPC or key.startswith("fs.mqueue."):
            if ipc == "host":
                raise UsageError(f"sysctl \"{key}\" not allowed in host IPC namespace")
        elif key.startswith("net."):
            if network == "host":
                raise UsageError(f"sysctl \"{key}\" not allowed in host network namespace")
            if network.startswith("container:"):
                raise UsageError(f"sysctl \"{key}\" not allowed with --network container:")
        elif key in ("kernel.domainname", "kernel.hostname"):
            if uts == "host":
                raise UsageError(f"sysctl \"{key}\" not allowed in host UTS namespace")
        else:
            raise UsageError(f"sysctl \"{key}\" is not whitelisted")
        out[key] = value
    return out


def _seccomp(spec: ContainerSpec, caps: list[str]) -> SeccompJSON | None:
    if spec.privileged or spec.seccomp == "unconfined":
        return None
    if spec.seccomp_profile is not None:
        return spec.seccomp_profile
    return default_seccomp(caps)


def default_mounts(spec: ContainerSpec, inputs: SpecInputs) -> list[Mount]:
    mounts = [
        Mount("/proc", "proc", "proc", ["nosuid", "noexec", "nodev"]),
        Mount("/dev", "tmpfs", "tmpfs", ["nosuid", "strictatime", "mode=755", "size=65536k"]),
    ]
    pts = ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]
    if not inputs.single_id_mapping:
        pts.append("gid=5")  # tty group: mapped only with a subordinate range
    mounts.append(Mount("/dev/pts", "devpts", "devpts", pts))
    shm = spec.shm_size or 64 << 20
    if spec.ipc == "host":
        # Docker bind-mounts the host's /dev/shm (and Podman its /dev/mqueue) into the
        # container sharing the host's IPC namespace
        mounts.append(Mount("/dev/shm", "bind", "/dev/shm", ["rbind", "nosuid", "noexec",
                                                              "nodev"]))
        if os.path.isdir("/dev/mqueue"):  # a new mqueue fs needs the IPC ns's owner
            mounts.append(Mount("/dev/mqueue", "bind", "/dev/mqueue", ["rbind", "nosuid",
                                                                        "noexec", "nodev"]))
    else:
        if spec.ipc != "none":
            mounts.append(Mount("/dev/shm", "tmpfs", "shm", ["nosuid", "noexec", "nodev",
                                                             "mode=1777", f"size={shm}"]))
        mounts.append(Mount("/dev/mqueue", "mqueue", "mqueue", ["nosuid", "noexec", "nodev"]))
    if spec.pid == "host":
        # a procfs of the host's pid namespace cannot be mounted from a user namespace:
        # Podman (rootless) bind-mounts the host's /proc
        mounts[0] = Mount("/proc", "bind", "/proc", ["rbind", "nosuid", "noexec", "nodev"])
    if spec.network == "host":
        # sysfs can only be mounted by the owner of the network namespace.
        mounts.append(Mount("/sys", "bind", "/sys", ["rbind", "nosuid", "noexec", "nodev", "ro"]))
    else:
        mounts.append(Mount("/sys", "sysfs", "sysfs", ["nosuid", "noexec", "nodev", "ro"]))
    system = len(mounts)  # /proc, /dev..., /sys: always first, in this order
    for dest, src in inputs.etc_files.items():
        mounts.append(Mount(dest, "bind", src, ["bind", "nosuid", "noexec", "nodev"]))
    for dest, opts in spec.tmpfs.items():
        extra = [o for o in opts.split(",") if o] if opts else []
        base = ["nosuid", "nodev"] + ([] if "exec" in extra else ["noexec"])
        mounts.append(Mount(dest, "tmpfs", "tmpfs", base + [o for o in extra if o != "exec"]))
    for d in spec.devices:
        # rootless: the host's node bind-mounted (a user namespace cannot mknod), as Podman
        dev_opts = ["bind", "nosuid", "noexec"] + ([] if "w" in d.get("perms", "rwm") else ["ro"])
        mounts.append(Mount(d["dest"], "bind", d["path"], dev_opts))
    if spec.init and inputs.init_binary:
        mounts.append(Mount(INIT_PATH, "bind", inputs.init_binary, ["bind", "ro"]))
    for m in spec.mounts:
        mounts.append(Mount.from_dict(m))
    # Parents before children, as Docker sorts them: /etc/hosts must go on top of a volume
    # mounted at /etc, not under it. The sort is stable: at equal depth a user's mount still
    # comes after pyc's own (and wins).
    ordered = sorted(mounts[system:], key=lambda m: m.destination.rstrip("/").count("/"))
    return mounts[:system] + ordered
