"""What each instruction does to the image config, and how `history` describes it.

Pure functions on the OCI image config (a dict: architecture, os, config, rootfs, history).
The CREATED BY texts follow Docker's classic builder (`/bin/sh -c #(nop)  CMD ["sh"]`), and
BuildKit's for RUN (`RUN /bin/sh -c apt-get ...`), which is what `docker history` shows.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from pycontainer.build.dockerfile import Instruction, health_config

NOP = "/bin/sh -c #(nop) "
DEFAULT_SHELL = ["/bin/sh", "-c"]


def config_bytes(config: dict[str, Any]) -> bytes:
    """The canonical serialisation: its sha256 is the image id."""
    return json.dumps(config, separators=(",", ":"), sort_keys=True).encode()


def config_id(config: dict[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(config_bytes(config)).hexdigest()


def go_list(items: list[str]) -> str:
    """Docker's rendering of a list in history: ["a" "b"]."""
    return "[" + " ".join(json.dumps(i) for i in items) + "]"


def inner(config: dict[str, Any]) -> dict[str, Any]:
    return config.setdefault("config", {})


def shell_of(config: dict[str, Any]) -> list[str]:
    return list(inner(config).get("Shell") or DEFAULT_SHELL)


def command(inst: Instruction, config: dict[str, Any]) -> list[str]:
    """CMD / ENTRYPOINT / RUN as argv: exec form as written, shell form via SHELL."""
    if inst.json_form:
        return list(inst.args)
    return [*shell_of(config), inst.args[0] if inst.args else ""]


def set_env(env: list[str], key: str, value: str) -> list[str]:
    return [e for e in env if e.split("=", 1)[0] != key] + [f"{key}={value}"]


def env_dict(config: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in inner(config).get("Env") or []:
        key, _, value = item.partition("=")
        out[key] = value
    return out


def _env(c: dict[str, Any], inst: Instruction) -> str:
    env = list(c.get("Env") or [])
    for key, value in inst.pairs:
        env = set_env(env, key, value or "")
    c["Env"] = env
    return "ENV " + " ".join(f"{k}={v}" for k, v in inst.pairs)


def _label(c: dict[str, Any], inst: Instruction) -> str:
    labels = dict(c.get("Labels") or {})
    for key, value in inst.pairs:
        labels[key] = value or ""
    c["Labels"] = labels
    return "LABEL " + " ".join(f"{k}={v}" for k, v in inst.pairs)


def _expose(c: dict[str, Any], inst: Instruction) -> str:
    ports = dict(c.get("ExposedPorts") or {})
    for port in inst.args:
        ports[port if "/" in port else f"{port}/tcp"] = {}
    c["ExposedPorts"] = ports
    return "EXPOSE " + " ".join(sorted(ports))


def _volume(c: dict[str, Any], inst: Instruction) -> str:
    vols = dict(c.get("Volumes") or {})
    for v in inst.args:
        vols[v] = {}
    c["Volumes"] = vols
    return "VOLUME " + go_list(list(inst.args))


def _cmd(c: dict[str, Any], inst: Instruction, full: dict[str, Any]) -> str:
    c["Cmd"] = command(inst, full)
    return "CMD " + go_list(c["Cmd"])


def _entrypoint(c: dict[str, Any], inst: Instruction, full: dict[str, Any],
                cmd_set: bool) -> str:
    c["Entrypoint"] = command(inst, full)
    if not cmd_set:
        c["Cmd"] = None  # Docker: a new ENTRYPOINT drops the CMD inherited from the base
    return "ENTRYPOINT " + go_list(c["Entrypoint"])


def _simple(key: str, word: str) -> Any:
    def apply(c: dict[str, Any], inst: Instruction) -> str:
        c[key] = inst.args[0]
        return f"{word} {inst.args[0]}"

    return apply


def _shell(c: dict[str, Any], inst: Instruction) -> str:
    c["Shell"] = list(inst.args)
    return "SHELL " + go_list(list(inst.args))


def _health(c: dict[str, Any], inst: Instruction) -> str:
    c["Healthcheck"] = health_config(inst)
    return "HEALTHCHECK &" + json.dumps(c["Healthcheck"], separators=(",", ":"))


def _onbuild(c: dict[str, Any], inst: Instruction) -> str:
    trigger = inst.args[0] if inst.args else ""
    c["OnBuild"] = list(c.get("OnBuild") or []) + [trigger]
    return "ONBUILD " + trigger


def _stopsignal(c: dict[str, Any], inst: Instruction) -> str:
    c["StopSignal"] = inst.args[0]
    return "STOPSIGNAL " + inst.args[0]


_SIMPLE = {
    "ENV": _env, "LABEL": _label, "EXPOSE": _expose, "VOLUME": _volume,
    "USER": _simple("User", "USER"), "STOPSIGNAL": _stopsignal, "SHELL": _shell,
    "HEALTHCHECK": _health, "ONBUILD": _onbuild,
    "MAINTAINER": lambda c, i: "MAINTAINER " + i.args[0],
}
METADATA = frozenset({*_SIMPLE, "CMD", "ENTRYPOINT", "ARG"})


def apply_metadata(config: dict[str, Any], inst: Instruction,
                   cmd_set: bool = False) -> tuple[dict[str, Any], str]:
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


def set_workdir(config: dict[str, Any], path: str) -> tuple[dict[str, Any], str]:
    new = copy.deepcopy(config)
    inner(new)["WorkingDir"] = path
    return new, f"{NOP}WORKDIR {path}"


def add_history(config: dict[str, Any], created: str, created_by: str,
                layer: dict[str, Any] | None, diff_id: str | None,
                comment: str = "") -> dict[str, Any]:
    """A new config with one history entry (and the layer's diff id, when there is one)."""
    new = copy.deepcopy(config)
    entry: dict[str, Any] = {"created": created, "created_by": created_by}
    if comment:
        entry["comment"] = comment
    if layer is None:
        entry["empty_layer"] = True
    else:
        rootfs = new.setdefault("rootfs", {"type": "layers", "diff_ids": []})
        rootfs["diff_ids"] = [*rootfs.get("diff_ids", []), diff_id]
    new["history"] = [*new.get("history", []), entry]
    new["created"] = created
    return new


def new_config(platform_os: str, arch: str, variant: str | None = None) -> dict[str, Any]:
    """The config of `FROM scratch`."""
    cfg: dict[str, Any] = {"architecture": arch, "os": platform_os,
                           "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:"
                                              "/usr/bin:/sbin:/bin"]},
                           "rootfs": {"type": "layers", "diff_ids": []}, "history": []}
    if variant:
        cfg["variant"] = variant
    return cfg
