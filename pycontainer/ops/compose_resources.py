"""A compose project's networks and volumes: made with Compose's labels when missing, removed
by `down`; `external: true` ones must exist and are never made nor removed."""

from __future__ import annotations

from typing import Any

from pycontainer.errors import ComposeError
from pycontainer.ops import compose_lookup as names
from pycontainer.ops.compose_service import Model
from pycontainer.paths import Paths


def used_networks(model: Model, services: list[str]) -> list[str]:
    keys: list[str] = []
    for name in services:
        svc = model.service(name)
        if "network_mode" not in svc:
            keys += [k for k in svc.get("networks") or {} if k not in keys]
    return keys


def used_volumes(model: Model, services: list[str]) -> list[str]:
    keys: list[str] = []
    for name in services:
        for vol in model.service(name).get("volumes") or []:
            source = vol.get("source")
            if vol.get("type") == "volume" and source and source not in keys:
                keys.append(str(source))
    return keys


def _labels(model: Model, kind: str, key: str, spec: dict[str, Any]) -> dict[str, str]:
    out = {str(k): str(v) for k, v in (spec.get("labels") or {}).items()}
    out.update({kind: key, names.PROJECT: model.name, names.VERSION: names.COMPOSE_VERSION})
    return out


def ensure_networks(paths: Paths, model: Model, keys: list[str]) -> list[str]:
    """The networks `keys` exist (made when missing); returns the names made."""
    from pycontainer.ops import networks

    made = []
    declared = model.tree.get("networks") or {}
    for key in keys:
        spec = dict(declared.get(key) or {"name": names.resource_name(model.name, key)})
        name = str(spec["name"])
        if networks.exists(paths, name):
            continue
        if spec.get("external"):
            raise ComposeError(f"network {name} declared as external, but could not be found")
        for field in ("enable_ipv6",):
            if spec.get(field):
                raise ComposeError(f"network {key}: {field} is not supported by pyc")
        subnet, gateway = _ipam(key, spec.get("ipam") or {})
        networks.create(paths, name, subnet=subnet, gateway=gateway,
                        internal=bool(spec.get("internal")),
                        labels=_labels(model, names.NETWORK, key, spec),
                        driver=str(spec.get("driver") or "bridge"),
                        options={str(k): str(v) for k, v in
                                 (spec.get("driver_opts") or {}).items()},
                        attachable=bool(spec.get("attachable")))
        made.append(name)
    return made


def _ipam(key: str, ipam: dict[str, Any]) -> tuple[str | None, str | None]:
    if ipam.get("driver") not in (None, "default") or ipam.get("options"):
        raise ComposeError(f"network {key}: ipam driver and options are not supported by pyc")
    configs = ipam.get("config") or []
    if len(configs) > 1:
        raise ComposeError(f"network {key}: pyc takes one ipam config per network")
    if not configs:
        return None, None
    cfg = configs[0]
    for field in ("ip_range", "aux_addresses"):
        if field in cfg:
            raise ComposeError(f"network {key}: ipam.config.{field} is not supported by pyc")
    return cfg.get("subnet"), cfg.get("gateway")


def ensure_volumes(paths: Paths, model: Model, keys: list[str]) -> None:
    from pycontainer.ops import volumes

    declared = model.tree.get("volumes") or {}
    for key in keys:
        spec = dict(declared[key])
        name = str(spec["name"])
        if volumes.exists(paths, name):
            continue
        if spec.get("external"):
            raise ComposeError(f"external volume \"{name}\" not found")
        volumes.create(paths, name, labels=_labels(model, names.VOLUME, key, spec),
                       options={str(k): str(v) for k, v in
                                (spec.get("driver_opts") or {}).items()},
                       driver=str(spec.get("driver") or "local"))


def project_networks(paths: Paths, project: str) -> list[str]:
    """The networks this project made (by its label: external ones have none)."""
    from pycontainer.ops import networks

    found = networks.list_networks(paths, [f"label={names.PROJECT}={project}"])
    return sorted(str(n["Name"]) for n in found)


def project_volumes(paths: Paths, project: str) -> list[str]:
    from pycontainer.ops import volumes

    found = volumes.list_volumes(paths, [f"label={names.PROJECT}={project}"])
    return sorted(str(v["Name"]) for v in found)
