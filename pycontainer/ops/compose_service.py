"""A normalised compose service (`compose.normalize.model`'s) as the `ops.create` options that
`pyc create` and `POST /containers/create` build, with Compose's labels. A key pyc cannot
honour is refused by name (ComposeError), never dropped."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pycontainer.errors import ComposeError
from pycontainer.ops import compose_lookup as names

if TYPE_CHECKING:
    from pycontainer.compose.loader import Options
    from pycontainer.ops.create import CreateOptions
    from pycontainer.ops.limits import LimitFlags
    from pycontainer.ops.mounts import MountRequest
    from pycontainer.ops.netsetup import NetworkRequest
    from pycontainer.paths import Paths

#: service keys read here, or by `up` (build, depends_on, deploy.replicas, pull_policy...)
HANDLED = frozenset((
    "build", "cap_add", "cap_drop", "command", "configs", "container_name", "cpus",
    "depends_on", "deploy", "dns", "entrypoint", "environment", "expose", "extra_hosts",
    "healthcheck", "hostname", "image", "init", "labels", "mem_limit", "network_mode",
    "networks", "pids_limit", "platform", "ports", "privileged", "profiles", "pull_policy",
    "read_only", "restart", "scale", "secrets", "security_opt", "shm_size", "stdin_open",
    "stop_grace_period", "stop_signal", "tmpfs", "tty", "ulimits", "user", "volumes",
    "working_dir",
))
#: what compose-go leaves out of the config hash: changing them recreates nothing
_UNHASHED = ("build", "pull_policy", "scale", "depends_on", "profiles")


@dataclass
class Model:
    """The normalised project (`compose.normalize.model`) and where it came from."""

    name: str
    tree: dict[str, Any]
    working_dir: str
    config_files: list[str]

    def service(self, name: str) -> dict[str, Any]:
        services = self.tree["services"]
        if name not in services:
            raise ComposeError(f"no such service: {name}")
        return dict(services[name])


def load_model(opts: Options) -> Model:
    """Load the project (`pyc compose`'s flags) and normalise it."""
    from pycontainer.compose import loader, normalize

    project = loader.load(opts)
    return Model(project.name, normalize.model(project), str(project.working_dir),
                 list(project.files))


def model_for(paths: Paths, opts: Options) -> Model:
    """The project; without a compose file but with a project name (`-p`,
    COMPOSE_PROJECT_NAME), the project as its containers' labels describe it (Compose v2's
    `down -p NAME`, `ps -p NAME`...): services without configuration."""
    import os

    try:
        return load_model(opts)
    except ComposeError as exc:
        name = opts.project_name or os.environ.get("COMPOSE_PROJECT_NAME")
        if not name or not str(exc).startswith("no configuration file provided"):
            raise
    found = names.members(paths, name, oneoff=True)
    services: dict[str, Any] = {m.service: {} for m in found}
    return Model(name, {"services": services}, "", [])


def image_of(model: Model, name: str) -> str:
    svc = model.service(name)
    if svc.get("image"):
        return str(svc["image"])
    if "build" in svc:
        return f"{model.name}-{name}"  # Compose v2's default image name for a built service
    raise ComposeError(f"service {name!r} has neither an image nor a build context specified: "
                       "invalid compose project")


def config_hash(svc: dict[str, Any]) -> str:
    """compose-go's ServiceHash: sha256 of the service's config without what does not change
    the container (build, pull_policy, scale, deploy.replicas, depends_on, profiles)."""
    data = {k: v for k, v in svc.items() if k not in _UNHASHED}
    if isinstance(data.get("deploy"), dict):
        data["deploy"] = {k: v for k, v in data["deploy"].items() if k != "replicas"}
        if not data["deploy"]:
            del data["deploy"]  # a `deploy:` with replicas alone is the scale only
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def depends_label(svc: dict[str, Any]) -> str:
    """Compose's `service:condition:restart,...`."""
    deps = svc.get("depends_on") or {}
    return ",".join(f"{d}:{how.get('condition', 'service_started')}:"
                    f"{str(bool(how.get('restart'))).lower()}" for d, how in sorted(deps.items()))


def labels(model: Model, name: str, number: int, oneoff: bool, image_id: str) -> dict[str, str]:
    svc = model.service(name)
    out = {str(k): str(v) for k, v in (svc.get("labels") or {}).items()}
    out.update({
        names.PROJECT: model.name, names.SERVICE: name, names.NUMBER: str(number),
        names.ONEOFF: "True" if oneoff else "False", names.CONFIG_HASH: config_hash(svc),
        names.VERSION: names.COMPOSE_VERSION, names.WORKING_DIR: model.working_dir,
        names.CONFIG_FILES: ",".join(model.config_files), names.DEPENDS_ON: depends_label(svc),
        names.IMAGE: image_id,
    })
    return out


def refuse_unsupported(name: str, svc: dict[str, Any]) -> None:
    for key in svc:
        if key not in HANDLED and not key.startswith("x-"):
            raise ComposeError(f"service {name!r}: {key} is not supported by pyc")
    deploy = svc.get("deploy") or {}
    for key in deploy:
        if key not in ("replicas", "resources"):
            raise ComposeError(f"service {name!r}: deploy.{key} is not supported by pyc")
    resources = deploy.get("resources") or {}
    if (resources.get("reservations") or {}).get("cpus") is not None:
        raise ComposeError(f"service {name!r}: deploy.resources.reservations.cpus is not "
                           "supported by pyc")


@dataclass
class Overrides:
    """What `compose run` changes on top of the service."""

    command: list[str] | None = None
    entrypoint: list[str] | None = None
    env: list[str] | None = None
    volumes: list[str] | None = None
    publish: list[str] | None = None
    user: str | None = None
    workdir: str | None = None
    tty: bool | None = None
    interactive: bool | None = None
    auto_remove: bool = False
    service_ports: bool = True
    aliases: bool = True
    #: a recreated container's anonymous volumes by target: the new one mounts them again
    #: (Compose keeps their data unless `up -V`)
    anonymous: dict[str, str] | None = None


def check(model: Model, name: str) -> None:
    """Every refusal `create_options` makes, before anything is pulled, built or made."""
    create_options(model, name, 1, f"{model.name}-{name}-1", "", dry=True)


def create_options(model: Model, name: str, number: int, container: str, image_id: str,
                   oneoff: bool = False, over: Overrides | None = None, dry: bool = False
                   ) -> tuple[CreateOptions, LimitFlags]:
    """The container `<container>` of service `name` as ops.create's options and its limits
    (for `ops.limits.plan`); pulls or builds come before this. `dry`: no bind source is
    made."""
    from pycontainer.oci.convert import ContainerSpec
    from pycontainer.ops import createopts
    from pycontainer.ops.create import CreateOptions

    svc = model.service(name)
    refuse_unsupported(name, svc)
    over = over or Overrides()
    nnp, seccomp, profile = createopts.security([str(s) for s in svc.get("security_opt") or []])
    env = [f"{k}={v}" for k, v in (svc.get("environment") or {}).items() if v is not None]
    entry = svc.get("entrypoint")
    spec = ContainerSpec(
        image=image_of(model, name),
        command=over.command if over.command is not None else _strings(svc.get("command")),
        entrypoint=over.entrypoint if over.entrypoint is not None
        else None if entry is None else _strings(entry),
        env=env + (over.env or []), workdir=over.workdir or svc.get("working_dir"),
        user=over.user or (str(svc["user"]) if "user" in svc else None),
        hostname=svc.get("hostname"),
        labels=labels(model, name, number, oneoff, image_id),
        tty=bool(svc.get("tty")) if over.tty is None else over.tty,
        interactive=bool(svc.get("stdin_open")) if over.interactive is None
        else over.interactive,
        init=bool(svc.get("init")), read_only=bool(svc.get("read_only")),
        tmpfs=createopts.tmpfs([str(t) for t in svc.get("tmpfs") or []]),
        cap_add=list(svc.get("cap_add") or []), cap_drop=list(svc.get("cap_drop") or []),
        privileged=bool(svc.get("privileged")), no_new_privileges=nnp, seccomp=seccomp,
        seccomp_profile=profile, ulimits=_ulimits(svc.get("ulimits") or {}),
        stop_signal=svc.get("stop_signal"), stop_timeout=_stop_timeout(svc),
        auto_remove=over.auto_remove, name=container,
        restart=createopts.restart_policy(None if oneoff else svc.get("restart"),
                                          over.auto_remove),
        healthcheck=_healthcheck(svc.get("healthcheck")),
    )
    if svc.get("shm_size"):
        spec.shm_size = createopts.shm_size(str(svc["shm_size"]))
    mounts = _mounts(model, svc, over.volumes or [], over.anonymous or {}, dry)
    opts = CreateOptions(spec=spec, pull="never", network=_network(model, name, svc, over),
                         volumes=mounts, platform=str(svc.get("platform") or ""))
    return opts, _limits(svc)


def _strings(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def _stop_timeout(svc: dict[str, Any]) -> int | None:
    if "stop_grace_period" not in svc:
        return None
    from pycontainer.formats.durations import parse_duration

    return int(parse_duration(str(svc["stop_grace_period"])) // 1_000_000_000)


def _ulimits(ulimits: dict[str, Any]) -> list[str]:
    out = []
    for key, value in sorted(ulimits.items()):
        if isinstance(value, dict):
            out.append(f"{key}={value.get('soft')}:{value.get('hard')}")
        else:
            out.append(f"{key}={value}:{value}")
    return out


def _healthcheck(check: dict[str, Any] | None) -> dict[str, Any]:
    """Compose's healthcheck as Docker's Healthcheck config (durations in nanoseconds)."""
    from pycontainer.formats.durations import parse_duration

    if not check:
        return {}
    if check.get("disable"):
        return {"Test": ["NONE"]}
    out: dict[str, Any] = {}
    if check.get("test"):
        out["Test"] = [str(t) for t in check["test"]]
    for key, docker in (("interval", "Interval"), ("timeout", "Timeout"),
                        ("start_period", "StartPeriod"), ("start_interval", "StartInterval")):
        if key in check:
            out[docker] = int(parse_duration(str(check[key])))
    if "retries" in check:
        out["Retries"] = int(check["retries"])
    return out


def _limits(svc: dict[str, Any]) -> LimitFlags:
    from pycontainer.ops.limits import LimitFlags

    res = ((svc.get("deploy") or {}).get("resources") or {})
    limits, reserve = res.get("limits") or {}, res.get("reservations") or {}
    memory = svc.get("mem_limit") or limits.get("memory")
    cpus = svc.get("cpus") or limits.get("cpus")
    pids = svc.get("pids_limit") or limits.get("pids")
    return LimitFlags(memory=None if memory is None else str(memory),
                      cpus=None if cpus is None else str(cpus),
                      pids_limit=None if pids is None else str(pids),
                      memory_reservation=None if reserve.get("memory") is None
                      else str(reserve["memory"]))


def _network(model: Model, name: str, svc: dict[str, Any], over: Overrides) -> NetworkRequest:
    from pycontainer.ops.netsetup import NetworkRequest

    req = NetworkRequest(
        publish=over.publish if over.publish is not None
        else [_publish(p) for p in svc.get("ports") or []] if over.service_ports else [],
        expose=[str(e) for e in svc.get("expose") or []],
        dns=[str(d) for d in svc.get("dns") or []],
        add_hosts=[str(h) for h in svc.get("extra_hosts") or []])
    mode = svc.get("network_mode")
    if mode is not None:
        req.networks = [m for m in [_network_mode(model, str(mode))] if m]
        return req
    declared = model.tree.get("networks") or {}
    ips = []
    for key, how in sorted((svc.get("networks") or {}).items()):
        if key not in declared:
            raise ComposeError(f"service {name!r} refers to undefined network {key}: invalid "
                               "compose project")
        how = how or {}
        for field in ("ipv6_address", "priority"):
            if field in how:
                raise ComposeError(f"service {name!r}: networks.{key}.{field} is not "
                                   "supported by pyc")
        req.networks.append(str(declared[key]["name"]))
        req.aliases += [str(a) for a in how.get("aliases") or []]
        if how.get("ipv4_address"):
            ips.append(str(how["ipv4_address"]))
    if len(ips) > 1:
        raise ComposeError(f"service {name!r}: pyc takes one ipv4_address per container")
    req.ip = ips[0] if ips else None
    # Compose: the service name and its aliases resolve on its networks (a one-off `run`
    # container's only with --use-aliases)
    req.aliases = list(dict.fromkeys([name, *req.aliases])) if over.aliases else []
    return req


def _network_mode(model: Model, mode: str) -> str:
    if mode.startswith("service:"):
        return "container:" + names.container_name(model.name, mode[len("service:"):], 1)
    if mode in ("host", "none", "bridge") or mode.startswith("container:"):
        return "" if mode == "bridge" else mode
    raise ComposeError(f"network_mode {mode!r} is not supported by pyc")


def _publish(port: dict[str, Any]) -> str:
    """One long-syntax port as the `-p` text: [host_ip:][published:]target/protocol."""
    for key in ("name", "app_protocol"):
        if key in port:
            raise ComposeError(f"ports.{key} is not supported by pyc")
    if port.get("mode", "ingress") not in ("ingress", "host"):
        raise ComposeError(f"ports.mode {port['mode']!r} is not supported by pyc")
    text = f"{port['target']}/{port.get('protocol', 'tcp')}"
    published = str(port.get("published") or "")
    host_ip = str(port.get("host_ip") or "")
    if ":" in host_ip:
        host_ip = f"[{host_ip}]"
    if host_ip:
        return f"{host_ip}:{published}:{text}"
    return f"{published}:{text}" if published else text


def _mounts(model: Model, svc: dict[str, Any], extra: list[str],
            anonymous: dict[str, str], dry: bool) -> MountRequest:
    from pycontainer.ops.mounts import MountRequest

    out: list[str] = []
    kept = dict(anonymous)
    for vol in svc.get("volumes") or []:
        target = vol.get("target")
        if vol.get("type", "volume") == "volume" and not vol.get("source") and target in kept:
            vol = {**vol, "source": None, "_keep": kept.pop(target)}
        out.append(_mount(model, vol, dry))
    # the image's VOLUMEs (anonymous too) come back at their paths
    out += [f"type=volume,dst={dst},src={name}" for dst, name in sorted(kept.items())]
    for kind, where in (("configs", "/"), ("secrets", "/run/secrets/")):
        for ref in svc.get(kind) or []:
            out.append(_file_mount(model, kind, where, ref))
    return MountRequest(volumes=list(extra), mounts=out)


def _mount(model: Model, vol: dict[str, Any], dry: bool) -> str:
    kind, target = vol.get("type", "volume"), vol["target"]
    parts = [f"type={kind}", f"dst={target}"]
    if vol.get("read_only"):
        parts.append("readonly")
    if kind == "bind":
        bind = vol.get("bind") or {}
        if bind.get("selinux"):
            raise ComposeError("volumes.bind.selinux is not supported by pyc")
        source = Path(vol["source"])
        if bind.get("create_host_path") and not dry and not source.exists():
            source.mkdir(parents=True, exist_ok=True)  # Compose creates a missing bind source
        parts.append(f"src={source}")
        if bind.get("propagation"):
            parts.append(f"bind-propagation={bind['propagation']}")
    elif kind == "volume":
        opts = vol.get("volume") or {}
        if opts.get("subpath"):
            raise ComposeError("volumes.volume.subpath is not supported by pyc")
        if vol.get("_keep"):
            parts.append(f"src={vol['_keep']}")
        elif vol.get("source"):
            parts.append(f"src={_volume_name(model, str(vol['source']))}")
        if opts.get("nocopy"):
            parts.append("volume-nocopy")
    elif kind == "tmpfs":
        tmpfs = vol.get("tmpfs") or {}
        if tmpfs.get("size"):
            parts.append(f"tmpfs-size={tmpfs['size']}")
        if tmpfs.get("mode"):
            parts.append(f"tmpfs-mode={int(tmpfs['mode']):o}")
    else:
        raise ComposeError(f"volume type {kind!r} is not supported by pyc")
    return ",".join(parts)


def _volume_name(model: Model, source: str) -> str:
    declared = model.tree.get("volumes") or {}
    if source not in declared:
        raise ComposeError(f"service refers to undefined volume {source}: invalid compose "
                           "project")
    return str(declared[source]["name"])


def _file_mount(model: Model, kind: str, where: str, ref: object) -> str:
    spec: dict[str, Any] = ({"source": ref} if isinstance(ref, str)
                            else dict(ref) if isinstance(ref, dict) else {})
    source = str(spec.get("source"))
    for key in ("uid", "gid", "mode"):
        if key in spec:
            raise ComposeError(f"{kind}.{key} is not supported by pyc")
    top = (model.tree.get(kind) or {}).get(source)
    if top is None:
        raise ComposeError(f"{kind[:-1]} {source!r} is not defined: invalid compose project")
    if "file" not in top:
        what = next((k for k in ("external", "environment", "content") if k in top), "source")
        raise ComposeError(f"{kind} {source!r}: {what} is not supported by pyc (only file)")
    target = str(spec.get("target") or source)
    if not target.startswith("/"):
        target = where + target
    return f"type=bind,src={top['file']},dst={target},readonly"
