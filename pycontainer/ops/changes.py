"""`--change` for `pyc import` / `pyc commit`: Dockerfile instructions applied to a config."""

from __future__ import annotations

import json
import shlex
from typing import TYPE_CHECKING

from pycontainer.errors import UsageError

if TYPE_CHECKING:
    from pycontainer.oci.imagespec import ImageConfig, RunConfig

SUPPORTED = ("CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "USER", "VOLUME", "WORKDIR",
             "STOPSIGNAL")


def _json_or_shell(value: str) -> list[str]:
    value = value.strip()
    if value.startswith("["):
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(x, str) for x in parsed):
            return parsed
    return ["/bin/sh", "-c", value]


def _pairs(value: str, what: str) -> list[tuple[str, str]]:
    words = shlex.split(value)
    if len(words) == 2 and "=" not in words[0]:  # legacy `ENV key value`
        return [(words[0], words[1])]
    out = []
    for w in words:
        if "=" not in w:
            raise UsageError(f"invalid {what} {value!r}: expected key=value")
        k, _, v = w.partition("=")
        out.append((k, v))
    return out


def apply(config: ImageConfig, changes: list[str]) -> ImageConfig:
    """Apply each change (e.g. `CMD ["sh"]`, `ENV A=b`) to the image config's `config`."""
    c = config.setdefault("config", {})
    for change in changes:
        word, _, value = change.strip().partition(" ")
        if "=" in word and not value:  # `CMD=["sh"]` style, as some tools write it
            word, _, value = change.strip().partition("=")
        word = word.upper()
        if word not in SUPPORTED:
            raise UsageError(f"{word} is not a valid change command")
        _apply_one(c, word, value.strip())
    return config


def _apply_one(c: RunConfig, word: str, value: str) -> None:
    if word == "CMD":
        c["Cmd"] = _json_or_shell(value)
    elif word == "ENTRYPOINT":
        c["Entrypoint"] = _json_or_shell(value)
    elif word == "ENV":
        env = [e for e in c.get("Env") or []]
        for k, v in _pairs(value, "ENV"):
            env = [e for e in env if e.split("=", 1)[0] != k] + [f"{k}={v}"]
        c["Env"] = env
    elif word == "LABEL":
        c.setdefault("Labels", {}).update(dict(_pairs(value, "LABEL")))
    elif word == "EXPOSE":
        ports = c.setdefault("ExposedPorts", {})
        for p in value.split():
            ports[p if "/" in p else f"{p}/tcp"] = {}
    elif word == "VOLUME":
        vols = c.setdefault("Volumes", {})
        for v in _json_or_shell(value) if value.startswith("[") else value.split():
            vols[v] = {}
    elif word == "USER":
        c["User"] = value
    elif word == "WORKDIR":
        c["WorkingDir"] = value
    elif word == "STOPSIGNAL":
        c["StopSignal"] = value
