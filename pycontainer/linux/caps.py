"""Linux capabilities: names and numbers, Docker's default set, and applying a set with capset.

The kernel keeps five sets per process; a container process gets the OCI spec's
`process.capabilities` (bounding, effective, permitted, inheritable, ambient).
"""

from __future__ import annotations

import ctypes
import os

from pycontainer.errors import UsageError
from pycontainer.linux import syscalls

NAMES = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
]

#: Docker's (and Podman's historical) default set: CapEff 00000000a80425fb.
DEFAULT = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
)

_LINUX_CAPABILITY_VERSION_3 = 0x20080522


def last_cap() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except (OSError, ValueError):
        return len(NAMES) - 1


def all_caps() -> list[str]:
    return ["CAP_" + n for n in NAMES[: last_cap() + 1]]


def normalize(name: str) -> str:
    """`net_admin`, `NET_ADMIN` or `CAP_NET_ADMIN` -> `CAP_NET_ADMIN`; `ALL` stays."""
    up = name.strip().upper()
    if up == "ALL":
        return up
    if not up.startswith("CAP_"):
        up = "CAP_" + up
    if up[4:] not in NAMES:
        raise UsageError(f"unknown capability: {name!r}")
    return up


def number(name: str) -> int:
    return NAMES.index(name.removeprefix("CAP_"))


def resolve(add: list[str], drop: list[str], privileged: bool = False) -> list[str]:
    """Docker's rule: start from the default (or all when privileged), drop, then add."""
    adds = [normalize(c) for c in add]
    drops = [normalize(c) for c in drop]
    base = all_caps() if privileged or "ALL" in adds else list(DEFAULT)
    if "ALL" in drops:
        base = []
    base = [c for c in base if c not in drops]
    for c in adds:
        if c != "ALL" and c not in base:
            base.append(c)
    return base


def mask(names: list[str]) -> int:
    value = 0
    for n in names:
        try:
            value |= 1 << number(n)
        except ValueError:
            continue  # a capability this kernel or table does not know
    return value


class _Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _Data(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def drop_bounding(keep: int) -> None:
    """Remove every capability not in `keep` from the bounding set (needs CAP_SETPCAP)."""
    for n in range(last_cap() + 1):
        if not keep & (1 << n):
            syscalls.prctl(syscalls.PR_CAPBSET_DROP, n)


def capset(effective: int, permitted: int, inheritable: int) -> None:
    header = _Header(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_Data * 2)()
    for i in range(2):
        shift = 32 * i
        data[i].effective = (effective >> shift) & 0xFFFFFFFF
        data[i].permitted = (permitted >> shift) & 0xFFFFFFFF
        data[i].inheritable = (inheritable >> shift) & 0xFFFFFFFF
    res = syscalls.libc().capset(ctypes.byref(header), data)
    if res < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"capset: {os.strerror(err)}")


def set_ambient(caps: int) -> None:
    syscalls.prctl(syscalls.PR_CAP_AMBIENT, syscalls.PR_CAP_AMBIENT_CLEAR_ALL)
    for n in range(last_cap() + 1):
        if caps & (1 << n):
            try:
                syscalls.prctl(syscalls.PR_CAP_AMBIENT, syscalls.PR_CAP_AMBIENT_RAISE, n)
            except OSError:
                continue  # not in permitted+inheritable: the kernel refuses, as runc ignores
