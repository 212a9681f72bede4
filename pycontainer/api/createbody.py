"""`POST /containers/create`'s body (Docker's Config, HostConfig, NetworkingConfig) as the
`CreateOptions` that `pyc create` builds from its flags, through the same validators
(`ops.createopts`, `ops.limits`, `ops.logopts`, `ops.netsetup`, `ops.mounts`).

Nothing is dropped silently: a field pyc does not implement is refused by name (400) unless
it holds its default (absent, null, zero, empty, or the value Docker's clients send).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pycontainer.api.wire import ApiError
from pycontainer.errors import UsageError

if TYPE_CHECKING:
    from pycontainer.oci.convert import ContainerSpec
    from pycontainer.ops.create import CreateOptions
    from pycontainer.ops.limits import LimitFlags
    from pycontainer.ops.mounts import MountRequest
    from pycontainer.ops.netsetup import NetworkRequest

#: Config fields read here (the rest must be default)
_CONFIG = {"Image", "Cmd", "Entrypoint", "Env", "WorkingDir", "User", "Hostname", "Labels",
           "Tty", "OpenStdin", "StdinOnce", "AttachStdin", "AttachStdout", "AttachStderr",
           "ExposedPorts", "Volumes", "StopSignal", "StopTimeout", "Healthcheck",
           "HostConfig", "NetworkingConfig", "ArgsEscaped", "Domainname", "OnBuild",
           "Shell", "MacAddress", "NetworkDisabled", "Platform"}
#: HostConfig fields read here
_HOST = {"Binds", "Mounts", "PortBindings", "PublishAllPorts", "NetworkMode", "RestartPolicy",
         "AutoRemove", "Memory", "MemorySwap", "MemoryReservation", "NanoCpus", "CpuShares",
         "CpuPeriod", "CpuQuota", "CpusetCpus", "CpusetMems", "PidsLimit", "OomScoreAdj",
         "CapAdd", "CapDrop", "Privileged", "ReadonlyRootfs", "SecurityOpt", "Tmpfs",
         "ShmSize", "Sysctls", "Ulimits", "Dns", "DnsOptions", "DnsSearch", "ExtraHosts",
         "GroupAdd", "IpcMode", "PidMode", "UTSMode", "Init", "LogConfig", "Devices",
         "CgroupParent", "Runtime", "VolumesFrom", "Annotations", "ConsoleSize",
         "UsernsMode", "Isolation", "VolumeDriver", "CgroupnsMode", "MemorySwappiness"}
#: non-empty values clients send for fields pyc does not implement, meaning "the default"
_DEFAULTS: dict[str, tuple[object, ...]] = {
    "MemorySwappiness": (-1,), "Isolation": ("default",), "VolumeDriver": ("local",),
    "CgroupnsMode": ("private", "host"), "UsernsMode": ("host",),
}
_LIMITS = {"Memory": "memory", "MemorySwap": "memory_swap",
           "MemoryReservation": "memory_reservation", "CpuShares": "cpu_shares",
           "CpuPeriod": "cpu_period", "CpuQuota": "cpu_quota", "CpusetCpus": "cpuset_cpus",
           "CpusetMems": "cpuset_mems", "OomScoreAdj": "oom_score_adj"}


def _empty(value: object) -> bool:
    return value in (None, 0, "", False) or value == [] or value == {}


def _refuse_unknown(obj: Mapping[str, object], known: set[str], where: str) -> None:
    for key, value in obj.items():
        if key in known or _empty(value):
            continue
        raise ApiError(400, f"{where}{key} is not supported by pyc (given {value!r})")


def _list(obj: Mapping[str, object], key: str) -> list[str]:
    value = obj.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiError(400, f"{key} must be a list of strings")
    return list(value)


def _dict(obj: Mapping[str, object], key: str) -> dict[str, Any]:
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ApiError(400, f"{key} must be an object")
    return value


def _str(obj: Mapping[str, object], key: str) -> str:
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ApiError(400, f"{key} must be a string")
    return value


def _check_defaults(body: dict[str, Any], host: dict[str, Any]) -> None:
    _refuse_unknown(body, _CONFIG, "")
    _refuse_unknown(host, _HOST, "HostConfig.")
    for key, allowed in _DEFAULTS.items():
        value = host.get(key)
        if not _empty(value) and value not in allowed:
            raise ApiError(400, f"HostConfig.{key} is not supported by pyc (given {value!r})")
    for key in ("Domainname", "MacAddress", "OnBuild", "Shell"):
        if not _empty(body.get(key)):
            raise ApiError(400, f"{key} is not supported by pyc (given {body[key]!r})")
    if body.get("NetworkDisabled"):
        raise ApiError(400, "NetworkDisabled is not supported by pyc: use NetworkMode none")


def _console_size(host: Mapping[str, object]) -> list[int]:
    size = host.get("ConsoleSize")
    if size is None:
        return []
    if not (isinstance(size, list) and len(size) == 2
            and all(isinstance(n, int) and n >= 0 for n in size)):
        raise ApiError(400, f"invalid ConsoleSize {size!r}: expected [height, width]")
    return list(size) if all(size) else []


def create_options(body: dict[str, Any], name: str, platform: str,
                   log_driver: str) -> CreateOptions:
    """The CreateOptions of a create body; UsageError/ApiError (400) for a bad value."""
    from pycontainer.ops.create import CreateOptions

    host = _dict(body, "HostConfig")
    _check_defaults(body, host)
    image = _str(body, "Image")
    if not image:
        raise ApiError(400, "Config cannot be empty in order to create a container")
    spec = _spec(body, host, image, name)
    spec.console_size = _console_size(host)
    log = _dict(host, "LogConfig")
    driver = _str(log, "Type") or log_driver
    from pycontainer.ops import logopts

    log_opts = logopts.parse(driver, [f"{k}={v}" for k, v in _dict(log, "Config").items()])
    if platform:
        from pycontainer.oci.image import Platform

        Platform.parse(platform)
    runtime = _str(host, "Runtime")
    return CreateOptions(spec=spec, runtime=runtime or "builtin", pull="never", log_driver=driver,
                         log_opts=log_opts, network=_network(body, host),
                         volumes=_volumes(body, host), platform=platform)


def _command(body: dict[str, Any]) -> tuple[list[str], list[str] | None]:
    cmd = _list(body, "Cmd")
    if body.get("Entrypoint") is None:
        return cmd, None
    entry = _list(body, "Entrypoint")
    return cmd, [] if entry == [""] else entry


def _spec(body: dict[str, Any], host: dict[str, Any], image: str, name: str) -> ContainerSpec:
    from pycontainer.oci.convert import ContainerSpec
    from pycontainer.ops import createopts

    cmd, entry = _command(body)
    nnp, seccomp, profile = createopts.security(_list(host, "SecurityOpt"))
    auto_remove = bool(host.get("AutoRemove"))
    labels = {str(k): str(v) for k, v in _dict(body, "Labels").items()}
    spec = ContainerSpec(
        image=image, command=cmd, entrypoint=entry, env=_list(body, "Env"),
        workdir=_str(body, "WorkingDir") or None, user=_str(body, "User") or None,
        group_add=_list(host, "GroupAdd"), hostname=_str(body, "Hostname") or None,
        labels=labels, tty=bool(body.get("Tty")), interactive=bool(body.get("OpenStdin")),
        init=bool(host.get("Init")), read_only=bool(host.get("ReadonlyRootfs")),
        tmpfs=createopts.tmpfs([f"{k}:{v}" if v else k for k, v in
                                _dict(host, "Tmpfs").items()]),
        cap_add=_list(host, "CapAdd"), cap_drop=_list(host, "CapDrop"),
        privileged=bool(host.get("Privileged")), no_new_privileges=nnp, seccomp=seccomp,
        seccomp_profile=profile, ulimits=_ulimits(host),
        stop_signal=_str(body, "StopSignal") or None,
        stop_timeout=_int(body, "StopTimeout"), userns=_userns(host),
        auto_remove=auto_remove, name=name,
        restart=createopts.restart_policy(_restart(host), auto_remove),
        healthcheck=_healthcheck(body),
        annotations={str(k): str(v) for k, v in _dict(host, "Annotations").items()},
        attach={k: bool(body.get(k)) for k in ("AttachStdin", "AttachStdout",
                                                "AttachStderr", "StdinOnce")},
    )
    _host_options(spec, host)
    return spec


def _int(obj: Mapping[str, object], key: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise ApiError(400, f"{key} must be an integer")
    return value


def _userns(host: dict[str, Any]) -> str:
    mode = _str(host, "UsernsMode")
    return "" if mode in ("", "host") else mode


def _restart(host: dict[str, Any]) -> str:
    policy = _dict(host, "RestartPolicy")
    name = _str(policy, "Name")
    if name in ("", "no"):
        return "no"
    retries = _int(policy, "MaximumRetryCount") or 0
    return f"{name}:{retries}" if name == "on-failure" and retries else name


def _ulimits(host: dict[str, Any]) -> list[str]:
    out = []
    for item in host.get("Ulimits") or []:
        if not isinstance(item, dict) or not item.get("Name"):
            raise ApiError(400, "Ulimits entries need a Name, Soft and Hard")
        out.append(f"{item['Name']}={int(item.get('Soft') or 0)}:{int(item.get('Hard') or 0)}")
    return out


def _healthcheck(body: dict[str, Any]) -> dict[str, Any]:
    hc = _dict(body, "Healthcheck")
    out: dict[str, Any] = {}
    test = hc.get("Test")
    if test:
        if not isinstance(test, list) or not all(isinstance(t, str) for t in test) or \
                test[0] not in ("NONE", "CMD", "CMD-SHELL"):
            raise ApiError(400, "Healthcheck.Test must be [\"NONE\"], [\"CMD\", ...] or "
                                "[\"CMD-SHELL\", command]")
        out["Test"] = list(test)
    for key in ("Interval", "Timeout", "StartPeriod", "Retries"):
        value = _int(hc, key)
        if value is None or value == 0:
            continue
        if value < 0 or (key != "Retries" and value < 1_000_000):
            raise ApiError(400, f"Healthcheck.{key} cannot be "
                                f"{'negative' if key == 'Retries' else 'less than 1ms'}")
        out[key] = value
    return out


def _host_options(spec: ContainerSpec, host: dict[str, Any]) -> None:
    """Namespaces, /dev/shm, sysctls, devices, the cgroup parent and the limits."""
    from pycontainer.oci.convert import check_sysctls
    from pycontainer.ops import createopts

    createopts.namespace_modes(spec, _str(host, "PidMode"), _str(host, "IpcMode"),
                               _str(host, "UTSMode"))
    shm = _int(host, "ShmSize")
    if shm is not None and shm < 0:
        raise UsageError("SHM size can not be less than 0")
    spec.shm_size = shm or None
    mode = _str(host, "NetworkMode")
    sysctls = [f"{k}={v}" for k, v in _dict(host, "Sysctls").items()]
    spec.sysctls = check_sysctls(sysctls, "" if mode == "default" else mode, spec.ipc,
                                 spec.uts)
    spec.devices = [createopts.device(_device_text(d)) for d in host.get("Devices") or []]
    spec.cgroup_parent = _str(host, "CgroupParent")


def _device_text(d: object) -> str:
    if not isinstance(d, dict) or not d.get("PathOnHost"):
        raise ApiError(400, "Devices entries need a PathOnHost")
    dest = d.get("PathInContainer") or d["PathOnHost"]
    return f"{d['PathOnHost']}:{dest}:{d.get('CgroupPermissions') or 'rwm'}"


def limit_flags(host: dict[str, Any]) -> LimitFlags:
    """HostConfig's limits as `ops.limits.LimitFlags` (0: not set, as Docker reads them)."""
    from pycontainer.ops.limits import LimitFlags

    flags = LimitFlags()
    for key, attr in _LIMITS.items():
        value = host.get(key)
        if not _empty(value):
            setattr(flags, attr, str(value))
    if host.get("NanoCpus"):
        flags.cpus = str(int(host["NanoCpus"]) / 1e9)
    if host.get("PidsLimit"):  # 0 and null: unset; -1: unlimited
        flags.pids_limit = str(host["PidsLimit"])
    return flags


def _ports(host: dict[str, Any]) -> list[str]:
    """PortBindings as the -p strings they came from: [ip:][hostport:]port/proto."""
    out = []
    for port, bindings in _dict(host, "PortBindings").items():
        for b in bindings or [{}]:
            if not isinstance(b, dict):
                raise ApiError(400, f"invalid PortBindings for {port}")
            ip, hport = str(b.get("HostIp") or ""), str(b.get("HostPort") or "")
            if ":" in ip:
                ip = f"[{ip}]"
            out.append(f"{ip}:{hport}:{port}" if ip else f"{hport}:{port}" if hport
                       else str(port))
    return out


def _network(body: dict[str, Any], host: dict[str, Any]) -> NetworkRequest:
    from pycontainer.ops.netsetup import NetworkRequest

    mode = _str(host, "NetworkMode")
    endpoints = _dict(_dict(body, "NetworkingConfig"), "EndpointsConfig")
    networks = [mode] if mode else []
    aliases: list[str] = []
    ip = None
    if len(endpoints) > 1:
        raise ApiError(400, "API 1.41 connects a container to one network at create: "
                            "connect the others after (POST /networks/{id}/connect)")
    for net_name, endpoint in endpoints.items():
        if mode in ("", "default", "bridge") or mode == net_name:
            networks = [net_name]
        endpoint = endpoint or {}
        aliases = _list(endpoint, "Aliases")
        ip = _str(_dict(endpoint, "IPAMConfig"), "IPv4Address") or None
    if networks and networks[0] in ("default", "bridge") and not aliases and not ip:
        networks = []
    if aliases and networks and networks[0] in ("default", "bridge"):
        aliases = []  # Docker: aliases only apply to user-defined networks
    return NetworkRequest(
        networks=networks, publish=_ports(host), publish_all=bool(host.get("PublishAllPorts")),
        expose=list(_dict(body, "ExposedPorts")), aliases=aliases, dns=_list(host, "Dns"),
        dns_search=_list(host, "DnsSearch"), dns_option=_list(host, "DnsOptions"),
        add_hosts=_list(host, "ExtraHosts"), ip=ip)


def _mount_text(m: object) -> str:
    """One HostConfig.Mounts entry as the --mount string it stands for."""
    if not isinstance(m, dict) or not m.get("Target"):
        raise ApiError(400, "Mounts entries need a Type and a Target")
    kind = m.get("Type") or "volume"
    parts = [f"type={kind}", f"dst={m['Target']}"]
    if m.get("Source"):
        parts.append(f"src={m['Source']}")
    if m.get("ReadOnly"):
        parts.append("readonly")
    bind = m.get("BindOptions") or {}
    if bind.get("Propagation"):
        parts.append(f"bind-propagation={bind['Propagation']}")
    vol = m.get("VolumeOptions") or {}
    if vol.get("NoCopy"):
        parts.append("volume-nocopy")
    tmpfs = m.get("TmpfsOptions") or {}
    if tmpfs.get("SizeBytes"):
        parts.append(f"tmpfs-size={tmpfs['SizeBytes']}")
    if tmpfs.get("Mode"):
        parts.append(f"tmpfs-mode={int(tmpfs['Mode']):o}")
    for key, known in (("", {"Type", "Target", "Source", "ReadOnly", "BindOptions",
                             "VolumeOptions", "TmpfsOptions", "Consistency"}),
                       ("VolumeOptions.", {"NoCopy"}),
                       ("BindOptions.", {"Propagation"}),
                       ("TmpfsOptions.", {"SizeBytes", "Mode"})):
        obj = {"": m, "VolumeOptions.": vol, "BindOptions.": bind,
               "TmpfsOptions.": tmpfs}[key]
        _refuse_unknown(obj, known, f"HostConfig.Mounts.{key}")
    return ",".join(parts)


def _volumes(body: dict[str, Any], host: dict[str, Any]) -> MountRequest:
    from pycontainer.ops.mounts import MountRequest

    binds = _list(host, "Binds")
    mounts = [_mount_text(m) for m in host.get("Mounts") or []]
    taken = {b.split(":")[1] for b in binds if ":" in b}
    taken |= {str(m.get("Target")) for m in host.get("Mounts") or [] if isinstance(m, dict)}
    # Docker: a Config.Volumes path that a bind or mount covers is that mount, not another
    anonymous = [str(path) for path in _dict(body, "Volumes") if str(path) not in taken]
    return MountRequest(volumes=binds + anonymous, mounts=mounts,
                        volumes_from=_list(host, "VolumesFrom"))
