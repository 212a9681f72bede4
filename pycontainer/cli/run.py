"""`pyc run` and `pyc create`: Docker's flags -> ContainerSpec -> one ops call.

Options after the image name belong to the container's command (click's
allow_interspersed_args=False). Docker options pyc does not implement yet are declared and
rejected with exit 125 naming them: a silently ignored `-p` or `--memory` would be a lie.

No typer at import: the flags are data (`FLAGS`), registered with typer by `register` and
parsed without it on the fast path (`cli/fast.py`).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from pycontainer.cli.flags import BOOL, INT, LIST, STR, Arg, Flag, GlobalOptions, typer_command
from pycontainer.errors import UsageError

if TYPE_CHECKING:
    import typer

    from pycontainer.oci.convert import ContainerSpec
    from pycontainer.oci.imagespec import HealthConfig
    from pycontainer.ops.create import CreateOptions
    from pycontainer.ops.limits import LimitFlags
    from pycontainer.ops.mounts import MountRequest
    from pycontainer.ops.netsetup import NetworkRequest
    from pycontainer.paths import Paths

RUN_CONTEXT = {"allow_interspersed_args": False, "help_option_names": ["--help"],
               "max_content_width": 100}

#: Docker flags that later work will implement (networking/volumes: issue 5; cgroups: issue
#: 7). Each is accepted by the parser only to fail with a clear message.
UNSUPPORTED = {
    "mac_address": "--mac-address",
    "gpus": "--gpus",
}


def _paths(gopts: GlobalOptions) -> Paths:
    from pycontainer import paths

    return paths.resolve(gopts.root, gopts.runroot)


def refuse_content_trust(disabled: bool) -> None:
    """Docker's --disable-content-trust is true by default; false asks for signed images."""
    if not disabled:
        raise UsageError("pyc does not verify image signatures (Docker Content Trust): "
                         "--disable-content-trust=false is not supported")


def _lines(path: str) -> list[str]:
    """The lines of an --env-file / --label-file that say something (no blanks, no #).
    Text that is not UTF-8 or holds a NUL (which no environment can carry) is refused,
    naming the file and line, as Docker does for bad UTF-8."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise UsageError(f"open {path}: {exc.strerror}") from None
    out = []
    for number, raw in enumerate(data.splitlines(), 1):
        if b"\0" in raw:
            raise UsageError(f"{path} line {number}: contains a NUL byte")
        try:
            line = raw.decode().strip()
        except UnicodeDecodeError as exc:
            raise UsageError(f"env file {path} contains invalid utf8 bytes at line {number}: "
                             f"{exc.reason}") from None
        if line and not line.startswith("#"):
            out.append(line)
    return out


def _env_file(path: str) -> list[str]:
    out = []
    for line in _lines(path):
        key, sep, _ = line.partition("=")
        # Docker: a bare NAME in an env file takes the value from the environment, if set
        if sep:
            out.append(line)
        elif key in os.environ:
            out.append(f"{key}={os.environ[key]}")
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


def _network_request(params: dict[str, Any]) -> NetworkRequest:
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


def _mount_request(params: dict[str, Any]) -> MountRequest:
    from pycontainer.ops.mounts import MountRequest

    return MountRequest(volumes=list(params["volume"]), mounts=list(params["mount"]),
                        volumes_from=list(params["volumes_from"]))


#: `pyc run` / `pyc create`: IMAGE [COMMAND] [ARG...]; options after IMAGE are the command's
INTERSPERSED = False
ARGS = (Arg("image", "IMAGE"), Arg("command", "[COMMAND] [ARG...]", many=True, required=False))
FLAGS = (
    Flag("detach", ("--detach", "-d"), BOOL, help="Run in the background."),
    Flag("interactive", ("--interactive", "-i"), BOOL, help="Keep STDIN open."),
    Flag("tty", ("--tty", "-t"), BOOL, help="Allocate a pseudo-TTY."),
    Flag("rm", ("--rm",), BOOL, help="Remove the container when it exits."),
    Flag("name", ("--name",), STR, default="", help="Assign a name to the container."),
    Flag("env", ("--env", "-e"), LIST, help="Set environment variables."),
    Flag("env_file", ("--env-file",), LIST, help="Read a file of variables."),
    Flag("workdir", ("--workdir", "-w"), STR, help="Working directory inside."),
    Flag("user", ("--user", "-u"), STR, help="name|uid[:group|gid]"),
    Flag("group_add", ("--group-add",), LIST, help="Additional groups."),
    Flag("entrypoint", ("--entrypoint",), STR, help="Override the ENTRYPOINT."),
    Flag("hostname", ("--hostname", "-h"), STR, help="Container host name."),
    Flag("label", ("--label", "-l"), LIST, help="Set metadata."),
    Flag("label_file", ("--label-file",), LIST, help="Read a file of labels."),
    Flag("annotation", ("--annotation",), LIST, help="Runtime annotation KEY=VALUE."),
    Flag("volume_driver", ("--volume-driver",), STR, help="Volume driver (local only)."),
    Flag("isolation", ("--isolation",), STR, help="Isolation (default only)."),
    Flag("cidfile", ("--cidfile",), STR, help="Write the container ID to the file."),
    Flag("disable_content_trust", ("--disable-content-trust",), BOOL, default=True,
         off="--no-disable-content-trust", hidden=True,
         help="Accepted for Docker scripts: pyc never verifies signatures."),
    Flag("init", ("--init",), BOOL, help="Run an init that reaps and forwards."),
    Flag("read_only", ("--read-only",), BOOL, help="Read-only root file system."),
    Flag("tmpfs", ("--tmpfs",), LIST, help="Mount a tmpfs: PATH[:OPTIONS]."),
    Flag("cap_add", ("--cap-add",), LIST, help="Add Linux capabilities."),
    Flag("cap_drop", ("--cap-drop",), LIST, help="Drop Linux capabilities."),
    Flag("security_opt", ("--security-opt",), LIST, help="Security options."),
    Flag("privileged", ("--privileged",), BOOL,
         help="All capabilities, no seccomp, no masked paths (rootless: the user's rights)."),
    Flag("ulimit", ("--ulimit",), LIST, help="nofile=1024:2048"),
    Flag("stop_signal", ("--stop-signal",), STR, help="Signal to stop with."),
    Flag("stop_timeout", ("--stop-timeout",), INT, help="Seconds before KILL."),
    Flag("userns", ("--userns",), STR, default="", help="keep-id: your uid inside."),
    Flag("pull", ("--pull",), STR, default="missing", help="missing, always or never."),
    Flag("detach_keys", ("--detach-keys",), STR, default="ctrl-p,ctrl-q", help="Detach keys."),
    Flag("sig_proxy", ("--sig-proxy",), BOOL, default=True, off="--no-sig-proxy",
         help="Proxy signals."),
    Flag("runtime", ("--runtime",), STR, default="builtin", help="builtin, runc, crun or PATH."),
    Flag("network", ("--network", "--net"), LIST,
         help="slirp4netns[:opts], none, host, container:NAME or a network name."),
    Flag("rootfs", ("--rootfs",), BOOL, help="IMAGE is a directory to run."),
    Flag("log_driver", ("--log-driver",), STR,
         help="json-file|k8s-file|none (default: containers.conf [engine] log_driver, json-file)."),
    Flag("quiet", ("--quiet", "-q"), BOOL, help="Suppress pull output."),
    Flag("publish", ("--publish", "-p"), LIST, help="[ip:]host:ctr[/proto]."),
    Flag("publish_all", ("--publish-all", "-P"), BOOL,
         help="Publish EXPOSEd ports on random host ports."),
    Flag("volume", ("--volume", "-v"), LIST, help="SRC:DST[:ro] or /DST."),
    Flag("mount", ("--mount",), LIST, help="type=bind|volume|tmpfs,src=,dst=."),
    Flag("volumes_from", ("--volumes-from",), LIST,
         help="Mount a container's volumes: CONTAINER[:ro|rw]."),
    Flag("memory", ("--memory", "-m"), STR, help="Memory limit (e.g. 512m)."),
    Flag("memory_swap", ("--memory-swap",), STR, help="Memory plus swap; -1: unlimited swap."),
    Flag("memory_reservation", ("--memory-reservation",), STR, help="Soft limit."),
    Flag("cpus", ("--cpus",), STR, help="Number of CPUs (e.g. 1.5)."),
    Flag("cpu_period", ("--cpu-period",), STR, help="CFS period in microseconds."),
    Flag("cpu_quota", ("--cpu-quota",), STR, help="CFS quota in microseconds per period."),
    Flag("cpu_shares", ("--cpu-shares", "-c"), STR, help="Relative CPU weight."),
    Flag("cpuset_cpus", ("--cpuset-cpus",), STR, help="CPUs allowed (0-3, 0,1)."),
    Flag("cpuset_mems", ("--cpuset-mems",), STR, help="Memory nodes allowed."),
    Flag("pids_limit", ("--pids-limit",), STR, help="Process limit (-1: none)."),
    Flag("oom_score_adj", ("--oom-score-adj",), STR,
         help="OOM score adjustment (rootless: raise only)."),
    Flag("dns", ("--dns",), LIST, help="DNS servers."),
    Flag("dns_search", ("--dns-search",), LIST, help="DNS search domains."),
    Flag("dns_option", ("--dns-option", "--dns-opt"), LIST, help="DNS options."),
    Flag("add_host", ("--add-host",), LIST, help="name:ip in /etc/hosts."),
    Flag("network_alias", ("--network-alias",), LIST, help="Network alias."),
    Flag("mac_address", ("--mac-address",), STR, hidden=True),
    Flag("device", ("--device",), LIST, help="Host device: /dev/x[:/dev/y][:rwm]"),
    Flag("gpus", ("--gpus",), STR, hidden=True),
    Flag("health_cmd", ("--health-cmd",), STR, help="Command to check health."),
    Flag("health_interval", ("--health-interval",), STR,
         help="Time between checks (ms|s|m|h; default 30s)."),
    Flag("health_timeout", ("--health-timeout",), STR,
         help="Maximum time of one check (default 30s)."),
    Flag("health_retries", ("--health-retries",), INT,
         help="Consecutive failures to report unhealthy."),
    Flag("health_start_period", ("--health-start-period",), STR,
         help="Start period: failures do not count yet."),
    Flag("no_healthcheck", ("--no-healthcheck",), BOOL,
         help="Disable any container-specified HEALTHCHECK."),
    Flag("platform", ("--platform",), STR, help="os/arch[/variant] of the image."),
    Flag("restart", ("--restart",), STR,
         help="Restart policy: no, always, unless-stopped, on-failure[:N]."),
    Flag("ip", ("--ip",), STR, help="IPv4 address on the (first) network."),
    Flag("expose", ("--expose",), LIST, help="Expose a port."),
    Flag("cgroup_parent", ("--cgroup-parent",), STR, help="Parent cgroup."),
    Flag("sysctl", ("--sysctl",), LIST, help="Namespaced kernel parameter."),
    Flag("shm_size", ("--shm-size",), STR, help="Size of /dev/shm (default 64m)."),
    Flag("pid", ("--pid",), STR, help="PID namespace: host or container:NAME."),
    Flag("ipc", ("--ipc",), STR,
         help="IPC namespace: host, container:NAME, private, shareable or none."),
    Flag("uts", ("--uts",), STR, help="UTS namespace: host."),
    Flag("pod", ("--pod",), STR, help="Run in a pod (NAME or ID), or new:NAME to create it."),
    Flag("log_opt", ("--log-opt",), LIST,
         help="Log driver option: max-size, max-file, compress, labels, env, tag..."),
    Flag("attach", ("--attach", "-a"), LIST,
         help="Attach to STDIN, STDOUT or STDERR (default: STDOUT and STDERR)."),
)


def command(params: dict[str, Any], verb: str, gopts: GlobalOptions) -> None:
    for key, flag in UNSUPPORTED.items():
        value = params.get(key)
        if value:
            raise UsageError(f"pyc does not support {flag} yet")
    refuse_content_trust(params["disable_content_trust"])
    for flag, value, only in (("--volume-driver", params["volume_driver"], "local"),
                              ("--isolation", params["isolation"], "default")):
        if value and value != only:
            raise UsageError(f"pyc supports only {flag} {only}, not {value!r}")
    creating = verb == "create"
    streams = _attach_streams(params["attach"], params["detach"])
    paths = _paths(gopts)
    if params["log_driver"] is None:
        params["log_driver"] = _default_log_driver(paths)
    opts = _create_options(params, params["image"], params["command"] or [], params["rootfs"])
    _limits(opts.spec, params, paths)
    from pycontainer.ops.createopts import attach_record

    opts.spec.attach = attach_record(streams, params["interactive"], params["detach"])
    if creating:
        from pycontainer.ops.create import create

        sys.stdout.write(create(paths, opts) + "\n")
        return
    _run(paths, opts, params["detach"], params["detach_keys"], params["sig_proxy"], streams)


def _healthcheck(params: dict[str, Any]) -> HealthConfig:
    from pycontainer.ops.health import flags_config

    return flags_config(params["health_cmd"], params["health_interval"],
                        params["health_timeout"], params["health_retries"],
                        params["health_start_period"], params["no_healthcheck"])


def _default_log_driver(paths: Paths) -> str:
    from pycontainer import config

    return config.load_engine(paths.config).log_driver


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
                    rootfs: bool) -> CreateOptions:
    from pycontainer.oci.convert import ContainerSpec
    from pycontainer.ops import createopts
    from pycontainer.ops.create import CreateOptions

    nnp, seccomp, profile = createopts.security(params["security_opt"])
    env = [e for path in params["env_file"] for e in _env_file(path)] + _env(params["env"])
    entry = params["entrypoint"]
    spec = ContainerSpec(
        image=image, command=command,
        entrypoint=None if entry is None else ([entry] if entry else []),
        env=env, workdir=params["workdir"], user=params["user"],
        group_add=params["group_add"], hostname=params["hostname"],
        labels=_labels([x for path in params["label_file"] for x in _lines(path)]
                       + list(params["label"])), tty=params["tty"],
        interactive=params["interactive"], init=params["init"],
        read_only=params["read_only"], tmpfs=createopts.tmpfs(params["tmpfs"]),
        cap_add=params["cap_add"], cap_drop=params["cap_drop"],
        privileged=params["privileged"], no_new_privileges=nnp, seccomp=seccomp,
        seccomp_profile=profile, ulimits=params["ulimit"],
        stop_signal=params["stop_signal"], stop_timeout=params["stop_timeout"],
        userns=params["userns"],
        auto_remove=params["rm"], name=params["name"],
        restart=createopts.restart_policy(params["restart"], params["rm"]),
        healthcheck=_healthcheck(params),
        annotations=createopts.annotation_map(params["annotation"]),
        pod=params["pod"] or "",
    )
    _namespace_options(spec, params)
    from pycontainer.ops import logopts

    log_opts = logopts.parse(params["log_driver"], params["log_opt"])
    progress = None if params["quiet"] else sys.stderr
    if params["platform"]:
        from pycontainer.oci.image import Platform

        Platform.parse(params["platform"])  # a bad value fails before anything is created
    return CreateOptions(platform=params["platform"] or "", cidfile=params["cidfile"] or "",
                         spec=spec, runtime=params["runtime"], pull=params["pull"],
                         rootfs=image if rootfs else None, log_driver=params["log_driver"],
                         log_opts=log_opts, progress=progress, network=_network_request(params),
                         volumes=_mount_request(params))


def _namespace_options(spec: ContainerSpec, params: dict[str, Any]) -> None:
    """--pid, --ipc, --uts, --shm-size, --sysctl, --device, --cgroup-parent."""
    from pycontainer.oci.convert import check_sysctls
    from pycontainer.ops import createopts

    createopts.namespace_modes(spec, params["pid"], params["ipc"], params["uts"])
    if params["shm_size"]:
        spec.shm_size = createopts.shm_size(params["shm_size"])
    networks = [n for n in params["network"] if n]
    net = networks[0] if len(networks) == 1 else ""
    spec.sysctls = check_sysctls(list(params["sysctl"]), net, spec.ipc, spec.uts)
    spec.devices = [createopts.device(d) for d in params["device"]]
    spec.cgroup_parent = params["cgroup_parent"] or ""


def _limits(spec: ContainerSpec, params: dict[str, Any], paths: Paths) -> None:
    """--memory, --cpus, ... (cli/stats.py): checked against the host's cgroups now."""
    from pycontainer.ops import limits

    plan = limits.plan(paths, limit_flags(params), spec.cgroup_parent)
    spec.resources, spec.oom_score_adj = plan.resources, plan.oom_score_adj
    spec.limits = plan.limits
    for warning in plan.warnings:
        sys.stderr.write(f"WARNING: {warning}\n")


#: the limit flags of run/create/update, by parameter name (`update` shares them)
LIMIT_KEYS = ("memory", "memory_swap", "memory_reservation", "cpus", "cpu_period",
              "cpu_quota", "cpu_shares", "cpuset_cpus", "cpuset_mems", "pids_limit",
              "oom_score_adj")


def limit_flags(params: dict[str, Any]) -> LimitFlags:
    """The limit flags of `run`/`create`/`update` as `ops.limits.LimitFlags`."""
    from pycontainer.ops.limits import LimitFlags

    return LimitFlags(**{k: params.get(k) for k in LIMIT_KEYS})


def _run(paths: Paths, opts: CreateOptions, detach: bool, detach_keys: str, sig_proxy: bool,
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
    if streams and "stdout" not in streams and "stderr" not in streams:
        # Docker: a run attached to neither output prints the container's id
        sys.stdout.write(report.container_id + "\n")
    sys.stdout.flush()
    raise ContainerExit(report.exit_code)


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    run = typer_command(command, FLAGS, ARGS, "run",
                        "Create and run a new container from an image.")
    for verb in ("run", "create"):
        app.command(verb, context_settings=RUN_CONTEXT)(run)
        groups["container"].command(verb, context_settings=RUN_CONTEXT)(run)
