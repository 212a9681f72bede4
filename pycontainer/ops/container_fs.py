"""A container's files: `diff`, `export`, `commit`, `cp`.

All of them look at the container's files as its root user does: in a child process that
either joins the running container's user and mount namespaces, or (stopped) enters a user
namespace with the container's mapping and mounts its rootfs plan in a private mount
namespace. Nothing is mounted on the host. Data comes back over pipes (tar streams, or a
marshal'ed list for `diff`).
"""

from __future__ import annotations

import marshal
import os
import stat
import tarfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, cast

from pycontainer.containers.model import Container
from pycontainer.containers.store import ContainerStore
from pycontainer.errors import ContainerRuntimeError, PycError, UsageError
from pycontainer.linux import syscalls as sc
from pycontainer.linux import userns
from pycontainer.linux.inroot import entered_root, no_name_lookups
from pycontainer.oci.rootfs import RootfsPlan
from pycontainer.ops.lifecycle import load_synced, store_for
from pycontainer.paths import Paths

if TYPE_CHECKING:
    from pycontainer.jsontypes import JSON
    from pycontainer.oci.imagespec import HistoryEntry, ImageConfig, RunConfig

_OPAQUE = ("user.overlay.opaque", "trusted.overlay.opaque")


# -- running code inside the container's file system view ----------------------------------

class ReportedByParent(Exception):  # noqa: N818 - a signal to the forked child's wrapper
    """Raised by fn in a child of `spawn_in_fs`: exit 3 quietly, the parent says why (one
    line of error, not one from each process)."""


def spawn_in_fs(store: ContainerStore, c: Container, fn: Callable[[str], None],
                host_view: bool = False) -> int:
    """Fork a child that runs fn(root) with the container's files at `root`; its pid.

    `host_view`: fn reads the storage directories themselves (diff's upper dir) as root of
    the container's user namespace, in the host's mount namespace, where their paths are.
    """
    if host_view:
        return _spawn_as_container_root(c, lambda: fn("/"))
    if c.state.running and c.state.pid:
        ctr_pid = c.state.pid
        pid = os.fork()
        if pid == 0:  # pragma: no cover - child
            code = 1
            try:
                sc.join_ns_of(ctr_pid, "user")  # not as real root: it is ours
                sc.join_ns_of(ctr_pid, "mnt")
                fn("/")
                code = 0
            except ReportedByParent:
                code = 3
            except BaseException as exc:  # noqa: BLE001
                os.write(2, f"Error: {exc}\n".encode())
            finally:
                os._exit(code)
        return pid
    from pycontainer.runtime.launch import mount_rootfs

    plan = _plan(c)
    target = str(store.bundle(c.id) / "rootfs")

    def child() -> int:
        sc.mount(None, "/", None, sc.MS_REC | sc.MS_PRIVATE)
        helpers = mount_rootfs(plan, target)
        try:
            fn(target)
        except ReportedByParent:
            return 3
        finally:
            for h in helpers:
                os.kill(h, 15)
            # a fuse-overlayfs daemon exits once its mount is gone
            sc.umount2(target, 0)
        return 0

    return userns.fork_in_userns(child, c.config.id_mapping(), sc.CLONE_NEWNS)


def _spawn_as_container_root(c: Container, fn: Callable[[], None]) -> int:
    """A child that runs fn() as root of the container's user namespace (a new one like it
    when the container is not running), in the host's mount namespace."""
    if not (c.state.running and c.state.pid):
        def child() -> int:
            fn()
            return 0

        return userns.fork_in_userns(child, c.config.id_mapping())
    ctr_pid = c.state.pid
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 1
        try:
            sc.join_ns_of(ctr_pid, "user", sc.CLONE_NEWUSER)
            os.setresgid(0, 0, 0)
            os.setresuid(0, 0, 0)
            fn()
            code = 0
        except BaseException as exc:  # noqa: BLE001
            os.write(2, f"Error: {exc}\n".encode())
        finally:
            os._exit(code)
    return pid


def wait(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _container(paths: Paths, ref: str) -> tuple[ContainerStore, Container]:
    store = store_for(paths)
    cid = store.resolve(ref)
    with store.lock(cid):
        c = load_synced(store, cid)
    _plan(c)
    return store, c


def _plan(c: Container) -> RootfsPlan:
    if c.config.rootfs is None:
        raise ContainerRuntimeError(f"container {c.id} has no root file system")
    return c.config.rootfs


def _collect(store: ContainerStore, c: Container, fn: Callable[[str], list[list[str]]],
             host_view: bool = False) -> list[list[str]]:
    """Run fn(root) in the container's view and return its (marshal-able) result."""
    r, w = os.pipe()

    def child(root: str) -> None:
        _write_all(w, marshal.dumps(fn(root)))

    pid = spawn_in_fs(store, c, child, host_view)
    os.close(w)
    data = _read_all(r)
    if wait(pid) != 0 or not data:
        raise ContainerRuntimeError("could not read the container's files")
    return marshal.loads(data)


def _read_all(fd: int) -> bytes:
    chunks = []
    while data := os.read(fd, 1 << 16):
        chunks.append(data)
    os.close(fd)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


# -- diff --------------------------------------------------------------------------------------

def _placeholders(store: ContainerStore, c: Container) -> set[str]:
    """Mount targets pyc itself created in the writable layer (not the user's changes)."""
    from pycontainer.oci.runtime import Spec

    try:
        spec = Spec.from_json((store.bundle(c.id) / "config.json").read_bytes())
    except OSError:
        return set()
    return {m.destination for m in spec.mounts} | {"/dev", "/proc", "/sys"}


def changes(paths: Paths, ref: str) -> list[tuple[str, str]]:
    """Docker's `diff`: [(kind, path)] with kind A (added), C (changed), D (deleted)."""
    store, c = _container(paths, ref)
    plan = _plan(c)
    upper = plan.upper
    if not upper:
        raise UsageError(f"diff needs the overlay driver (container uses {plan.driver})")
    lowers = list(plan.lowers)
    skip = _placeholders(store, c)
    walk = _collect(store, c, lambda _root: _walk_upper(upper, lowers, skip), host_view=True)
    return [(kind, path) for kind, path in walk]


def _walk_upper(upper: str, lowers: list[str], skip: set[str]) -> list[list[str]]:
    found: dict[str, str] = {}
    for root, dirs, files in os.walk(upper):
        for name in dirs + files:
            full = os.path.join(root, name)
            rel = "/" + os.path.relpath(full, upper)
            st = os.lstat(full)
            if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
                found[rel] = "D"
            elif rel in skip and (stat.S_ISDIR(st.st_mode) or st.st_size == 0):
                continue
            elif any(_in_layer(lo, rel) for lo in lowers):
                found[rel] = "C"
            else:
                found[rel] = "A"
    # a directory that only holds pyc's placeholders is not a change
    for rel in sorted(found, key=len, reverse=True):
        full = os.path.join(upper, rel.lstrip("/"))
        if (found[rel] == "C" and _is_dir(full) and not _opaque(full)
                and not any(k.startswith(rel + "/") for k in found)):
            del found[rel]
    return [[kind, rel] for rel, kind in sorted(found.items())]


def _is_dir(path: str) -> bool:
    """A real directory: a link to one (maybe on the host) is a change of its own."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _in_layer(layer: str, rel: str) -> bool:
    """Does the layer directory hold `rel`? Looked up without following the layer's links,
    which point into the image (or at the host), not into the layer."""
    path = layer
    parts = rel.strip("/").split("/")
    for i, part in enumerate(parts):
        path = os.path.join(path, part)
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            return False
        if i < len(parts) - 1 and not stat.S_ISDIR(mode):
            return False
    return True


def _opaque(path: str) -> bool:
    for name in _OPAQUE:
        try:
            if os.getxattr(path, name, follow_symlinks=False) == b"y":
                return True
        except OSError:
            continue
    return False


# -- export and commit -------------------------------------------------------------------------

def _tar_tree(root: str, out: IO[bytes], skip_mounts: bool) -> None:
    """The tree at root as a tar stream (not following mounts below it when running)."""
    root_dev = os.lstat(root).st_dev
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for base, dirs, files in os.walk(root):
            rel_base = os.path.relpath(base, root)
            for name in sorted(dirs + files):
                full = os.path.join(base, name)
                arc = os.path.normpath(os.path.join(rel_base, name))
                tar.add(full, arcname=arc, recursive=False)
            if skip_mounts:
                dirs[:] = [d for d in dirs
                           if os.lstat(os.path.join(base, d)).st_dev == root_dev]


def export(paths: Paths, ref: str, out_fd: int) -> None:
    """`pyc export`: the container's file system as a tar stream on out_fd."""
    store, c = _container(paths, ref)

    def child(root: str) -> None:
        no_name_lookups()  # numeric owners, as Docker's export
        with os.fdopen(out_fd, "wb", closefd=False) as out, entered_root(root):
            _tar_tree("/", out, skip_mounts=True)

    if wait(spawn_in_fs(store, c, child)) != 0:
        raise ContainerRuntimeError("export failed")


def _layer_tar(upper: str, out: IO[bytes], skip: set[str]) -> None:
    """The writable layer as an image layer: overlay whiteouts become `.wh.` entries."""
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for base, dirs, files in os.walk(upper):
            rel_base = os.path.relpath(base, upper)
            if rel_base != "." and _opaque(base):
                tar.addfile(tarfile.TarInfo(os.path.join(rel_base, ".wh..wh..opq")))
            for name in sorted(dirs + files):
                full = os.path.join(base, name)
                arc = os.path.normpath(os.path.join(rel_base, name))
                st = os.lstat(full)
                if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
                    tar.addfile(tarfile.TarInfo(os.path.join(rel_base, ".wh." + name)))
                elif "/" + arc in skip and (stat.S_ISDIR(st.st_mode) or st.st_size == 0):
                    continue
                else:
                    tar.add(full, arcname=arc, recursive=False)


@dataclass
class CommitOptions:
    name: str = ""
    message: str = ""
    author: str = ""
    changes: list[str] = field(default_factory=list)
    #: fields of Docker's container Config that win over the container's (the API's body)
    config: Mapping[str, object] = field(default_factory=dict)


#: the container Config fields an image keeps (a commit's overrides may set these)
IMAGE_CONFIG_KEYS = ("User", "ExposedPorts", "Env", "Cmd", "Healthcheck", "Volumes",
                     "WorkingDir", "Entrypoint", "OnBuild", "Labels", "StopSignal", "Shell")


def commit(paths: Paths, ref: str, opts: CommitOptions) -> str:
    """`pyc commit`: a new image from the container's writable layer; returns its id."""
    from pycontainer.images.commit import commit_layer_image
    from pycontainer.images.store import ImageStore
    from pycontainer.ops import changes as image_changes
    from pycontainer.ops.inspect import to_docker

    store, c = _container(paths, ref)
    upper = _plan(c).upper
    if not upper:
        raise UsageError("commit needs the overlay driver")
    images = ImageStore(paths)
    base = images.resolve(c.config.image_id) if c.config.image_id else None
    config: ImageConfig = {"config": _commit_config(to_docker(store, c)["Config"],
                                                    opts.config)}
    if opts.author:
        config["author"] = opts.author
    image_changes.apply(config, opts.changes)
    skip = _placeholders(store, c)
    r, w = os.pipe()

    def child(_root: str) -> None:
        with os.fdopen(w, "wb") as out:
            _layer_tar(upper, out, skip)

    pid = spawn_in_fs(store, c, child)
    os.close(w)
    history: HistoryEntry = {"created_by": f"pyc commit {c.name}"}
    if opts.message:
        history["comment"] = opts.message
    try:
        with os.fdopen(r, "rb") as layer:
            record = commit_layer_image(images, layer, config,
                                        [opts.name] if opts.name else [], base, history)
    finally:
        status = wait(pid)
    if status != 0:
        raise ContainerRuntimeError("commit: reading the container's changes failed")
    return record.id


def _commit_config(cfg: JSON, overrides: Mapping[str, object]) -> RunConfig:
    keys = ("User", "ExposedPorts", "Env", "Cmd", "Entrypoint", "WorkingDir", "Volumes",
            "Labels", "StopSignal")
    out = {k: cfg[k] for k in keys if cfg.get(k) not in (None, "", {}, [])}
    out.update({k: v for k, v in overrides.items()
                if k in IMAGE_CONFIG_KEYS and v not in (None, "", [], {})})
    # Docker's container Config shapes (inspect's, the API body's) for the image's keys
    return cast("RunConfig", out)


# -- cp ----------------------------------------------------------------------------------------

def _split(arg: str) -> tuple[str | None, str]:
    if ":" in arg and not arg.startswith(("/", ".")):
        ctr, _, path = arg.partition(":")
        return ctr, path
    return None, arg


@dataclass(frozen=True)
class CopyOptions:
    #: -a: keep the source's uid/gid (else what goes into a container belongs to its root)
    archive: bool = False
    #: -L: a SRC that is a symbolic link is copied as what it points at (resolved inside
    #: the container's root for a container path)
    follow_link: bool = False


def cp(paths: Paths, src: str, dest: str, stdin: IO[bytes], stdout: IO[bytes],
       opts: CopyOptions | None = None) -> None:
    """`pyc cp CTR:SRC DEST|-` and `pyc cp SRC|- CTR:DEST` (tar streams for `-`)."""
    opts = opts or CopyOptions()
    src_ctr, src_path = _split(src)
    dst_ctr, dst_path = _split(dest)
    if src_ctr is None and dst_ctr is None:
        raise UsageError("copying between host paths is not supported: one of SRC and DEST "
                         "must be CONTAINER:PATH")
    if src_ctr is not None and dst_ctr is not None:  # Podman: through a tar in between
        import tempfile

        with tempfile.TemporaryFile() as tmp:
            _copy_out(paths, src_ctr, src_path, "-", tmp, opts)
            tmp.seek(0)
            _copy_in(paths, "-", dst_ctr, dst_path, tmp,
                     opts, name=os.path.basename(src_path.rstrip("/")) or None)
    elif src_ctr is not None:
        _copy_out(paths, src_ctr, src_path, dst_path, stdout, opts)
    else:
        assert dst_ctr is not None
        _copy_in(paths, src_path, dst_ctr, dst_path, stdin, opts)


def _copy_out(paths: Paths, ref: str, src: str, dest: str, stdout: IO[bytes],
              opts: CopyOptions) -> None:
    store, c = _container(paths, ref)
    r, w = os.pipe()

    def child(root: str) -> None:
        no_name_lookups()
        # the container's links resolve in its root, never on the host (CVE-2018-15664)
        with entered_root(root):
            path = "/" + src.lstrip("/")
            if not os.path.lexists(path):
                raise ReportedByParent()
            if opts.follow_link:  # chrooted: the link resolves inside the container
                path = os.path.realpath(path)
            with os.fdopen(w, "wb") as out, tarfile.open(fileobj=out, mode="w|") as tar:
                tar.add(path, arcname=os.path.basename(src.rstrip("/")) or ".")

    pid = spawn_in_fs(store, c, child)
    os.close(w)
    with os.fdopen(r, "rb") as stream:
        if dest == "-":
            while data := stream.read(1 << 16):
                stdout.write(data)
        elif stream.peek(1):
            extract(stream, dest, os.path.basename(src.rstrip("/")), owner=None)
    if wait(pid) != 0:
        raise PycError(f"Could not find the file {src} in container {ref}")


def extract(stream: IO[bytes], dest: str, name: str | None, owner: int | None,
            keep_kinds: bool = False) -> None:
    """Docker's rule: into DEST when it is a directory (or for a tar stream, name None),
    else as DEST itself (the top entry renamed). Nothing may land outside. `keep_kinds`
    (the API's noOverwriteDirNonDir): a directory never replaces a file, nor the reverse."""
    if dest.endswith("/") and os.path.lexists(dest.rstrip("/")) and not os.path.isdir(dest):
        raise UsageError(f"{dest.rstrip('/')} is not a directory")
    into = name is None or os.path.isdir(dest) or dest.endswith("/")
    base = os.path.abspath(dest if into else os.path.dirname(os.path.abspath(dest)))
    top = base if into else os.path.join(base, os.path.basename(dest))
    with tarfile.open(fileobj=stream, mode="r|") as tar:
        for member in tar:
            rel = member.name
            if not into:
                parts = rel.split("/", 1)
                rel = os.path.basename(dest) + ("/" + parts[1] if len(parts) > 1 else "")
            target = os.path.abspath(os.path.join(base, rel))
            if target == top and member.isdir() and os.path.lexists(top) \
                    and not os.path.isdir(top):
                raise UsageError(f"cannot overwrite non-directory {dest!r} with a directory")
            if not _inside(base, target) or not _lands_inside(base, target):
                raise UsageError(f"refusing to write outside {dest}: {member.name}")
            member.name = target.lstrip("/")
            if member.islnk():
                linked = os.path.abspath(os.path.join(base, member.linkname))
                if not _inside(base, linked):
                    raise UsageError(f"refusing to link outside {dest}: {member.name}")
                member.linkname = linked.lstrip("/")
            if keep_kinds and target != base:
                _check_kind(target, member)
            if target != top and not member.isdir() and os.path.islink(target):
                os.unlink(target)  # replaced, as Docker does; never written through
            if owner is not None:
                member.uid = member.gid = owner
            try:
                tar.extract(member, path="/", set_attrs=True,
                            numeric_owner=owner is not None)
            except OSError as exc:  # one line, not Python's "[Errno 21] ..."
                raise UsageError(f"{exc.strerror or exc}: {target}") from None


def _check_kind(target: str, member: tarfile.TarInfo) -> None:
    if not os.path.lexists(target):
        return
    is_dir = stat.S_ISDIR(os.lstat(target).st_mode)
    if is_dir and not member.isdir():
        raise UsageError(f"cannot overwrite directory {target!r} with non-directory "
                         f"{member.name!r}")
    if member.isdir() and not is_dir:
        raise UsageError(f"cannot overwrite non-directory {target!r} with directory "
                         f"{member.name!r}")


def _inside(base: str, target: str) -> bool:
    return target == base or target.startswith(base.rstrip("/") + "/")


def _lands_inside(base: str, target: str) -> bool:
    """Does writing `target` stay below `base` once the links already there (an earlier
    member's, say) are followed?"""
    if target == base:
        return True
    return _inside(os.path.realpath(base), os.path.realpath(os.path.dirname(target)))


def _copy_in(paths: Paths, src: str, ref: str, dest: str, stdin: IO[bytes],
             opts: CopyOptions, name: str | None = None) -> None:
    """`name`: the tar on `stdin` holds that one entry (a copy from another container),
    placed by Docker's rule like a host SRC, not extracted into DEST as a user's stream."""
    store, c = _container(paths, ref)
    if src != "-" and not os.path.lexists(src):
        raise UsageError(f"no such file or directory: {src}")
    r, w = os.pipe()
    err_r, err_w = os.pipe()
    name = name if src == "-" else os.path.basename(src.rstrip("/"))

    def child(root: str) -> None:
        os.close(w)
        os.close(err_r)
        # the container's links resolve in its root, never on the host (CVE-2018-15664)
        try:
            with os.fdopen(r, "rb") as stream, entered_root(root):
                extract(stream, "/" + dest.lstrip("/"), name,
                        owner=None if opts.archive else 0)
        except (PycError, OSError, tarfile.TarError) as exc:
            _write_all(err_w, _one_line(exc).encode())
            raise ReportedByParent() from None

    pid = spawn_in_fs(store, c, child)
    os.close(r)
    os.close(err_w)
    try:
        with os.fdopen(w, "wb") as out:
            if src == "-":
                while data := stdin.read(1 << 16):
                    out.write(data)
            else:
                with tarfile.open(fileobj=out, mode="w|") as tar:
                    tar.add(os.path.realpath(src) if opts.follow_link else src,
                            arcname=name or ".")
    except BrokenPipeError:
        pass
    code = wait(pid)
    reason = _read_all(err_r).decode(errors="replace")
    if code != 0:
        raise ContainerRuntimeError(reason or f"copying into {ref}:{dest} failed")


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, PycError):
        return exc.message
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc.strerror)
    return f"not a tar archive: {exc}"
