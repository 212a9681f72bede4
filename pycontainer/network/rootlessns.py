"""The per-user rootless network namespace that holds the bridges of user-defined networks.

Podman's design without its pause process: one small holder process per user lives in a user
namespace (the default rootless mapping) and a network namespace of its own. The bridges of
user-defined networks live in that network namespace, each container on such a network gets
a veth pair into it, and one slirp4netns on it carries outbound traffic (masqueraded) and
published ports. The holder also answers DNS for container names (see `network.dns`).

Later pyc commands find it again through `<runtime>/netns/holder.json` (pid, start time, slirp
API socket), checked against /proc so a reused pid is never mistaken for it.

Containers on user-defined networks must be created in the holder's user namespace (or a
child of it): only then may pyc, entering that user namespace, create veths between the
rootless namespace and the container's. `userns_path()` gives the runtime that path.

Run as `python -m pycontainer.network.rootlessns RUN_DIR DATA_DIR READY_FD`, it is the holder.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pycontainer.errors import HostError
from pycontainer.linux import fs, syscalls, userns
from pycontainer.linux.locks import FileLock

MARKER = "pycontainer.network.rootlessns"
NFT_RULES = """
table ip pycontainer {
  map published {
    type inet_proto . inet_service : ipv4_addr . inet_service;
  }
  chain prerouting {
    type nat hook prerouting priority dstnat; policy accept;
    iifname "tap0" dnat ip to meta l4proto . th dport map @published
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    iifname "pyc*" oifname "pyc*" drop
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "tap0" masquerade
  }
}
"""


@dataclass
class Holder:
    pid: int
    start_time: str
    api_socket: str
    slirp_pid: int

    @property
    def userns_path(self) -> str:
        return f"/proc/{self.pid}/ns/user"

    @property
    def netns_path(self) -> str:
        return f"/proc/{self.pid}/ns/net"


def state_dir(run_dir: Path) -> Path:
    return run_dir / "netns"


def _record_path(run_dir: Path) -> Path:
    return state_dir(run_dir) / "holder.json"


def _start_time(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return None


def find(run_dir: Path) -> Holder | None:
    """The running holder, or None (no record, or its process is gone or a reused pid)."""
    try:
        data = fs.read_json(_record_path(run_dir))
        holder = Holder(int(data["pid"]), str(data["start_time"]), str(data["api_socket"]),
                        int(data["slirp_pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if _start_time(holder.pid) != holder.start_time or not _is_holder(holder.pid):
        return None
    return holder


def _is_holder(pid: int) -> bool:
    # A zombie (a holder killed but not yet reaped by a long-lived parent) has an empty
    # cmdline and no namespaces left: it is not a holder any more.
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return MARKER.encode() in f.read()
    except OSError:
        return False


def userns_path(run_dir: Path) -> str:
    """/proc/PID/ns/user of the holder, for containers on user-defined networks."""
    holder = find(run_dir)
    if holder is None:
        raise HostError("the rootless network namespace is not running")
    return holder.userns_path


def ensure(run_dir: Path, data_dir: Path, mapping: userns.IdMapping | None = None) -> Holder:
    """The running holder, started (with its slirp4netns) when there is none."""
    sdir = state_dir(run_dir)
    sdir.mkdir(parents=True, exist_ok=True)
    with FileLock(sdir / "lock"):
        holder = find(run_dir)
        if holder is None:
            holder = _start(run_dir, data_dir, mapping or userns.default_mapping())
        return holder


def _start(run_dir: Path, data_dir: Path, mapping: userns.IdMapping) -> Holder:
    from pycontainer.network import slirp

    exit_r, exit_w = slirp.exit_pipe()
    ready_r, ready_w = os.pipe()
    argv = _holder_argv(run_dir, data_dir, ready_w)
    log = str(state_dir(run_dir) / "holder.log")

    def child() -> int:  # pragma: no cover - runs in the new namespaces
        os.setsid()
        _detach_stdio(log)
        os.set_inheritable(exit_w, True)  # the holder keeps slirp4netns's exit pipe open
        os.set_inheritable(ready_w, True)
        os.execv(argv[0], argv)
        return 127

    if os.getuid() == 0:
        # Real root needs no user namespace, and must not have one: a namespace it owned
        # could not move veth ends into containers' network namespaces, which root owns.
        pid = _fork_netns(child)
    else:
        pid = userns.fork_in_userns(child, mapping, syscalls.CLONE_NEWNET)
    os.close(exit_w)
    os.close(ready_w)
    try:
        _wait_holder(pid, ready_r)
        sock = slirp.api_socket_path(state_dir(run_dir), "slirp")
        s = slirp.start_slirp(pid, sock, exit_fd=exit_r,
                              log_path=str(state_dir(run_dir) / "slirp.log"))
    except BaseException:
        _kill(pid)
        raise
    finally:
        os.close(exit_r)
        os.close(ready_r)
    holder = Holder(pid, _start_time(pid) or "", s.api_socket, s.pid)
    fs.atomic_write_json(_record_path(run_dir), holder.__dict__, 0o600)
    return holder


def _detach_stdio(log: str) -> None:  # pragma: no cover - runs in the holder
    # The holder outlives the pyc command that started it: it must not keep that command's
    # stdout/stderr pipes open (a caller reading them to EOF would wait forever).
    null = os.open(os.devnull, os.O_RDONLY)
    out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(null, 0)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(null)
    os.close(out)


def _holder_argv(run_dir: Path, data_dir: Path, ready_fd: int) -> list[str]:
    from pycontainer.selfexec import python_argv

    return python_argv(MARKER, str(run_dir), str(data_dir), str(ready_fd))


def _wait_holder(pid: int, ready_r: int, timeout: float = 10.0) -> None:
    import select

    readable, _, _ = select.select([ready_r], [], [], timeout)
    msg = os.read(ready_r, 4096).decode(errors="replace") if readable else ""
    if msg != "ok":
        raise HostError(f"the rootless network namespace did not start: {msg or 'timeout'}")
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def stop(run_dir: Path) -> bool:
    """Stop the holder (its slirp4netns follows, its namespaces vanish). True if one ran."""
    sdir = state_dir(run_dir)
    if not sdir.exists():
        return False
    with FileLock(sdir / "lock"):
        holder = find(run_dir)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(_record_path(run_dir))
        if holder is None:
            return False
        _kill(holder.pid)
        _wait_gone(holder)
        return True


def _wait_gone(holder: Holder, timeout: float = 5.0) -> None:
    from pycontainer.network import slirp

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not slirp.is_slirp_process(holder.slirp_pid, holder.api_socket):
            return
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError):
        os.kill(holder.slirp_pid, signal.SIGKILL)


def run_inside(holder: Holder, fn: Callable[[], object],
               extra_netns: int | None = None) -> object:
    """Run `fn` in a forked child that entered the holder's user and network namespaces.

    `fn`'s JSON-able result comes back through a pipe; its PycError or OSError is re-raised
    here with its message. `extra_netns`, an open fd, stays usable by `fn` (e.g. the
    container's /proc/PID/ns/net opened beforehand).
    """
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(r)
        code = _child_run(holder, fn, w)
        os._exit(code)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        raw = f.read()
    os.waitpid(pid, 0)
    return _decode_result(raw)


def _child_run(holder: Holder, fn: Callable[[], object], w: int) -> int:  # pragma: no cover
    try:
        enter(holder)
        out = {"ok": fn()}
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
        out = {"error": type(exc).__name__, "message": getattr(exc, "message", str(exc))}
    try:
        os.write(w, json.dumps(out).encode())
    finally:
        os.close(w)
    return 0


def _fork_netns(child: Callable[[], int]) -> int:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the holder-to-be
        code = 1
        try:
            syscalls.unshare(syscalls.CLONE_NEWNET)
            code = child()
        finally:
            os._exit(code)
    return pid


def enter(holder: Holder) -> None:
    """setns into the holder's user then network namespace (the caller must be
    single-threaded, as setns into a user namespace requires). As real root the holder has
    no user namespace of its own, and joining one's own fails with EINVAL."""
    for path, flag in ((holder.userns_path, syscalls.CLONE_NEWUSER),
                       (holder.netns_path, syscalls.CLONE_NEWNET)):
        if _same_file(path, f"/proc/self/ns/{os.path.basename(path)}"):
            continue
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            syscalls.setns(fd, flag)
        finally:
            os.close(fd)


def _same_file(a: str, b: str) -> bool:
    sa, sb = os.stat(a), os.stat(b)
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def _decode_result(raw: bytes) -> object:
    from pycontainer import errors

    try:
        out = json.loads(raw)
    except ValueError:
        raise HostError("a helper in the rootless network namespace died") from None
    if "error" in out:
        cls = getattr(errors, out["error"], None)
        if isinstance(cls, type) and issubclass(cls, errors.PycError):
            raise cls(out["message"])
        raise HostError(f"rootless network namespace: {out['message']}")
    return out["ok"]


# --- the holder process ----------------------------------------------------------------------


def holder_main(run_dir: str, data_dir: str, ready_fd: int) -> int:  # pragma: no cover
    """Prepare the namespace (forwarding, NAT for tap0), report, then serve DNS forever."""
    try:
        _prepare_namespace()
    except Exception as exc:  # noqa: BLE001 - reported to the starter, then exit
        os.write(ready_fd, f"{type(exc).__name__}: {exc}".encode())
        return 1
    os.write(ready_fd, b"ok")
    os.close(ready_fd)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    from pycontainer.network import dns

    dns.serve(Path(data_dir) / "networks")
    return 0


def _prepare_namespace() -> None:
    import subprocess

    from pycontainer.linux import netif

    with open("/proc/sys/net/ipv4/ip_forward", "w") as f:
        f.write("1")
    # With br_netfilter, bridged frames would also pass the IP forward hook (as from and to
    # the bridge itself) and meet the rule that keeps networks apart; keep bridging pure L2.
    for table in ("iptables", "ip6tables", "arptables"):
        with contextlib.suppress(OSError), open(f"/proc/sys/net/bridge/bridge-nf-call-{table}",
                                                "w") as f:
            f.write("0")
    netif.loopback_up()
    from pycontainer import binaries

    nft = subprocess.run([binaries.find("nft") or "nft", "-f", "-"], input=NFT_RULES,
                         capture_output=True, text=True, check=False)
    if nft.returncode != 0:
        # Without NAT containers on user networks still reach each other; only outbound
        # traffic and published ports fail. Say so in the holder's log rather than refusing.
        sys.stderr.write(f"nft masquerade setup failed: {nft.stderr.strip()}\n")


def nft(command: str) -> None:
    """Run one nft command in the current (rootless) namespace; errors become HostError."""
    import subprocess

    from pycontainer import binaries

    try:
        res = subprocess.run([binaries.find("nft") or "nft", command], capture_output=True,
                             text=True, check=False)
    except FileNotFoundError:
        raise HostError(
            "nft is not installed: published ports and outbound traffic on user-defined "
            "networks need it", hint="apt-get install nftables / dnf install nftables") from None
    if res.returncode != 0:
        raise HostError(f"nft {command}: {res.stderr.strip()}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(holder_main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
