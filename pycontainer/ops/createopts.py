"""Validators shared by the front ends that create containers (`pyc run`/`create` flags and
the Engine API's create body): each turns Docker's text for an option into the value
`ContainerSpec` holds, or raises UsageError with Docker's wording. Imports stay lazy: `pyc
run` loads this module on its fast path."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from pycontainer.errors import UsageError

if TYPE_CHECKING:
    from pycontainer.oci.convert import ContainerSpec
    from pycontainer.oci.specjson import SeccompJSON


def annotation_map(values: list[str]) -> dict[str, str]:
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not key or not sep:
            raise UsageError(f"invalid annotation {item!r}: expected KEY=VALUE")
        out[key] = value
    return out


def tmpfs(values: list[str]) -> dict[str, str]:
    out = {}
    for item in values:
        dest, _, opts = item.partition(":")
        if not dest.startswith("/"):
            raise UsageError(f"invalid --tmpfs {item}: the path must be absolute")
        out[dest] = opts
    return out


def security(values: list[str]) -> tuple[bool, str, SeccompJSON | None]:
    """--security-opt: (no_new_privileges, seccomp, the seccomp profile loaded)."""
    nnp, seccomp = False, "default"
    profile: SeccompJSON | None = None
    for item in values:
        key, sep, value = item.partition("=" if "=" in item else ":")
        if key == "no-new-privileges":
            nnp = value.lower() not in ("false", "0") if sep else True
        elif key == "seccomp" and value == "unconfined":
            seccomp = "unconfined"
        elif key == "seccomp" and value:
            import json

            try:
                with open(value) as f:
                    profile = json.load(f)
            except (OSError, ValueError) as exc:
                raise UsageError(f"opening seccomp profile ({value}) failed: {exc}") from None
            seccomp = value
        elif key in ("label", "apparmor") and value in ("disable", "unconfined"):
            continue  # no SELinux or AppArmor confinement in rootless pyc
        else:
            raise UsageError(f"unsupported --security-opt {item}")
    return nnp, seccomp, profile


def ns_mode(flag: str, value: str | None, allowed: tuple[str, ...]) -> str:
    value = value or ""
    if value in ("", "private") or value in allowed:
        return "" if value == "private" else value
    if value.startswith("container:") and value[len("container:"):]:
        return value
    raise UsageError(f"invalid {flag} mode: {value}")


def namespace_modes(spec: ContainerSpec, pid: str | None, ipc: str | None, uts: str | None) -> None:
    """--pid, --ipc, --uts onto `spec` (a host UTS takes the host's name)."""
    spec.pid = ns_mode("--pid", pid, ("host",))
    spec.ipc = ns_mode("--ipc", ipc, ("host", "none", "shareable"))
    spec.uts = ns_mode("--uts", uts, ("host",))
    if spec.uts.startswith("container:"):
        raise UsageError(f"invalid --uts mode: {spec.uts}")
    if spec.uts == "host":
        if spec.hostname:
            raise UsageError("conflicting options: hostname and the UTS mode")
        spec.hostname = os.uname().nodename  # for HOSTNAME, /etc/hostname and /etc/hosts


def device(text: str) -> dict[str, str]:
    """Docker's --device /dev/x[:/dev/y][:rwm]."""
    parts = text.split(":")
    perms = "rwm"
    if len(parts) > 1 and parts[-1] and set(parts[-1]) <= set("rwm") and \
            not parts[-1].startswith("/"):
        perms = parts.pop()
    if len(parts) > 2 or not parts[0]:
        raise UsageError(f"invalid device specification: {text}")
    src = parts[0]
    dest = parts[1] if len(parts) == 2 and parts[1] else src
    if not src.startswith("/") or not dest.startswith("/"):
        raise UsageError(f"invalid device specification: {text}")
    if not os.path.exists(src):
        raise UsageError(f"error gathering device information while adding custom device "
                         f"\"{src}\": no such file or directory")
    return {"path": os.path.realpath(src), "dest": dest, "perms": perms}


def shm_size(text: str) -> int | None:
    from pycontainer.formats.units import ram_in_bytes

    size = ram_in_bytes(text)
    if size < 0:
        raise UsageError("SHM size can not be less than 0")
    return size or None


def restart_policy(policy: str | None, auto_remove: bool) -> str:
    from pycontainer.ops.restarts import parse_policy

    name, _ = parse_policy(policy)
    if name != "no" and auto_remove:
        raise UsageError("Conflicting options: --restart and --rm")
    return policy or "no"


def attach_record(streams: tuple[str, ...], open_stdin: bool, detach: bool) -> dict[str, bool]:
    """The docker CLI's Config.Attach*/StdinOnce for `run`/`create`: `-a` names the
    streams (none: stdout and stderr), `-i` adds stdin, StdinOnce is OpenStdin and
    AttachStdin, and `run -d` clears all four."""
    stdin = "stdin" in streams or open_stdin
    record = {"AttachStdin": stdin,
              "AttachStdout": "stdout" in streams or not streams,
              "AttachStderr": "stderr" in streams or not streams,
              "StdinOnce": open_stdin and stdin}
    return dict.fromkeys(record, False) if detach else record
