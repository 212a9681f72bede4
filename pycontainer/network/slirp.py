"""slirp4netns: user-mode networking for a container's network namespace, and its port forwards.

One slirp4netns process serves one network namespace (found through a pid inside it). It
creates `tap0` there (10.0.2.100/24, gateway 10.0.2.2, DNS 10.0.2.3 with the default CIDR) and
forwards published ports through its API socket; `add_hostfwd` keeps the client's source
address, unlike a user-space proxy.

Lifetime: slirp4netns exits when its `--exit-fd` sees POLLHUP, i.e. when every copy of the
pipe's write end is closed. Whoever holds that write end (the per-container supervisor is
the natural owner) therefore bounds slirp4netns's life, even when killed with SIGKILL.

Imports stay stdlib-only (plus errors/paths) so the supervisor can import this module.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import select
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pycontainer.errors import Conflict, HostError, UsageError
from pycontainer.network.constants import DEFAULT_CIDR

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import TypedDict

    from pycontainer.jsontypes import JSON
    from pycontainer.network.ports import PortMapping

    class ApiError(TypedDict, total=False):
        desc: str

    class ForwardId(TypedDict):
        id: int

    # an answer on the API socket (slirp4netns(1)); "return" is a Python keyword
    ApiAnswer = TypedDict("ApiAnswer", {"error": ApiError, "return": ForwardId,
                                        "entries": list[JSON]}, total=False)

BINARY = "slirp4netns"
DEFAULT_MTU = 65520
TAP = "tap0"
SUN_PATH_MAX = 107  # sockaddr_un.sun_path is 108 bytes including the NUL


# --- options: `--network slirp4netns[:k=v,...]` (pure) ---------------------------------------


@dataclass(frozen=True)
class SlirpOptions:
    allow_host_loopback: bool = False
    mtu: int = DEFAULT_MTU
    cidr: str = DEFAULT_CIDR
    enable_ipv6: bool = False
    outbound_addr: str | None = None
    outbound_addr6: str | None = None
    #: who forwards published TCP ports: "pyc" (network.forwarder, splice) or "slirp4netns"
    #: (its add_hostfwd, slower); both keep the client's source address
    port_handler: str = "pyc"

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.cidr, strict=False)

    @property
    def guest_ip(self) -> str:
        """The container's address on tap0 (slirp's `recommended_vguest`, .100)."""
        return str(self.network.network_address + 100)

    @property
    def gateway(self) -> str:
        """The host as seen from inside (.2); reachable only with allow_host_loopback."""
        return str(self.network.network_address + 2)

    @property
    def dns_ip(self) -> str:
        """slirp's built-in DNS forwarder (.3)."""
        return str(self.network.network_address + 3)


def _parse_bool(key: str, value: str) -> bool:
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise UsageError(f"invalid value for slirp4netns option {key}: {value!r} (want true/false)")


def _parse_mtu(value: str) -> int:
    # slirp4netns accepts 68..65521; Podman's default (and pyc's) is 65520.
    if not value.isdigit() or not 68 <= int(value) <= 65521:
        raise UsageError(f"invalid slirp4netns mtu {value!r}: want a number from 68 to 65521")
    return int(value)


def _parse_cidr(value: str) -> str:
    try:
        net = ipaddress.IPv4Network(value, strict=False)
    except ValueError:
        raise UsageError(f"invalid slirp4netns cidr {value!r}") from None
    if net.prefixlen > 25:
        raise UsageError(f"slirp4netns cidr {value} is too small: the guest address is .100")
    return str(net)


def _parse_addr(key: str, value: str, version: int) -> str:
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        addr = None
    if addr is None or addr.version != version:
        raise UsageError(f"invalid slirp4netns {key} {value!r}: want an IPv{version} address")
    return str(addr)


PORT_HANDLERS = ("pyc", "slirp4netns")


def parse_slirp_options(text: str) -> SlirpOptions:
    """The part after `slirp4netns:` in `--network`, e.g. `allow_host_loopback=true,mtu=1500`."""
    values: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep:
            raise UsageError(f"invalid slirp4netns option {item!r}: want key=value")
        values[key] = _parse_option(key, value)
    return SlirpOptions(**values)


def _parse_option(key: str, value: str) -> Any:
    if key in ("allow_host_loopback", "enable_ipv6"):
        return _parse_bool(key, value)
    if key == "mtu":
        return _parse_mtu(value)
    if key == "cidr":
        return _parse_cidr(value)
    if key in ("outbound_addr", "outbound_addr6"):
        return _parse_addr(key, value, 6 if key.endswith("6") else 4)
    if key == "port_handler":
        if value not in PORT_HANDLERS:
            raise UsageError(
                f"slirp4netns port_handler={value} is not supported: pyc forwards TCP ports "
                "itself (port_handler=pyc, the default) or through slirp4netns "
                "(port_handler=slirp4netns); both keep source IPs"
            )
        return value
    raise UsageError(
        f"unknown slirp4netns option {key!r}; known: allow_host_loopback, cidr, enable_ipv6, "
        "mtu, outbound_addr, outbound_addr6, port_handler"
    )


# --- the slirp4netns binary and its features -------------------------------------------------

_features: dict[str, frozenset[str]] = {}


def find_binary() -> str:
    from pycontainer import binaries

    path = binaries.find(BINARY)
    if path is None:
        raise HostError(
            "slirp4netns is not installed; rootless containers need it for networking",
            hint="install it (apt-get install slirp4netns / dnf install slirp4netns), "
            "or use --network none or --network host",
        )
    return path


def features(binary: str | None = None, cache_dir: Path | None = None) -> frozenset[str]:
    """The long options the installed slirp4netns knows, from `--help`, probed once.

    Cached in this process and, with `cache_dir`, in a file keyed by the binary's mtime.
    """
    binary = binary or find_binary()
    if binary in _features:
        return _features[binary]
    stamp = f"{binary}:{os.stat(binary).st_mtime_ns}"
    cache = cache_dir / "slirp4netns-features.json" if cache_dir else None
    found = _read_feature_cache(cache, stamp)
    if found is None:
        help_text = subprocess.run(
            [binary, "--help"], capture_output=True, text=True, timeout=10, check=False
        )
        found = parse_help(help_text.stdout + help_text.stderr)
        _write_feature_cache(cache, stamp, found)
    _features[binary] = found
    return found


def parse_help(text: str) -> frozenset[str]:
    """`--enable-sandbox` etc. from slirp4netns's usage text."""
    import re

    return frozenset(re.findall(r"(--[a-z][a-z0-9-]+)", text))


def _read_feature_cache(path: Path | None, stamp: str) -> frozenset[str] | None:
    if path is None:
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("stamp") != stamp:
        return None
    return frozenset(data.get("options", []))


def _write_feature_cache(path: Path | None, stamp: str, found: frozenset[str]) -> None:
    if path is None:
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    with contextlib.suppress(OSError):
        tmp.write_text(json.dumps({"stamp": stamp, "options": sorted(found)}))
        os.rename(tmp, path)


def sandbox_safe(resolv_path: str = "/etc/resolv.conf") -> bool:
    """Whether --enable-sandbox keeps DNS working: it sees only /etc and /run of the host.

    A resolv.conf symlinked elsewhere (NixOS, some resolved setups) breaks slirp's DNS
    forwarder inside the sandbox (slirp4netns#315), so pyc leaves the sandbox off there.
    """
    real = os.path.realpath(resolv_path)
    return real.startswith(("/etc/", "/run/"))


def build_argv(
    binary: str,
    netns_pid: int,
    api_socket: str,
    exit_fd: int,
    ready_fd: int,
    options: SlirpOptions,
    known: frozenset[str],
    sandbox: bool = True,
) -> list[str]:
    """The slirp4netns command line (pure; `known` is what `features` found)."""
    argv = [binary, "--configure", f"--mtu={options.mtu}"]
    if options.cidr != DEFAULT_CIDR:
        argv.append(f"--cidr={options.cidr}")
    if not options.allow_host_loopback:
        argv.append("--disable-host-loopback")
    if options.enable_ipv6:
        argv.append("--enable-ipv6")
    if options.outbound_addr:
        argv.append(f"--outbound-addr={options.outbound_addr}")
    if options.outbound_addr6:
        argv.append(f"--outbound-addr6={options.outbound_addr6}")
    if sandbox and "--enable-sandbox" in known:
        argv.append("--enable-sandbox")
        if "--enable-seccomp" in known:
            argv.append("--enable-seccomp")
    argv += [f"--api-socket={api_socket}", f"--exit-fd={exit_fd}", f"--ready-fd={ready_fd}"]
    return [*argv, str(netns_pid), TAP]


# --- API socket path ------------------------------------------------------------------------


def api_socket_path(run_dir: Path, name: str) -> str:
    """`run_dir/name.sock`, or a short private /tmp path when that exceeds sun_path.

    `name` should be short (a 12-character container id).
    """
    path = os.path.join(run_dir, f"{name}.sock")
    if len(os.fsencode(path)) <= SUN_PATH_MAX:
        return path
    from pycontainer.paths import ensure_private_dir

    short = ensure_private_dir(Path(f"/tmp/pyc-{os.getuid()}"))
    return os.path.join(short, f"{name[:12]}.sock")


# --- the process ----------------------------------------------------------------------------


@dataclass
class Slirp:
    """A running slirp4netns. `holder_fd` is the exit pipe's write end when this process holds
    it (closing it stops slirp4netns); `to_dict` is what the container's state should keep."""

    pid: int
    api_socket: str
    netns_pid: int
    options: SlirpOptions = field(default_factory=SlirpOptions)
    holder_fd: int | None = None
    log_path: str | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def to_dict(self) -> JSON:
        return {"pid": self.pid, "api_socket": self.api_socket, "netns_pid": self.netns_pid,
                "mtu": self.options.mtu, "cidr": self.options.cidr,
                "allow_host_loopback": self.options.allow_host_loopback}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Slirp:
        opts = SlirpOptions(allow_host_loopback=bool(data.get("allow_host_loopback")),
                            mtu=int(data.get("mtu", DEFAULT_MTU)),
                            cidr=str(data.get("cidr", DEFAULT_CIDR)))
        return cls(int(data["pid"]), str(data["api_socket"]), int(data["netns_pid"]), opts)


def exit_pipe() -> tuple[int, int]:
    """(read end for slirp4netns's --exit-fd, write end for the holder). Both close-on-exec:
    hand the write end to the holder explicitly (e.g. `pass_fds`), never by accident."""
    return os.pipe()


def start_slirp(
    netns_pid: int,
    api_socket: str,
    options: SlirpOptions | None = None,
    *,
    exit_fd: int | None = None,
    log_path: str | None = None,
    cache_dir: Path | None = None,
    timeout: float = 10.0,
) -> Slirp:
    """Start slirp4netns on the network namespace of `netns_pid` and wait until tap0 is up.

    With `exit_fd` (the read end of `exit_pipe()`, whose write end someone else holds) this
    process keeps nothing; the caller may close its copy of `exit_fd` afterwards. Without
    it, a new pipe is made and the returned `Slirp.holder_fd` is its write end: slirp4netns
    lives while this process keeps that fd open.
    """
    options = options or SlirpOptions()
    binary = find_binary()
    known = features(binary, cache_dir)
    holder = None
    if exit_fd is None:
        exit_fd, holder = exit_pipe()
    ready_r, ready_w = os.pipe()
    argv = build_argv(binary, netns_pid, api_socket, exit_fd, ready_w, options, known,
                      sandbox_safe())
    with contextlib.suppress(FileNotFoundError):
        os.unlink(api_socket)
    try:
        proc = _spawn(argv, (exit_fd, ready_w), log_path)
    finally:
        os.close(ready_w)
        if holder is not None:
            os.close(exit_fd)
    slirp = Slirp(proc.pid, api_socket, netns_pid, options, holder, log_path, proc)
    try:
        _wait_ready(slirp, ready_r, timeout)
    except BaseException:
        stop_slirp(slirp)
        raise
    finally:
        os.close(ready_r)
    return slirp


def _private_mounts() -> None:  # pragma: no cover - runs in the forked child
    """As real root, slirp4netns's --enable-sandbox unshares a mount namespace, makes only
    "/" private (not recursively) and detaches the old root after pivot_root: on a host
    whose mounts are shared (systemd's default) that unmount propagated back and took the
    host's /dev/pts, /dev/shm and cgroup mounts with it. So it starts in a mount namespace
    of its own whose mounts no longer propagate anywhere. (Rootless, its namespace belongs
    to a less privileged user namespace, where the kernel makes shared mounts slaves.)"""
    from pycontainer.linux import syscalls  # imported by _spawn before the fork

    syscalls.unshare(syscalls.CLONE_NEWNS)
    syscalls.mount(None, "/", None, syscalls.MS_REC | syscalls.MS_PRIVATE)


def _spawn(argv: list[str], fds: tuple[int, ...], log_path: str | None) -> subprocess.Popen[bytes]:
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    if os.getuid() == 0:
        from pycontainer.linux import syscalls  # noqa: F401 - not imported after the fork
    try:
        # A new session: a Ctrl-C at the terminal of `pyc run` must not reach slirp4netns.
        return subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, pass_fds=fds,
            start_new_session=True, close_fds=True,
            preexec_fn=_private_mounts if os.getuid() == 0 else None,
        )
    except OSError as exc:
        raise HostError(f"cannot start slirp4netns: {exc.strerror}") from None
    finally:
        if log_path and not isinstance(log, int):
            log.close()


def _wait_ready(slirp: Slirp, ready_r: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise HostError(f"slirp4netns did not configure {TAP} within {timeout:.0f}s"
                            + _log_tail(slirp.log_path))
        readable, _, _ = select.select([ready_r], [], [], min(left, 0.1))
        if readable and os.read(ready_r, 1) == b"1":
            return
        if slirp.proc is not None and slirp.proc.poll() is not None:
            raise HostError(f"slirp4netns exited with status {slirp.proc.returncode} before "
                            f"configuring {TAP}" + _log_tail(slirp.log_path))
        if readable:  # EOF without "1": slirp4netns closed its ready fd and is dying
            time.sleep(0.05)


def _log_tail(path: str | None) -> str:
    if not path:
        return ""
    try:
        lines = Path(path).read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return (": " + lines[-1]) if lines else ""


def stop_slirp(slirp: Slirp, timeout: float = 5.0) -> None:
    """Stop slirp4netns: close the exit fd if held here, else SIGTERM it; then SIGKILL."""
    if slirp.holder_fd is not None:
        with contextlib.suppress(OSError):
            os.close(slirp.holder_fd)
        slirp.holder_fd = None
    elif is_slirp_process(slirp.pid, slirp.api_socket):
        with contextlib.suppress(ProcessLookupError):
            os.kill(slirp.pid, signal.SIGTERM)
    if not _wait_gone(slirp, timeout) and is_slirp_process(slirp.pid, slirp.api_socket):
        with contextlib.suppress(ProcessLookupError):
            os.kill(slirp.pid, signal.SIGKILL)
        _wait_gone(slirp, timeout)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(slirp.api_socket)


def _wait_gone(slirp: Slirp, timeout: float) -> bool:
    if slirp.proc is not None:
        try:
            slirp.proc.wait(timeout)  # our child: reap it, no polling
            return True
        except subprocess.TimeoutExpired:
            return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_slirp_process(slirp.pid, slirp.api_socket):
            return True
        time.sleep(0.01)
    return False


def is_slirp_process(pid: int, api_socket: str) -> bool:
    """Whether `pid` is still the slirp4netns serving `api_socket` (not a reused pid)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            args = f.read().split(b"\0")
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
    except OSError:
        return False
    if state == b"Z":
        return False
    return os.path.basename(args[0]) == b"slirp4netns" and (
        os.fsencode(f"--api-socket={api_socket}") in args
    )


# --- port forwards through the API socket ----------------------------------------------------


def api_call(api_socket: str, request: JSON, timeout: float = 5.0) -> ApiAnswer:
    """One request on slirp4netns's API socket: it reads a single message, answers, closes."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(api_socket)
            sock.sendall(json.dumps(request).encode())
            sock.shutdown(socket.SHUT_WR)
            reply = b""
            while chunk := sock.recv(65536):
                reply += chunk
        except OSError as exc:
            raise HostError(f"slirp4netns API {api_socket}: {exc.strerror or exc}") from None
    try:
        answer: ApiAnswer = json.loads(reply)
    except ValueError:
        raise HostError(f"slirp4netns API returned {reply[:200]!r}") from None
    if not isinstance(answer, dict):
        raise HostError(f"slirp4netns API returned {reply[:200]!r}")
    return answer


def add_forward(
    api_socket: str, proto: str, host_ip: str, host_port: int, guest_port: int,
    guest_ip: str | None = None,
) -> int:
    """Forward host `host_ip:host_port` to the container's `guest_port`; returns the id."""
    if proto not in ("tcp", "udp"):
        raise UsageError(f"slirp4netns cannot forward {proto} ports (only tcp and udp)")
    if ":" in host_ip:
        raise UsageError(
            f"slirp4netns forwards IPv4 host addresses only, not {host_ip}; "
            "publish on 0.0.0.0 or an IPv4 address"
        )
    args: JSON = {"proto": proto, "host_addr": host_ip or "0.0.0.0",
                  "host_port": host_port, "guest_port": guest_port}
    if guest_ip:
        args["guest_addr"] = guest_ip
    answer = api_call(api_socket, {"execute": "add_hostfwd", "arguments": args})
    if "error" in answer:
        desc = str(answer["error"].get("desc", answer["error"]))
        if "slirp_add_hostfwd failed" in desc:
            raise Conflict(f"Bind for {host_ip or '0.0.0.0'}:{host_port} failed: "
                           "port is already allocated")
        raise HostError(f"slirp4netns refused the {proto} forward of port {host_port}: {desc}")
    return int(answer["return"]["id"])


def remove_forward(api_socket: str, forward_id: int) -> None:
    answer = api_call(api_socket, {"execute": "remove_hostfwd", "arguments": {"id": forward_id}})
    if "error" in answer:
        raise HostError(f"slirp4netns could not remove forward {forward_id}: "
                        f"{answer['error'].get('desc', answer['error'])}")


def list_forwards(api_socket: str) -> list[JSON]:
    answer = api_call(api_socket, {"execute": "list_hostfwd"})
    return list(answer.get("entries", []))


def check_mappings(mappings: Iterable[PortMapping]) -> None:
    """Refuse, before anything is created, what slirp4netns cannot forward (IPv6 host
    addresses, SCTP)."""
    for m in mappings:
        if m.protocol not in ("tcp", "udp"):
            raise UsageError(f"cannot publish {m.container_port}/{m.protocol}: slirp4netns "
                             "forwards tcp and udp only")
        if ":" in m.host_ip:
            raise UsageError(f"cannot publish on {m.host_ip}: slirp4netns forwards IPv4 host "
                             "addresses only")


def forward_ports(slirp: Slirp, mappings: Iterable[PortMapping]) -> list[int]:
    """Add a forward per `ports.PortMapping`; on failure remove those added, then raise."""
    added: list[int] = []
    try:
        for m in mappings:
            added.append(add_forward(slirp.api_socket, m.protocol, m.host_ip, m.host_port,
                                     m.container_port))
    except BaseException:
        for fid in added:
            with contextlib.suppress(HostError):
                remove_forward(slirp.api_socket, fid)
        raise
    return added
