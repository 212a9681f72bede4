"""--log-driver and --log-opt: Docker's json-file options (rotation, attrs), checked at create
and turned into the supervisor's settings at start."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from pycontainer.config import LOG_DRIVERS
from pycontainer.errors import UsageError

if TYPE_CHECKING:
    from pycontainer.containers.model import ContainerConfig
    from pycontainer.jsontypes import JSON

DRIVERS = LOG_DRIVERS
ROTATION = ("max-size", "max-file", "compress")
#: what each driver accepts (Docker's json-file; k8s-file only rotates)
OPTS: dict[str, tuple[str, ...]] = {
    "json-file": (*ROTATION, "labels", "labels-regex", "env", "env-regex", "tag"),
    "k8s-file": ROTATION,
    "none": (),
}


def parse(driver: str, items: list[str]) -> dict[str, str]:
    """Check --log-driver and the --log-opt KEY=VALUE list; the options as a dict."""
    if driver not in DRIVERS:
        raise UsageError(f"unsupported --log-driver {driver} (json-file, k8s-file or none)")
    opts: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"invalid log opt format '{item}'", hint="use --log-opt KEY=VALUE")
        opts[key] = value
    for key in opts:
        if key not in OPTS[driver]:
            raise UsageError(f"unknown log opt '{key}' for {driver} log driver")
    rotation(opts)  # values are checked now, not at start
    for key in ("labels-regex", "env-regex"):
        if key in opts:
            try:
                re.compile(opts[key])
            except re.error as exc:
                raise UsageError(f"invalid log opt {key} '{opts[key]}': {exc}") from None
    if "tag" in opts:
        _tag(opts["tag"], dict.fromkeys(_TAG_FIELDS, ""))
    return opts


_TAG_FIELDS = ("ID", "FullID", "Name", "ImageName", "ImageID", "ImageFullID", "DaemonName")


def rotation(opts: dict[str, str]) -> tuple[int, int, bool]:
    """(max size in bytes or 0 for none, max files, compress)."""
    from pycontainer.formats.units import ram_in_bytes  # Docker: units.RAMInBytes

    size = ram_in_bytes(opts["max-size"]) if opts.get("max-size") else 0
    if "max-size" in opts and size <= 0:
        raise UsageError("max-size must be a positive number")
    files = 1
    if opts.get("max-file"):
        if not opts["max-file"].isdigit() or int(opts["max-file"]) < 1:
            raise UsageError("max-file cannot be less than 1")
        files = int(opts["max-file"])
        if files > 1 and not size:
            raise UsageError("max-file can only be set when max-size is set")
    compress = False
    if "compress" in opts:
        value = opts["compress"].lower()
        if value not in ("true", "false", "1", "0", "t", "f"):
            raise UsageError(f"error reading compress log option: invalid value {opts['compress']}")
        compress = value in ("true", "1", "t")
        if compress and files < 2:
            raise UsageError("compress cannot be true when max-file is less than 2")
    return size, files, compress


def _tag(template: str, info: dict[str, str]) -> str:
    """Docker's log tag: a Go template over the container's info (`{{.Name}}`, `{{.ID}}`)."""
    from types import SimpleNamespace

    from pycontainer.formats import gotemplate  # lazily: only with --log-opt tag=

    try:  # a struct, as Docker's logger.Info: an unknown field is an error
        return gotemplate.render(template, SimpleNamespace(**info))
    except UsageError as exc:
        detail = str(exc).removeprefix("template parsing error: ")
        raise UsageError(f"invalid log tag template: {detail}") from None


def attrs(opts: dict[str, str], labels: dict[str, str], env: list[str],
          info: dict[str, str]) -> dict[str, str]:
    """The extra attributes of each json-file line (Docker's labels, env, tag)."""
    out: dict[str, str] = {}
    wanted = [k for k in opts.get("labels", "").split(",") if k]
    for key in wanted:
        if key in labels:
            out[key] = labels[key]
    if opts.get("labels-regex"):
        rx = re.compile(opts["labels-regex"])
        out.update({k: v for k, v in labels.items() if rx.search(k)})
    env_map: dict[str, str] = {}
    for item in env:
        key, _, value = item.partition("=")
        env_map[key] = value
    for key in [k for k in opts.get("env", "").split(",") if k]:
        if key in env_map:
            out[key] = env_map[key]
    if opts.get("env-regex"):
        rx = re.compile(opts["env-regex"])
        out.update({k: v for k, v in env_map.items() if rx.search(k)})
    if "tag" in opts:
        out["tag"] = _tag(opts["tag"] or "{{.ID}}", info)
    return out


def supervisor_settings(cfg: ContainerConfig) -> JSON:
    """The supervisor's log_opts from a containers.model.ContainerConfig: rotation numbers and
    the attrs as a ready JSON fragment (the supervisor imports no json)."""
    opts: dict[str, str] = dict(getattr(cfg, "log_opts", None) or {})
    if not opts:
        return {}
    size, files, compress = rotation(opts)
    spec = cfg.spec
    env = [*(cfg.image_config.get("Env") or []), *spec.env]
    info = {"ID": cfg.id[:12], "FullID": cfg.id, "Name": cfg.name, "ImageName": cfg.image,
            "ImageID": cfg.image_id.split(":")[-1][:12], "ImageFullID": cfg.image_id,
            "DaemonName": "pyc"}
    extra = attrs(opts, dict(spec.labels), env, info)
    return {"max_size": size, "max_file": files, "compress": compress,
            "attrs": json.dumps(extra, separators=(",", ":")) if extra else ""}


__all__ = ["DRIVERS", "attrs", "parse", "rotation", "supervisor_settings"]
