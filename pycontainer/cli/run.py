"""`pyc run` and `pyc create`: Docker's flags -> ContainerSpec -> one ops call.

Options after the image name belong to the container's command (click's
allow_interspersed_args=False). Docker options pyc does not implement yet are declared and
rejected with exit 125 naming them: a silently ignored `-p` or `--memory` would be a lie.
"""

# No `from __future__ import annotations` here: typer would eval every annotation string
# of these many-option commands on each start (~7 ms of CPU per pyc invocation).

import os
import sys
from typing import Any

import typer

from pycontainer.errors import UsageError

RUN_CONTEXT = {"allow_interspersed_args": False, "help_option_names": ["--help"],
               "max_content_width": 100}

#: Docker flags that later work will implement (networking/volumes: issue 5; cgroups: issue
#: 7). Each is accepted by the parser only to fail with a clear message.
UNSUPPORTED = {
    "mac_address": "--mac-address",
    "gpus": "--gpus",
}


def _paths(ctx: typer.Context) -> Any:
    from pycontainer import paths

    opts = ctx.find_root().obj
    return paths.resolve(opts.root, opts.runroot)


def _env_file(path: str) -> list[str]:
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError as exc:
        raise UsageError(f"open {path}: {exc.strerror}") from None
    out = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, _ = line.partition("=")
        # Docker: a bare NAME in an env file takes the value from the environment
        out.append(line if sep else f"{key}={os.environ.get(key, '')}")
    return out


def _env(values: list[str]) -> list[str]:
    out = []
    for item in values:
        key, sep, _ = item.partition("=")
        if not key:
            raise UsageError(f"invalid environment variable: {item}")
        if sep:
            out.append(item)
        elif key in os.environ:
            out.append(f"{key}={os.environ[key]}")
    return out


def _labels(values: list[str]) -> dict[str, str]:
    out = {}
    for item in values:
        key, _, value = item.partition("=")
        out[key] = value
    return out


def _tmpfs(values: list[str]) -> dict[str, str]:
    out = {}
    for item in values:
        dest, _, opts = item.partition(":")
        if not dest.startswith("/"):
            raise UsageError(f"invalid --tmpfs {item}: the path must be absolute")
        out[dest] = opts
    return out


def _security(values: list[str]) -> tuple[bool, str, dict[str, Any] | None]:
    nnp, seccomp, profile = False, "default", None
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


def _network_request(params: dict[str, Any]) -> Any:
    from pycontainer.ops.netsetup import NetworkRequest

    if "host" in params["network"] and (params["publish"] or params["publish_all"]):
        # Docker's words: the ports are dropped, not refused, but never silently.
        sys.stderr.write("WARNING: Published ports are discarded when using host network "
                         "mode\n")
    return NetworkRequest(
        networks=list(params["network"]), publish=list(params["publish"]),
        publish_all=params["publish_all"], expose=list(params["expose"]),
        aliases=list(params["network_alias"]), dns=list(params["dns"]),
        dns_search=list(params["dns_search"]), dns_option=list(params["dns_option"]),
        add_hosts=list(params["add_host"]), ip=params["ip"])


def _mount_request(params: dict[str, Any]) -> Any:
    from pycontainer.ops.mounts import MountRequest

    return MountRequest(volumes=list(params["volume"]), mounts=list(params["mount"]),
                        volumes_from=list(params["volumes_from"]))


def run(
    ctx: typer.Context,
    image: str = typer.Argument(..., metavar="IMAGE"),
    command: list[str] = typer.Argument(None, metavar="[COMMAND] [ARG...]"),
    detach: bool = typer.Option(False, "--detach", "-d", help="Run in the background."),
    interactive: bool = typer.Option(False, "--interactive", "-i", help="Keep STDIN open."),
    tty: bool = typer.Option(False, "--tty", "-t", help="Allocate a pseudo-TTY."),
    rm: bool = typer.Option(False, "--rm", help="Remove the container when it exits."),
    name: str = typer.Option("", "--name", help="Assign a name to the container."),
    env: list[str] = typer.Option([], "--env", "-e", help="Set environment variables."),
    env_file: list[str] = typer.Option([], "--env-file", help="Read a file of variables."),
    workdir: str = typer.Option(None, "--workdir", "-w", help="Working directory inside."),
    user: str = typer.Option(None, "--user", "-u", help="name|uid[:group|gid]"),
    group_add: list[str] = typer.Option([], "--group-add", help="Additional groups."),
    entrypoint: str = typer.Option(None, "--entrypoint", help="Override the ENTRYPOINT."),
    hostname: str = typer.Option(None, "--hostname", "-h", help="Container host name."),
    label: list[str] = typer.Option([], "--label", "-l", help="Set metadata."),
    init: bool = typer.Option(False, "--init", help="Run an init that reaps and forwards."),
    read_only: bool = typer.Option(False, "--read-only", help="Read-only root file system."),
    tmpfs: list[str] = typer.Option([], "--tmpfs", help="Mount a tmpfs: PATH[:OPTIONS]."),
    cap_add: list[str] = typer.Option([], "--cap-add", help="Add Linux capabilities."),
    cap_drop: list[str] = typer.Option([], "--cap-drop", help="Drop Linux capabilities."),
    security_opt: list[str] = typer.Option([], "--security-opt", help="Security options."),
    privileged: bool = typer.Option(False, "--privileged", help="All capabilities, no "
                                    "seccomp, no masked paths (rootless: the user's rights)."),
    ulimit: list[str] = typer.Option([], "--ulimit", help="nofile=1024:2048"),
    stop_signal: str = typer.Option(None, "--stop-signal", help="Signal to stop with."),
    stop_timeout: int = typer.Option(None, "--stop-timeout", help="Seconds before KILL."),
    userns: str = typer.Option("", "--userns", help="keep-id: your uid inside."),
    pull: str = typer.Option("missing", "--pull", help="missing, always or never."),
    detach_keys: str = typer.Option("ctrl-p,ctrl-q", "--detach-keys", help="Detach keys."),
    sig_proxy: bool = typer.Option(True, "--sig-proxy/--no-sig-proxy", help="Proxy signals."),
    runtime: str = typer.Option("builtin", "--runtime", help="builtin, runc, crun or PATH."),
    network: list[str] = typer.Option([], "--network", "--net", help="slirp4netns[:opts], "
                                      "none, host, container:NAME or a network name."),
    rootfs: bool = typer.Option(False, "--rootfs", help="IMAGE is a directory to run."),
    log_driver: str = typer.Option(None, "--log-driver", help="json-file|k8s-file|none "
                                   "(default: containers.conf [engine] log_driver, json-file)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Suppress pull output."),
    publish: list[str] = typer.Option([], "--publish", "-p", help="[ip:]host:ctr[/proto]."),
    publish_all: bool = typer.Option(False, "--publish-all", "-P", help="Publish EXPOSEd "
                                     "ports on random host ports."),
    volume: list[str] = typer.Option([], "--volume", "-v", help="SRC:DST[:ro] or /DST."),
    mount: list[str] = typer.Option([], "--mount", help="type=bind|volume|tmpfs,src=,dst=."),
    volumes_from: list[str] = typer.Option([], "--volumes-from", help="Mount a container's "
                                           "volumes: CONTAINER[:ro|rw]."),
    memory: str = typer.Option(None, "--memory", "-m", help="Memory limit (e.g. 512m)."),
    memory_swap: str = typer.Option(None, "--memory-swap", help="Memory plus swap; -1: "
                                    "unlimited swap."),
    memory_reservation: str = typer.Option(None, "--memory-reservation", help="Soft limit."),
    cpus: str = typer.Option(None, "--cpus", help="Number of CPUs (e.g. 1.5)."),
    cpu_shares: str = typer.Option(None, "--cpu-shares", "-c", help="Relative CPU weight."),
    cpuset_cpus: str = typer.Option(None, "--cpuset-cpus", help="CPUs allowed (0-3, 0,1)."),
    cpuset_mems: str = typer.Option(None, "--cpuset-mems", help="Memory nodes allowed."),
    pids_limit: str = typer.Option(None, "--pids-limit", help="Process limit (-1: none)."),
    oom_score_adj: str = typer.Option(None, "--oom-score-adj", help="OOM score adjustment "
                                      "(rootless: raise only)."),
    dns: list[str] = typer.Option([], "--dns", help="DNS servers."),
    dns_search: list[str] = typer.Option([], "--dns-search", help="DNS search domains."),
    dns_option: list[str] = typer.Option([], "--dns-option", help="DNS options."),
    add_host: list[str] = typer.Option([], "--add-host", help="name:ip in /etc/hosts."),
    network_alias: list[str] = typer.Option([], "--network-alias", help="Network alias."),
    mac_address: str = typer.Option(None, "--mac-address", hidden=True),
    device: list[str] = typer.Option([], "--device", help="Host device: /dev/x[:/dev/y][:rwm]"),
    gpus: str = typer.Option(None, "--gpus", hidden=True),
    health_cmd: str = typer.Option(None, "--health-cmd", help="Command to check health."),
    health_interval: str = typer.Option(None, "--health-interval",
                                        help="Time between checks (ms|s|m|h; default 30s)."),
    health_timeout: str = typer.Option(None, "--health-timeout",
                                       help="Maximum time of one check (default 30s)."),
    health_retries: int = typer.Option(None, "--health-retries",
                                       help="Consecutive failures to report unhealthy."),
    health_start_period: str = typer.Option(None, "--health-start-period",
                                            help="Start period: failures do not count yet."),
    no_healthcheck: bool = typer.Option(False, "--no-healthcheck",
                                        help="Disable any container-specified HEALTHCHECK."),
    platform: str = typer.Option(None, "--platform", help="os/arch[/variant] of the image."),
    restart: str = typer.Option(None, "--restart", help="Restart policy: no, always, "
                                "unless-stopped, on-failure[:N]."),
    ip: str = typer.Option(None, "--ip", help="IPv4 address on the (first) network."),
    expose: list[str] = typer.Option([], "--expose", help="Expose a port."),
    cgroup_parent: str = typer.Option(None, "--cgroup-parent", help="Parent cgroup."),
    sysctl: list[str] = typer.Option([], "--sysctl", help="Namespaced kernel parameter."),
    shm_size: str = typer.Option(None, "--shm-size", help="Size of /dev/shm (default 64m)."),
    pid: str = typer.Option(None, "--pid", help="PID namespace: host or container:NAME."),
    ipc: str = typer.Option(None, "--ipc", help="IPC namespace: host, container:NAME, "
                            "private, shareable or none."),
    uts: str = typer.Option(None, "--uts", help="UTS namespace: host."),
    log_opt: list[str] = typer.Option([], "--log-opt", help="Log driver option: max-size, "
                                      "max-file, compress, labels, env, tag..."),
    attach: list[str] = typer.Option([], "--attach", "-a", help="Attach to STDIN, STDOUT "
                                     "or STDERR (default: STDOUT and STDERR)."),
) -> None:
    """Create and run a new container from an image."""
    params = ctx.params
    for key, flag in UNSUPPORTED.items():
        value = params.get(key)
        if value:
            raise UsageError(f"pyc does not support {flag} yet")
    creating = ctx.info_name == "create"
    streams = _attach_streams(params["attach"], detach)
    if params["log_driver"] is None:
        params["log_driver"] = _default_log_driver(ctx)
    opts = _create_options(params, image, command or [], rootfs)
    paths = _paths(ctx)
    _limits(opts.spec, params, paths)
    if creating:
        from pycontainer.ops.create import create

        sys.stdout.write(create(paths, opts) + "\n")
        return
    _run(paths, opts, detach, detach_keys, sig_proxy, streams)


def _restart(params: dict[str, Any]) -> str:
    from pycontainer.ops.restarts import parse_policy

    name, _ = parse_policy(params["restart"])
    if name != "no" and params["rm"]:
        raise UsageError("Conflicting options: --restart and --rm")
    return params["restart"] or "no"


def _healthcheck(params: dict[str, Any]) -> dict[str, Any]:
    from pycontainer.ops.health import flags_config

    return flags_config(params["health_cmd"], params["health_interval"],
                        params["health_timeout"], params["health_retries"],
                        params["health_start_period"], params["no_healthcheck"])


def _default_log_driver(ctx: typer.Context) -> str:
    from pycontainer import config

    return config.load_engine(_paths(ctx).config).log_driver


def _attach_streams(values: list[str], detach: bool) -> tuple[str, ...]:
    """Docker's `-a/--attach` (repeatable, any case)."""
    streams = []
    for value in values:
        name = value.strip().lower()
        if name not in ("stdin", "stdout", "stderr"):
            raise UsageError(f"invalid argument \"{value}\" for \"-a, --attach\" flag: "
                             "valid streams are STDIN, STDOUT and STDERR")
        streams.append(name)
    if streams and detach:
        raise UsageError("Conflicting options: -a and -d")
    return tuple(streams)


def _create_options(params: dict[str, Any], image: str, command: list[str],
                    rootfs: bool) -> Any:
    from pycontainer.oci.convert import ContainerSpec
    from pycontainer.ops.create import CreateOptions

    nnp, seccomp, profile = _security(params["security_opt"])
    env = [e for path in params["env_file"] for e in _env_file(path)] + _env(params["env"])
    entry = params["entrypoint"]
    spec = ContainerSpec(
        image=image, command=command,
        entrypoint=None if entry is None else ([entry] if entry else []),
        env=env, workdir=params["workdir"], user=params["user"],
        group_add=params["group_add"], hostname=params["hostname"],
        labels=_labels(params["label"]), tty=params["tty"],
        interactive=params["interactive"], init=params["init"],
        read_only=params["read_only"], tmpfs=_tmpfs(params["tmpfs"]),
        cap_add=params["cap_add"], cap_drop=params["cap_drop"],
        privileged=params["privileged"], no_new_privileges=nnp, seccomp=seccomp,
        seccomp_profile=profile, ulimits=params["ulimit"],
        stop_signal=params["stop_signal"], stop_timeout=params["stop_timeout"],
        userns=params["userns"],
        auto_remove=params["rm"], name=params["name"], restart=_restart(params),
        healthcheck=_healthcheck(params),
    )
    _namespace_options(spec, params)
    from pycontainer.ops import logopts

    log_opts = logopts.parse(params["log_driver"], params["log_opt"])
    progress = None if params["quiet"] else sys.stderr
    if params["platform"]:
        from pycontainer.oci.image import Platform

        Platform.parse(params["platform"])  # a bad value fails before anything is created
    return CreateOptions(platform=params["platform"] or "",
                         spec=spec, runtime=params["runtime"], pull=params["pull"],
                         rootfs=image if rootfs else None, log_driver=params["log_driver"],
                         log_opts=log_opts, progress=progress, network=_network_request(params),
                         volumes=_mount_request(params))


def _ns_mode(flag: str, value: str | None, allowed: tuple[str, ...]) -> str:
    value = value or ""
    if value in ("", "private") or value in allowed:
        return "" if value == "private" else value
    if value.startswith("container:") and value[len("container:"):]:
        return value
    raise UsageError(f"invalid {flag} mode: {value}")


def _namespace_options(spec: Any, params: dict[str, Any]) -> None:
    """--pid, --ipc, --uts, --shm-size, --sysctl, --device, --cgroup-parent."""
    from pycontainer.oci.convert import check_sysctls

    spec.pid = _ns_mode("--pid", params["pid"], ("host",))
    spec.ipc = _ns_mode("--ipc", params["ipc"], ("host", "none", "shareable"))
    spec.uts = _ns_mode("--uts", params["uts"], ("host",))
    if spec.uts.startswith("container:"):
        raise UsageError(f"invalid --uts mode: {spec.uts}")
    if spec.uts == "host":
        if spec.hostname:
            raise UsageError("conflicting options: hostname and the UTS mode")
        spec.hostname = os.uname().nodename  # for HOSTNAME, /etc/hostname and /etc/hosts
    if params["shm_size"]:
        from pycontainer.cli.output import parse_size

        size = parse_size(params["shm_size"])
        if size < 0:
            raise UsageError("SHM size can not be less than 0")
        spec.shm_size = size or None
    networks = [n for n in params["network"] if n]
    net = networks[0] if len(networks) == 1 else ""
    spec.sysctls = check_sysctls(list(params["sysctl"]), net, spec.ipc, spec.uts)
    spec.devices = [_device(d) for d in params["device"]]
    spec.cgroup_parent = params["cgroup_parent"] or ""


def _device(text: str) -> dict[str, str]:
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


def _limits(spec: Any, params: dict[str, Any], paths: Any) -> None:
    """--memory, --cpus, ... (cli/stats.py): checked against the host's cgroups now."""
    from pycontainer.cli.stats import limit_flags
    from pycontainer.ops import limits

    plan = limits.plan(paths, limit_flags(params), spec.cgroup_parent)
    spec.resources, spec.oom_score_adj = plan.resources, plan.oom_score_adj
    for warning in plan.warnings:
        sys.stderr.write(f"WARNING: {warning}\n")


def _run(paths: Any, opts: Any, detach: bool, detach_keys: str, sig_proxy: bool,
         streams: tuple[str, ...] = ()) -> None:
    from pycontainer.errors import ContainerExit
    from pycontainer.ops import run as ops_run

    size = ops_run.terminal_size()
    report = ops_run.run(paths, ops_run.RunOptions(
        create=opts, detach=detach, detach_keys=detach_keys, sig_proxy=sig_proxy,
        tty_size=size, attach=streams))
    if report.exit_code is None:
        if detach:
            sys.stdout.write(report.container_id + "\n")
        return
    sys.stdout.flush()
    raise ContainerExit(report.exit_code)


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    for verb in ("run", "create"):
        app.command(verb, context_settings=RUN_CONTEXT)(run)
        groups["container"].command(verb, context_settings=RUN_CONTEXT)(run)
