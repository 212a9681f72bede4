"""The normalised model, as `docker compose config` prints it (compose-go's types): keys
sorted, `networks: {default: null}` for a service on no network, ports, volumes and
`depends_on` in their long forms, environment and labels as mappings, durations as Go
prints them, sizes in bytes, the project's networks and volumes with their names."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from pycontainer.compose import dotenv
from pycontainer.compose.loader import Project
from pycontainer.compose.merge import as_map
from pycontainer.errors import ComposeError, UsageError

_DURATIONS = ("interval", "timeout", "start_period", "start_interval")
_SIZES = ("mem_limit", "shm_size", "memory")


def model(project: Project) -> dict[str, Any]:
    tree = project.tree
    services = {n: service(n, s, project) for n, s in sorted(tree["services"].items())}
    out: dict[str, Any] = {"name": project.name, "services": services}
    networks = _resources(tree.get("networks") or {}, project.name)
    if any("default" in (s.get("networks") or {}) for s in services.values()):
        networks.setdefault("default", {"name": f"{project.name}_default"})
    if networks:
        out["networks"] = dict(sorted(networks.items()))
    volumes = _resources(tree.get("volumes") or {}, project.name)
    if volumes:
        out["volumes"] = volumes
    for key in ("secrets", "configs"):
        if tree.get(key):
            out[key] = _files(tree[key], project)
    out.update({k: v for k, v in tree.items() if k.startswith("x-")})
    return out


def _resources(items: dict[str, Any], project: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, spec in sorted(items.items()):
        spec = dict(spec or {})
        external = spec.get("external")
        if isinstance(external, dict):  # the old `external: {name: x}`
            spec["name"], spec["external"] = external.get("name", key), True
        elif external:
            spec.setdefault("name", key)
        else:
            spec.pop("external", None)
            spec.setdefault("name", f"{project}_{key}")
        if "labels" in spec:
            spec["labels"] = as_map("labels", spec["labels"])
        out[key] = dict(sorted(spec.items()))
    return out


def _files(items: dict[str, Any], project: Project) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, spec in sorted(items.items()):
        spec = dict(spec)
        if "file" in spec:
            spec["file"] = str(project.working_dir / spec["file"])
        spec.setdefault("name", f"{project.name}_{key}")
        out[key] = dict(sorted(spec.items()))
    return out


def service(name: str, svc: dict[str, Any], project: Project) -> dict[str, Any]:
    out = dict(svc)
    workdir = project.working_dir
    for key in ("command", "entrypoint"):
        if isinstance(out.get(key), str):
            out[key] = shlex.split(out[key])
    env = _environment(out, project)
    if env is not None:
        out["environment"] = env
    out.pop("env_file", None)
    for key in ("labels", "extra_hosts"):
        if key in out:
            out[key] = as_map(key, out[key])
    if "extra_hosts" in out:
        out["extra_hosts"] = [f"{h}={ip}" for h, ip in out["extra_hosts"].items()]
    if "build" in out:
        out["build"] = _build(out["build"], workdir)
    if "ports" in out:
        out["ports"] = [p for port in out["ports"] for p in ports(port)]
    if "expose" in out:
        out["expose"] = [str(e) for e in out["expose"]]
    if "volumes" in out:
        out["volumes"] = [volume(v, workdir) for v in out["volumes"]]
    if "depends_on" in out:
        out["depends_on"] = _depends_on(out["depends_on"])
    if "network_mode" not in out:
        out["networks"] = dict(sorted(as_map("networks", out.get("networks"))
                                      .items())) or {"default": None}
    if "healthcheck" in out:
        out["healthcheck"] = _healthcheck(out["healthcheck"])
    if "stop_grace_period" in out:
        out["stop_grace_period"] = duration(out["stop_grace_period"], f"{name}.stop_grace_period")
    for key in ("dns", "tmpfs"):
        if isinstance(out.get(key), str):
            out[key] = [out[key]]
    for key in _SIZES:
        if key in out:
            out[key] = size(out[key])
    if "deploy" in out:
        out["deploy"] = _deploy(out["deploy"])
    return dict(sorted(out.items()))


def _environment(svc: dict[str, Any], project: Project) -> dict[str, Any] | None:
    if "environment" not in svc and "env_file" not in svc:
        return None
    env: dict[str, Any] = {}
    files = svc.get("env_file") or []
    for item in [files] if isinstance(files, str) else files:
        spec = {"path": item} if isinstance(item, str) else item
        path = project.working_dir / spec["path"]
        if not path.is_file():
            if spec.get("required", True):
                raise ComposeError(f"env file {path} not found")
            continue
        env.update(dotenv.parse(path.read_text(), str(path)))
    for key, value in as_map("environment", svc.get("environment")).items():
        if value is None:  # `- NAME`: the value from pyc's own environment, if set
            value = project.environment.get(key)
        env[key] = None if value is None else _text(value)
    return dict(sorted(env.items()))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _build(build: Any, workdir: Path) -> dict[str, Any]:
    out = {"context": build} if isinstance(build, str) else dict(build)
    context = out.get("context", ".")
    if "://" not in context:
        out["context"] = str((workdir / context).resolve())
    out.setdefault("dockerfile", "Dockerfile")
    for key in ("args", "labels"):
        if key in out:
            out[key] = {k: None if v is None else _text(v)
                        for k, v in sorted(as_map(key, out[key]).items())}
    return dict(sorted(out.items()))


def ports(port: Any) -> list[dict[str, Any]]:
    """One port entry in the long syntax (a short range is one entry per port)."""
    if isinstance(port, dict):
        long = {"mode": "ingress", **port, "protocol": port.get("protocol", "tcp")}
        if "published" in long:
            long["published"] = str(long["published"])
        long["target"] = int(long["target"])
        return [_port_order(long)]
    text = str(port)
    text, _, protocol = text.partition("/")
    host_ip, published, target = "", "", text
    if text.count(":") >= 1:
        head, _, target = text.rpartition(":")
        host_ip, _, published = head.rpartition(":")
        host_ip = host_ip.strip("[]")
    targets, publishes = _range(target, str(port)), _range(published, str(port))
    out: list[dict[str, Any]] = []
    for i, tgt in enumerate(targets):
        entry: dict[str, Any] = {"mode": "ingress", "target": tgt, "protocol": protocol or "tcp"}
        if host_ip:
            entry["host_ip"] = host_ip
        if publishes:
            entry["published"] = (str(publishes[i]) if len(publishes) == len(targets)
                                  else f"{publishes[0]}-{publishes[-1]}")
        out.append(_port_order(entry))
    return out


def _range(text: str, port: str) -> list[int]:
    if not text:
        return []
    low, _, high = text.partition("-")
    try:
        first, last = int(low), int(high or low)
    except ValueError:
        raise ComposeError(f"invalid port {port!r}") from None
    return list(range(first, last + 1))


def _port_order(entry: dict[str, Any]) -> dict[str, Any]:
    # compose-go's ServicePortConfig field order
    keys = ("name", "mode", "host_ip", "target", "published", "protocol", "app_protocol")
    return {k: entry[k] for k in keys if k in entry}


def volume(spec: Any, workdir: Path) -> dict[str, Any]:
    """One service volume in the long syntax; relative bind sources made absolute."""
    if isinstance(spec, dict):
        out = dict(spec)
    else:
        parts = str(spec).split(":")
        if len(parts) == 1:
            out = {"type": "volume", "target": parts[0]}
        else:
            source, target = parts[0], parts[1]
            bind = source.startswith((".", "/", "~"))
            out = {"type": "bind" if bind else "volume", "source": source, "target": target}
            options = parts[2].split(",") if len(parts) > 2 else []
            if "ro" in options:
                out["read_only"] = True
            if bind:
                out["bind"] = {"create_host_path": True}
            else:
                out["volume"] = {}
    if out.get("type") == "bind" and "source" in out:
        out["source"] = str((workdir / Path(out["source"]).expanduser()).resolve())
    if out.get("type") == "volume" and "volume" not in out:
        out["volume"] = {}
    keys = ("type", "source", "target", "read_only", "consistency", "bind", "volume", "tmpfs")
    return {k: out[k] for k in keys if k in out}


def _depends_on(value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, how in sorted(as_map("depends_on", value).items()):
        how = how or {}
        entry: dict[str, Any] = {"condition": how.get("condition", "service_started")}
        if how.get("restart"):
            entry["restart"] = True
        entry["required"] = how.get("required", True)
        out[name] = entry
    return out


def _healthcheck(check: dict[str, Any]) -> dict[str, Any]:
    out = dict(check)
    if isinstance(out.get("test"), str):
        out["test"] = ["CMD-SHELL", out["test"]]
    for key in _DURATIONS:
        if key in out:
            out[key] = duration(out[key], f"healthcheck.{key}")
    return dict(sorted(out.items()))


def duration(text: Any, where: str) -> str:
    from pycontainer.formats.durations import format_duration, parse_duration

    try:
        return format_duration(parse_duration(str(text)))
    except UsageError:
        raise ComposeError(f"{where}: invalid duration {text!r}") from None


def size(value: Any) -> str:
    """compose-go's UnitBytes: a byte count (printed as a string)."""
    from pycontainer.formats.units import ram_in_bytes

    if isinstance(value, int):
        return str(value)
    try:
        return str(ram_in_bytes(str(value)))
    except UsageError:
        raise ComposeError(f"invalid size {value!r}") from None


def _deploy(deploy: dict[str, Any]) -> dict[str, Any]:
    out = dict(deploy)
    limits = (out.get("resources") or {}).get("limits") or {}
    if "memory" in limits:
        out["resources"] = {**out["resources"], "limits": {**limits,
                                                           "memory": size(limits["memory"])}}
    return out
