"""What each instruction does to the image config, and how `history` describes it.

Pure functions on the OCI image config (a dict: architecture, os, config, rootfs, history).
The CREATED BY texts follow Docker's classic builder (`/bin/sh -c #(nop)  CMD ["sh"]`), and
BuildKit's for RUN (`RUN /bin/sh -c apt-get ...`), which is what `docker history` shows.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import TYPE_CHECKING

from pycontainer.build.dockerfile import Instruction, health_config

if TYPE_CHECKING:
    from pycontainer.oci.imagespec import HistoryEntry, ImageConfig, RunConfig

NOP = "/bin/sh -c #(nop) "
DEFAULT_SHELL = ["/bin/sh", "-c"]


def config_bytes(config: ImageConfig) -> bytes:
    """The canonical serialisation: its sha256 is the image id."""
    return json.dumps(config, separators=(",", ":"), sort_keys=True).encode()


def config_id(config: ImageConfig) -> str:
    return "sha256:" + hashlib.sha256(config_bytes(config)).hexdigest()


def go_list(items: list[str]) -> str:
    """Docker's rendering of a list in history: ["a" "b"]."""
    return "[" + " ".join(json.dumps(i) for i in items) + "]"


def inner(config: ImageConfig) -> RunConfig:
    return config.setdefault("config", {})


def shell_of(config: ImageConfig) -> list[str]:
    return list(inner(config).get("Shell") or DEFAULT_SHELL)


def command(inst: Instruction, config: ImageConfig) -> list[str]:
    """CMD / ENTRYPOINT / RUN as argv: exec form as written, shell form via SHELL."""
    if inst.json_form:
        return list(inst.args)
    return [*shell_of(config), inst.args[0] if inst.args else ""]


def set_env(env: list[str], key: str, value: str) -> list[str]:
    return [e for e in env if e.split("=", 1)[0] != key] + [f"{key}={value}"]


def env_dict(config: ImageConfig) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in inner(config).get("Env") or []:
        key, _, value = item.partition("=")
        out[key] = value
    return out


def _env(c: RunConfig, inst: Instruction) -> str:
    env = list(c.get("Env") or [])
    for key, value in inst.pairs:
        env = set_env(env, key, value or "")
    c["Env"] = env
    return "ENV " + " ".join(f"{k}={v}" for k, v in inst.pairs)


def _label(c: RunConfig, inst: Instruction) -> str:
    labels = dict(c.get("Labels") or {})
    for key, value in inst.pairs:
        labels[key] = value or ""
    c["Labels"] = labels
    return "LABEL " + " ".join(f"{k}={v}" for k, v in inst.pairs)


def _expose(c: RunConfig, inst: Instruction) -> str:
    ports = dict(c.get("ExposedPorts") or {})
    for port in inst.args:
        ports[port if "/" in port else f"{port}/tcp"] = {}
    c["ExposedPorts"] = ports
    return "EXPOSE " + " ".join(sorted(ports))


def _volume(c: RunConfig, inst: Instruction) -> str:
    vols = dict(c.get("Volumes") or {})
    for v in inst.args:
        vols[v] = {}
    c["Volumes"] = vols
    return "VOLUME " + go_list(list(inst.args))


def _cmd(c: RunConfig, inst: Instruction, full: ImageConfig) -> str:
    cmd = c["Cmd"] = command(inst, full)
    return "CMD " + go_list(cmd)


def _entrypoint(c: RunConfig, inst: Instruction, full: ImageConfig,
                cmd_set: bool) -> str:
    entrypoint = c["Entrypoint"] = command(inst, full)
    if not cmd_set:
        c["Cmd"] = None  # Docker: a new ENTRYPOINT drops the CMD inherited from the base
    return "ENTRYPOINT " + go_list(entrypoint)


def _user(c: RunConfig, inst: Instruction) -> str:
    c["User"] = inst.args[0]
    return "USER " + inst.args[0]


def _shell(c: RunConfig, inst: Instruction) -> str:
    c["Shell"] = list(inst.args)
    return "SHELL " + go_list(list(inst.args))


def _health(c: RunConfig, inst: Instruction) -> str:
    c["Healthcheck"] = health_config(inst)
    return "HEALTHCHECK &" + json.dumps(c["Healthcheck"], separators=(",", ":"))


def _onbuild(c: RunConfig, inst: Instruction) -> str:
    trigger = inst.args[0] if inst.args else ""
    c["OnBuild"] = list(c.get("OnBuild") or []) + [trigger]
    return "ONBUILD " + trigger


def _stopsignal(c: RunConfig, inst: Instruction) -> str:
    c["StopSignal"] = inst.args[0]
    return "STOPSIGNAL " + inst.args[0]


_SIMPLE = {
    "ENV": _env, "LABEL": _label, "EXPOSE": _expose, "VOLUME": _volume,
    "USER": _user, "STOPSIGNAL": _stopsignal, "SHELL": _shell,
    "HEALTHCHECK": _health, "ONBUILD": _onbuild,
    "MAINTAINER": lambda c, i: "MAINTAINER " + i.args[0],
}
METADATA = frozenset({*_SIMPLE, "CMD", "ENTRYPOINT", "ARG"})


def apply_metadata(config: ImageConfig, inst: Instruction,
                   cmd_set: bool = False) -> tuple[ImageConfig, str]:
    """A new config with `inst` (already expanded) applied, and its CREATED BY text;
    `cmd_set`: this stage already has a CMD of its own."""
    new = copy.deepcopy(config)
    c = inner(new)
    if inst.keyword == "CMD":
        text = _cmd(c, inst, new)
    elif inst.keyword == "ENTRYPOINT":
        text = _entrypoint(c, inst, new, cmd_set)
    elif inst.keyword == "MAINTAINER":
        new["author"] = inst.args[0]
        text = "MAINTAINER " + inst.args[0]
    else:
        text = _SIMPLE[inst.keyword](c, inst)
    return new, NOP + " " + text


def set_workdir(config: ImageConfig, path: str) -> tuple[ImageConfig, str]:
    new = copy.deepcopy(config)
    inner(new)["WorkingDir"] = path
    return new, f"{NOP}WORKDIR {path}"


def add_history(config: ImageConfig, created: str, created_by: str,
                diff_id: str | None, comment: str = "") -> ImageConfig:
    """A new config with one history entry and the diff id of its layer (None: the step
    made no layer)."""
    new = copy.deepcopy(config)
    entry: HistoryEntry = {"created": created, "created_by": created_by}
    if comment:
        entry["comment"] = comment
    if diff_id is None:
        entry["empty_layer"] = True
    else:
        rootfs = new.setdefault("rootfs", {"type": "layers", "diff_ids": []})
        rootfs["diff_ids"] = [*rootfs.get("diff_ids", []), diff_id]
    new["history"] = [*new.get("history", []), entry]
    new["created"] = created
    return new


def new_config(platform_os: str, arch: str, variant: str | None = None) -> ImageConfig:
    """The config of `FROM scratch`."""
    cfg: ImageConfig = {"architecture": arch, "os": platform_os,
                           "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:"
                                              "/usr/bin:/sbin:/bin"]},
                           "rootfs": {"type": "layers", "diff_ids": []}, "history": []}
    if variant:
        cfg["variant"] = variant
    return cfg
