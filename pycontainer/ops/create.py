"""`pyc create` (and the first half of `pyc run`): records, writable layer, etc files, bundle.

ContainerSpec + image config -> (oci.convert) runtime spec -> bundle/config.json, with the
rootfs left as a plan that the launcher mounts inside the container's own namespaces.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from pycontainer.containers.lifecycle import Status
from pycontainer.containers.model import ContainerConfig, ContainerState
from pycontainer.containers.names import free_name
from pycontainer.containers.store import ContainerStore
from pycontainer.errors import HostError, UsageError
from pycontainer.formats.timestamps import rfc3339
from pycontainer.linux import caps, userns
from pycontainer.linux.locks import FileLock
from pycontainer.network import etc_files
from pycontainer.oci import convert
from pycontainer.ops import events
from pycontainer.paths import Paths, ensure_runtime

if TYPE_CHECKING:  # not at run time: `run` imports them only when it needs them
    from pycontainer.containers.netrecord import NetworkPlan
    from pycontainer.oci.imagespec import RunConfig
    from pycontainer.ops.mounts import MountRequest
    from pycontainer.ops.netsetup import NetworkRequest


@dataclass
class CreateOptions:
    spec: convert.ContainerSpec
    runtime: str = "builtin"
    pull: str = "missing"
    #: run a plain directory as the root file system (Podman's --rootfs): no image needed
    rootfs: str | None = None
    log_driver: str = "json-file"
    #: --log-opt KEY=VALUE, checked by ops.logopts.parse
    log_opts: dict[str, str] = field(default_factory=dict)
    #: where pull progress goes (stderr), or None
    progress: TextIO | None = None
    #: --network, -p, --dns...; None: the defaults
    network: NetworkRequest | None = None
    #: -v, --mount, --volumes-from; None: none
    volumes: MountRequest | None = None
    #: --platform: the image must be of it (pulled for it when the stored one is not)
    platform: str = ""
    #: --cidfile: claimed before anything is made, the id written once the container exists
    cidfile: str = ""


@dataclass
class ImageInput:
    ref: str
    image_id: str
    config: RunConfig  # the OCI config's "config" object
    lowers: list[Path] = field(default_factory=list)


def new_id() -> str:
    return os.urandom(32).hex()  # not `secrets`: it imports hmac and random (run is hot)


def now_rfc3339() -> str:
    # fixed nine digits: `ps` sorts containers by this text
    return rfc3339(fixed=True)


def image_input(paths: Paths, opts: CreateOptions) -> ImageInput:
    if opts.rootfs:
        root = Path(opts.rootfs).absolute()
        if not root.is_dir():
            raise UsageError(f"--rootfs {opts.rootfs}: not a directory")
        return ImageInput(str(root), "", {}, [root])
    from pycontainer.errors import ImageNotFound
    from pycontainer.images.store import ImageStore

    store = ImageStore(paths)
    record = None
    if opts.pull != "always" and not opts.platform:
        try:
            record = store.resolve(opts.spec.image)
        except ImageNotFound:
            if opts.pull == "never":
                raise
    if record is None:
        from pycontainer.ops.pull import ensure_image

        record = ensure_image(paths, opts.spec.image, opts.pull, opts.progress, opts.platform)
    return ImageInput(opts.spec.image, record.id, (record.config.get("config") or {}).copy(),
                      store.layer_dirs(record))


def _read_from_layers(lowers: list[Path], rel: str) -> str:
    for layer in reversed(lowers):
        path = layer / rel
        if path.is_file() and not path.is_symlink():
            try:
                return path.read_text(errors="replace")
            except OSError:
                return ""
    return ""


def resolve_user(spec: convert.ContainerSpec, image: ImageInput) -> convert.ResolvedUser:
    user = spec.user or image.config.get("User") or None
    if not user and not spec.group_add:
        passwd = _read_from_layers(image.lowers, "etc/passwd")
        return convert.resolve_user("0", [], passwd, "")
    return convert.resolve_user(user, spec.group_add, _read_from_layers(image.lowers, "etc/passwd"),
                                _read_from_layers(image.lowers, "etc/group"))


def write_etc_files(userdata: Path, spec: convert.ContainerSpec, hostname: str) -> dict[str, str]:
    req = etc_files.EtcRequest(hostname=hostname, network=spec.network)
    host_hosts = _host_file("/etc/hosts") if spec.network == "host" else ""
    files = {
        "/etc/hostname": etc_files.hostname_file(req),
        "/etc/hosts": etc_files.hosts_file(req, host_hosts),
        "/etc/resolv.conf": etc_files.resolv_conf(req, _host_file("/etc/resolv.conf")),
    }
    out = {}
    for dest, text in files.items():
        path = userdata / os.path.basename(dest)
        path.write_text(text)
        os.chmod(path, 0o644)
        out[dest] = str(path)
    return out


def _host_file(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def init_binary() -> str:
    from pycontainer import binaries

    for name in ("catatonit", "tini-static", "tini", "docker-init"):
        found = binaries.find(name)
        if found:
            return os.path.realpath(found)
    # pyc's own failure (exit 125), not the container command's: the host lacks the init.
    raise HostError("--init needs catatonit or tini on the host",
                    hint="apt-get install catatonit")


def create(paths: Paths, opts: CreateOptions) -> str:
    """Create the container; returns its full id. Nothing runs yet."""
    if not opts.cidfile:
        return _create(paths, opts)
    cidfile = _claim_cidfile(opts.cidfile)
    try:
        cid = _create(paths, opts)
        os.write(cidfile, cid.encode())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(opts.cidfile)
        raise
    finally:
        os.close(cidfile)
    return cid


def _claim_cidfile(path: str) -> int:
    """Docker's rule: an existing file is another container's; refuse before creating."""
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    except FileExistsError:
        raise UsageError(f"Container ID file found, make sure the other container isn't "
                         f"running or delete {path}") from None
    except OSError as exc:
        raise UsageError(f"failed to create the container ID file: {exc.strerror}: "
                         f"{path}") from None


def _check_stop_signal(value: str | None) -> None:
    """Docker refuses a bad --stop-signal at create, not when the container is stopped."""
    if not value:
        return
    from pycontainer.linux import proc

    try:
        proc.parse_signal(value)
    except UsageError:
        raise UsageError(f"Invalid signal: {value}") from None


def _create(paths: Paths, opts: CreateOptions) -> str:
    from pycontainer.ops import mounts, netsetup

    netsetup.validate(opts.network)  # bad flags fail before any pull
    if opts.spec.pod:
        from pycontainer.ops import podjoin

        podjoin.apply(paths, opts)  # --pod: options the pod decides are refused first
    mounts.validate(opts.volumes)
    _check_stop_signal(opts.spec.stop_signal)
    image, held = _held_image(paths, opts)
    try:
        return _create_from(paths, opts, image)
    finally:
        if held is not None:
            held.release()


def _held_image(paths: Paths, opts: CreateOptions) -> tuple[ImageInput, FileLock | None]:
    """The image, held (the store's `using()` lock) until the record naming it is written,
    so a concurrent `rmi -f` sees this container and keeps the image. Resolved (or pulled)
    first without the lock; looked at again under it, as an rmi may have come between."""
    image = image_input(paths, opts)
    if not image.image_id:
        return image, None  # --rootfs: no image
    from pycontainer.images.store import ImageStore

    store = ImageStore(paths)
    lock = store.using()
    lock.acquire()
    try:
        if not store.has_id(image.image_id):
            image = image_input(paths, opts)
    except BaseException:
        lock.release()
        raise
    return image, lock


def _create_from(paths: Paths, opts: CreateOptions, image: ImageInput) -> str:
    from pycontainer.ops import mounts, netsetup

    spec = opts.spec
    if spec.pod and spec.network == "container":  # the pod's network (ops.podjoin)
        from pycontainer.ops import podjoin

        network = podjoin.network_plan(paths, spec.pod)
    else:
        network = netsetup.plan(paths, opts.network or netsetup.NetworkRequest(
            networks=[] if spec.network == "private" else [spec.network]), spec, image.config)
    store = ContainerStore(paths)
    store.ensure()
    cid = new_id()
    # The directory and its lock come before the name: a name whose container has no
    # records and no lock holder is a killed create's, and the next create reclaims it.
    lock = store.claim_dirs(cid)
    name = ""
    try:
        name = spec.name or free_name(store.reserve_name, cid)
        if spec.name:
            store.reserve_name(name, cid)
        spec.mounts = list(spec.mounts) + mounts.plan(
            paths, opts.volumes or mounts.MountRequest(), image.config)
        return _create_records(paths, store, opts, image, cid, name, network)
    except BaseException:
        mounts.discard_anonymous(paths, spec.mounts)
        if name:
            store.release_name(name, cid)
        import shutil

        shutil.rmtree(store.dir(cid), ignore_errors=True)
        raise
    finally:
        lock.release()



def _create_records(paths: Paths, store: ContainerStore, opts: CreateOptions,
                    image: ImageInput, cid: str, name: str, network: NetworkPlan) -> str:
    from pycontainer.storage import select

    spec = opts.spec
    mapping = _mapping(spec)
    if spec.userns == "keep-id" and not spec.user:
        spec.user = f"{os.getuid()}:{os.getgid()}"  # Podman: keep-id runs as the user
    user = resolve_user(spec, image)
    args = convert.command_args(spec, image.config)  # fails early: no command
    config = ContainerConfig(
        id=cid, name=name, created=now_rfc3339(), image=image.ref, image_id=image.image_id,
        spec=spec, rootfs=None, runtime=opts.runtime or "builtin",
        path=args[0], args=args[1:], image_config=image.config, log_driver=opts.log_driver,
        log_opts=dict(opts.log_opts), network=network,
    )
    config.set_id_mapping(mapping)
    userdata = store.userdata(cid)
    hostname = spec.hostname or cid[:12]
    inputs = convert.SpecInputs(
        container_id=cid, user=user, etc_files=write_etc_files(userdata, spec, hostname),
        init_binary=init_binary() if spec.init else None,
        single_id_mapping=mapping.single,
        capabilities=caps.resolve(spec.cap_add, spec.cap_drop, spec.privileged),
        nofile_hard=_nofile_hard(),
    )
    from pycontainer.ops.netetc import write_etc

    write_etc(paths, userdata, network, config.spec, hostname)
    runtime_spec = convert.to_spec(spec, image.config, inputs)
    ensure_runtime(paths)  # 0700: mkdir would make it 0755 and expose its state
    choice = select.choose(paths.runtime)
    driver = select.driver(choice.name)
    plan = driver.prepare(store.dir(cid) / "storage", image.lowers)
    config.rootfs = plan
    store.save_bundle_spec(cid, runtime_spec)
    store.create(config, ContainerState(Status.CONFIGURED))
    events.container(paths, config, "create")
    return cid


def _nofile_hard() -> int | None:
    import resource

    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return None if hard == resource.RLIM_INFINITY else hard


def _mapping(spec: convert.ContainerSpec) -> userns.IdMapping:
    base = userns.default_mapping()
    if spec.userns == "keep-id":
        return userns.keep_id_mapping(base, os.getuid(), os.getgid())
    if spec.userns not in ("", "host", "private"):
        raise UsageError(f"--userns={spec.userns} is not supported (use keep-id)")
    return base
