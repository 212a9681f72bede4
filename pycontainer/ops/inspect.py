"""`pyc inspect` / `pyc container inspect`: Docker's container JSON (moby's InspectResponse)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pycontainer.containers.lifecycle import ACTIVE, Status
from pycontainer.containers.model import Container
from pycontainer.containers.netrecord import NetworkPlan
from pycontainer.containers.store import ContainerStore
from pycontainer.errors import ContainerNotFound, NotFound
from pycontainer.oci.convert import ContainerSpec
from pycontainer.oci.rootfs import RootfsPlan
from pycontainer.ops import health, limits, netviews, recordcache, restarts
from pycontainer.ops.mounts import binds, inspect_mounts
from pycontainer.paths import Paths

if TYPE_CHECKING:
    from pycontainer.jsontypes import JSON

ZERO_TIME = "0001-01-01T00:00:00Z"


def inspect_container(paths: Paths, ref: str, size: bool = False) -> dict[str, Any]:
    store = ContainerStore(paths)
    cid = store.resolve(ref)
    c = recordcache.load(store, cid)
    if c.state.status not in ACTIVE:
        # sync changes nothing of a container that is not running (records are replaced
        # atomically, so reading them unlocked is safe): no lock to take per inspect
        return to_docker(store, c, size)
    with store.lock(cid):
        c = recordcache.load(store, cid)
        if store.sync(c):
            store.save(cid, c.state)
    return to_docker(store, c, size)


def list_view(store: ContainerStore, cid: str) -> dict[str, Any]:
    """What the Engine API's container list takes from inspect (the image id, network mode,
    networks and ports, mounts), the same values, without the rest of `to_docker`: a list of
    many containers asks it for each, and docker-py asks inspect for each one again."""
    c = recordcache.load(store, cid)
    store.sync(c)  # read-only view, as `ps`: no lock, no save
    return list_view_of(store, c)


def list_view_of(store: ContainerStore, c: Container) -> dict[str, Any]:
    """`list_view` of a record already read (and synced) by the list."""
    return {"Image": c.config.image_id,
            "HostConfig": {"NetworkMode": _network_mode(c, c.config.spec.network or "private")},
            "NetworkSettings": netviews.inspect_settings(store, c),
            "Mounts": inspect_mounts(c.config.spec.mounts)}


def inspect_any(paths: Paths, ref: str, kind: str = "", size: bool = False) -> dict[str, Any]:
    """`pyc inspect NAME`: a container, else an image (Docker's lookup order)."""
    if kind in ("", "container"):
        try:
            return inspect_container(paths, ref, size)
        except ContainerNotFound:
            if kind == "container":
                raise
    if kind in ("", "image"):
        try:
            from pycontainer.ops import images

            return images.inspect_image(paths, ref)
        except (ImportError, AttributeError):
            pass
        except NotFound:
            pass
    raise NotFound(f"No such object: {ref}")


def _state(c: Container) -> JSON:
    st = c.state
    return {
        "Status": st.docker_status,
        "Running": st.status in (Status.RUNNING, Status.STOPPING, Status.PAUSED),
        "Paused": st.status == Status.PAUSED,
        "Restarting": st.restarting and st.status == Status.EXITED,
        "OOMKilled": st.oom_killed,
        "Dead": False,
        "Pid": st.pid if st.running else 0,
        "ExitCode": st.exit_code,
        "Error": st.error,
        "StartedAt": st.started_at or ZERO_TIME,
        "FinishedAt": st.finished_at or ZERO_TIME,
    }


def _attach_fields(spec: ContainerSpec) -> dict[str, bool]:
    """Config's AttachStdin/AttachStdout/AttachStderr/StdinOnce as recorded at create; a
    record from before they were kept reads as its `-i` implies."""
    keys = ("AttachStdin", "AttachStdout", "AttachStderr", "StdinOnce")
    if spec.attach is not None:
        return {k: bool(spec.attach.get(k)) for k in keys}
    i = bool(spec.interactive)
    return dict(zip(keys, (i, True, True, i), strict=True))


def _config(c: Container) -> JSON:
    spec, img = c.config.spec, c.config.image_config
    env = list(img.get("Env") or [])
    for item in spec.env:
        key = item.split("=", 1)[0]
        env = [e for e in env if e.split("=", 1)[0] != key] + [item]
    entry = spec.entrypoint
    return {
        "Hostname": spec.hostname or c.id[:12],
        "Domainname": "",
        "User": spec.user or img.get("User") or "",
        **_attach_fields(spec),
        "ExposedPorts": img.get("ExposedPorts"),
        "Tty": bool(spec.tty),
        "OpenStdin": bool(spec.interactive),
        "Env": env,
        "Cmd": spec.command or (img.get("Cmd") if entry is None else None),
        "Image": c.config.image,
        "Volumes": img.get("Volumes"),
        "WorkingDir": spec.workdir or img.get("WorkingDir") or "",
        "Entrypoint": entry if entry is not None else img.get("Entrypoint"),
        "OnBuild": None,
        "Labels": {**(img.get("Labels") or {}), **spec.labels},
        "StopSignal": spec.stop_signal or img.get("StopSignal") or "SIGTERM",
        "StopTimeout": spec.stop_timeout,
        **({"Healthcheck": hc} if (hc := health.config_of(c)) else {}),
    }


def _host_config(c: Container) -> JSON:
    spec = c.config.spec
    network = spec.network or "private"
    net = c.config.network or NetworkPlan()
    return {
        "NetworkMode": _network_mode(c, network),
        "AutoRemove": bool(spec.auto_remove),
        "Privileged": bool(spec.privileged),
        "ReadonlyRootfs": bool(spec.read_only),
        "CapAdd": spec.cap_add or None,
        "CapDrop": spec.cap_drop or None,
        "GroupAdd": spec.group_add or None,
        "SecurityOpt": None,
        "Tmpfs": spec.tmpfs or None,
        "Init": bool(spec.init),
        "UsernsMode": spec.userns or "",
        "Runtime": c.config.runtime,
        "LogConfig": {"Type": c.config.log_driver, "Config": dict(c.config.log_opts)},
        "RestartPolicy": dict(zip(("Name", "MaximumRetryCount"), restarts.policy_of(c),
                                  strict=True)),
        "Binds": binds(spec.mounts),
        "PortBindings": netviews.port_bindings(net),
        "Dns": list(net.dns),
        "DnsSearch": list(net.dns_search),
        "DnsOptions": list(net.dns_option),
        "ExtraHosts": [f"{n}:{ip}" for n, ip in net.add_hosts] or None,
        "PublishAllPorts": bool(net.publish_all),
        "Ulimits": [_ulimit(u) for u in spec.ulimits] or None,
        "ShmSize": spec.shm_size or 64 << 20,
        "PidMode": spec.pid or "",
        "IpcMode": spec.ipc or "private",
        "UTSMode": spec.uts or "",
        "CgroupParent": spec.cgroup_parent or "",
        "Devices": [{"PathOnHost": d["path"], "PathInContainer": d["dest"],
                     "CgroupPermissions": d.get("perms", "rwm")}
                    for d in spec.devices],
        **({"Sysctls": spec.sysctls} if spec.sysctls else {}),
        **({"Annotations": spec.annotations} if spec.annotations else {}),
        "VolumeDriver": "",
        "Isolation": "",
        **limits.host_config(spec),
    }


def _network_mode(c: Container, old: str) -> str:
    net = c.config.network
    if net is not None and net.kind:
        return netviews.parse_network_mode(net.values or []).docker_name
    return {"private": "none", "none": "none", "host": "host"}.get(old, old)


def _ulimit(text: str) -> JSON:
    name, _, values = text.partition("=")
    soft, _, hard = values.partition(":")
    return {"Name": name, "Soft": int(soft or 0), "Hard": int(hard or soft or 0)}


def to_docker(store: ContainerStore, c: Container, size: bool = False) -> dict[str, Any]:
    cfg = c.config
    userdata = str(store.userdata(c.id))  # joined as text: Path joins cost per request
    plan = cfg.rootfs or RootfsPlan("")
    state = _state(c)
    if (hs := health.state_of(store, c)) is not None:
        state["Health"] = hs
    out: dict[str, Any] = {
        "Id": c.id,
        "Created": cfg.created,
        "Path": cfg.path,
        "Args": cfg.args,
        "State": state,
        "Image": cfg.image_id,
        "ResolvConfPath": userdata + "/resolv.conf",
        "HostnamePath": userdata + "/hostname",
        "HostsPath": userdata + "/hosts",
        "LogPath": userdata + "/ctr.log",
        "Name": "/" + c.name,
        "RestartCount": c.state.restart_count,
        "Driver": plan.driver,
        "Platform": "linux",
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "",
        "ExecIDs": None,
        "HostConfig": _host_config(c),
        "GraphDriver": {"Name": plan.driver, "Data": {
            "LowerDir": ":".join(reversed(plan.lowers)),
            "UpperDir": plan.upper or plan.source,
            "WorkDir": plan.work,
        }},
        "Mounts": inspect_mounts(cfg.spec.mounts),
        "Config": _config(c),
        "NetworkSettings": netviews.inspect_settings(store, c),
    }
    if size:
        from pycontainer.ops.ps import dir_size

        out["SizeRw"] = dir_size(store.dir(c.id) / "storage" / "diff")
        out["SizeRootFs"] = out["SizeRw"] + sum(dir_size(p) for p in plan.lowers)
    from pycontainer.ops import podman_fields

    return podman_fields.add_missing(out, podman_fields.container_extras(store, c))
