"""Published ports: Docker's `-p`/`-P` syntax, host-port allocation, and Docker's output forms.

Parsing and formatting are pure. `allocate` touches the host only to test-bind ports, so a run
whose host port is taken fails before anything is created (Docker's "port is already
allocated"). The forwarding itself is done by slirp4netns (see `network.slirp`).

A `PortMapping` with `host_port == 0` asks for a random free host port; `host_port_end` makes
`host_port..host_port_end` a range to pick one free port from (Docker's `-p 8000-8010:80`).
`host_ip == ""` means every interface, shown as 0.0.0.0 once allocated.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pycontainer.errors import Conflict, HostError, NotFound, UsageError

PROTOCOLS = ("tcp", "udp", "sctp")
ANY_V4 = "0.0.0.0"
UNPRIVILEGED_PORT_START = "/proc/sys/net/ipv4/ip_unprivileged_port_start"


@dataclass(frozen=True)
class PortMapping:
    host_ip: str
    host_port: int
    container_port: int
    protocol: str = "tcp"
    host_port_end: int = 0

    @property
    def key(self) -> str:
        """Docker's port key, `80/tcp`."""
        return f"{self.container_port}/{self.protocol}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "host_ip": self.host_ip,
            "host_port": self.host_port,
            "container_port": self.container_port,
            "protocol": self.protocol,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PortMapping:
        return cls(str(data["host_ip"]), int(data["host_port"]), int(data["container_port"]),
                   str(data.get("protocol", "tcp")))


# --- parsing ---------------------------------------------------------------------------------


def parse_publish(spec: str) -> list[PortMapping]:
    """One `-p` value, expanded to one mapping per container port (Docker's ParsePortSpec)."""
    ip, host, container = _split_parts(spec)
    container, proto = _split_proto(container)
    ip = _parse_ip(ip)
    if not container:
        raise UsageError(f"no port specified: {spec}<empty>")
    c_start, c_end = _parse_range(container, "containerPort")
    if c_start == 0:
        raise UsageError(f"invalid containerPort: {container}")
    h_start, h_end = _parse_range(host, "hostPort") if host else (0, 0)
    if host and (c_end - c_start) != (h_end - h_start) and c_end != c_start:
        raise UsageError(
            f"invalid ranges specified for container and host Ports: {container} and {host}"
        )
    if proto not in PROTOCOLS:
        raise UsageError(f"invalid proto: {proto}")
    if c_start == c_end:
        # One container port: a host range is a pool to pick one free port from.
        end = h_end if h_end != h_start else 0
        return [PortMapping(ip, h_start, c_start, proto, end)]
    return [
        PortMapping(ip, h_start + i if host else 0, c_start + i, proto)
        for i in range(c_end - c_start + 1)
    ]


def parse_publish_all(specs: Iterable[str]) -> list[PortMapping]:
    """Every `-p` of a run, in order."""
    out: list[PortMapping] = []
    for spec in specs:
        out.extend(parse_publish(spec))
    return out


def _split_parts(spec: str) -> tuple[str, str, str]:
    # Split on ':' like Docker: the last part is the container port, the one before the host
    # port, and everything before that the IP (which may itself hold ':' for IPv6).
    parts = spec.split(":")
    if len(parts) == 1:
        return "", "", parts[0]
    if len(parts) == 2:
        return "", parts[0], parts[1]
    return ":".join(parts[:-2]), parts[-2], parts[-1]


def _split_proto(text: str) -> tuple[str, str]:
    port, _, proto = text.partition("/")
    return port, (proto or "tcp").lower()


def _parse_ip(ip: str) -> str:
    if ip.startswith("[") and ip.endswith("]"):
        ip = ip[1:-1]
    if not ip:
        return ""
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        raise UsageError(f"invalid IP address: {ip}") from None


_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")


def _parse_range(text: str, what: str) -> tuple[int, int]:
    m = _RANGE.match(text)
    if not m:
        raise UsageError(f"invalid {what}: {text}")
    start = int(m.group(1))
    end = int(m.group(2)) if m.group(2) else start
    if start > 65535 or end > 65535 or end < start:
        raise UsageError(f"invalid {what}: {text}")
    return start, end


def parse_port_proto(text: str) -> tuple[int, str]:
    """`80`, `80/udp` (an EXPOSE entry or `pyc port` argument) -> (80, "udp")."""
    port, proto = _split_proto(text.strip())
    if not port.isdigit() or not 0 < int(port) <= 65535:
        raise UsageError(f"invalid port: {port}")
    if proto not in PROTOCOLS:
        raise UsageError(f"invalid proto: {proto}")
    return int(port), proto


def publish_exposed(exposed: Iterable[str], already: Iterable[PortMapping] = ()) -> list[
    PortMapping
]:
    """`-P`: a random host port for each exposed port that `-p` did not already publish."""
    taken = {m.key for m in already}
    out = []
    for entry in exposed:
        port, proto = parse_port_proto(entry)
        if f"{port}/{proto}" not in taken:
            taken.add(f"{port}/{proto}")
            out.append(PortMapping("", 0, port, proto))
    return out


# --- host side: allocation -------------------------------------------------------------------


def unprivileged_port_start(path: str = UNPRIVILEGED_PORT_START) -> int:
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return 1024


def allocate(mappings: Iterable[PortMapping]) -> list[PortMapping]:
    """Concrete mappings: random and range ports chosen, every host port checked free.

    Raises Conflict when a port is taken (or asked twice) and HostError for a port below
    net.ipv4.ip_unprivileged_port_start. Call it before creating anything for the container.
    """
    out: list[PortMapping] = []
    for m in mappings:
        ip = m.host_ip or ANY_V4
        if m.host_port_end:
            port = _first_free(ip, m.host_port, m.host_port_end, m.protocol, out)
        elif m.host_port == 0:
            port = random_free_port(ip, m.protocol, out)
        else:
            port = m.host_port
            _check_unique(ip, port, m.protocol, out)
            check_host_port(ip, port, m.protocol)
        out.append(PortMapping(ip, port, m.container_port, m.protocol))
    return out


def _overlaps(ip: str, port: int, proto: str, other: PortMapping) -> bool:
    if port != other.host_port or proto != other.protocol:
        return False
    wild = {ANY_V4, "::"}
    return ip == other.host_ip or ip in wild or other.host_ip in wild


def _check_unique(ip: str, port: int, proto: str, chosen: list[PortMapping]) -> None:
    if any(_overlaps(ip, port, proto, c) for c in chosen):
        raise _in_use(ip, port, proto)


def _in_use(ip: str, port: int, proto: str) -> Conflict:
    return Conflict(
        f"Bind for {_join(ip, port)} failed: port is already allocated",
        hint=f"host port {port}/{proto} is in use; choose another with -p HOSTPORT:...",
    )


def check_host_port(ip: str, port: int, proto: str = "tcp") -> None:
    """Raise unless `ip:port` can be bound now (the forwarder binds it next)."""
    start = unprivileged_port_start()
    if port < start and os.getuid() != 0:
        raise HostError(
            f"cannot expose privileged port {port}: rootless pyc can bind only ports >= {start} "
            f"(net.ipv4.ip_unprivileged_port_start={start})",
            hint=f"choose a host port >= {start}, or ask an admin to run "
            f"`sudo sysctl -w net.ipv4.ip_unprivileged_port_start={port}`",
        )
    try:
        _bind_probe(ip, port, proto).close()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise _in_use(ip, port, proto) from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise UsageError(f"cannot bind {_join(ip, port)}: no such address here") from None
        raise HostError(f"cannot bind {_join(ip, port)}/{proto}: {exc.strerror}") from None


def _bind_probe(ip: str, port: int, proto: str) -> socket.socket:
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    sock = socket.socket(family, kind)
    try:
        if kind == socket.SOCK_STREAM:
            # libslirp listens with SO_REUSEADDR; without it here a port left in TIME_WAIT by
            # a removed container would look taken although the forward would succeed.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((ip, port))
        if kind == socket.SOCK_STREAM:
            sock.listen(1)
    except OSError:
        sock.close()
        raise
    return sock


def random_free_port(ip: str = ANY_V4, proto: str = "tcp",
                     avoid: Iterable[PortMapping] = ()) -> int:
    """A free host port from the kernel's ephemeral range (bind to port 0 and read it back)."""
    avoid = list(avoid)
    for _ in range(64):
        sock = _bind_probe(ip, 0, proto)
        port = int(sock.getsockname()[1])
        sock.close()
        if not any(_overlaps(ip, port, proto, a) for a in avoid):
            return port
    raise Conflict(f"no free host port for {proto} on {ip}")


def _first_free(ip: str, start: int, end: int, proto: str, avoid: list[PortMapping]) -> int:
    last: Exception | None = None
    for port in range(start, end + 1):
        try:
            _check_unique(ip, port, proto, avoid)
            check_host_port(ip, port, proto)
            return port
        except Conflict as exc:
            last = exc
    raise Conflict(
        f"Bind for {ip}:{start}-{end} failed: every port in the range is already allocated"
    ) from last


# --- Docker's output forms -------------------------------------------------------------------


def _join(ip: str, port: int | str) -> str:
    """Go's net.JoinHostPort: brackets around IPv6 addresses."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _ip_key(ip: str) -> tuple[int, int]:
    # Go's netip.Addr.Less: the zero address first, then IPv4, then IPv6, each numerically.
    if not ip:
        return (0, 0)
    addr = ipaddress.ip_address(ip)
    return (addr.version, int(addr))


def format_ports(mappings: Iterable[PortMapping], exposed: Iterable[str] = ()) -> str:
    """The PORTS column of `ps`: `0.0.0.0:8080->80/tcp, 9988/tcp` (Docker's DisplayablePorts).

    Ports published at the same host and container number, and exposed-only ports, are
    grouped into ranges when consecutive (`0.0.0.0:3300-3310->3300-3310/tcp`).
    """
    entries = _summary(mappings, exposed)
    entries.sort(key=lambda e: (e[1], _ip_key(e[0]), e[2], e[3]))
    groups: dict[str, list[int]] = {}
    result: list[str] = []
    host_mappings: list[str] = []
    for ip, private, public, proto in entries:
        key = proto
        if ip:
            if public != private:
                host_mappings.append(f"{_join(ip, public)}->{private}/{proto}")
                continue
            key = f"{ip}/{proto}"
        group = groups.get(key)
        if group is None:
            groups[key] = [private, private]
        elif private == group[1] + 1:
            group[1] = private
        else:
            result.append(_form_group(key, group[0], group[1]))
            groups[key] = [private, private]
    result.extend(_form_group(k, g[0], g[1]) for k, g in groups.items())
    return ", ".join(result + host_mappings)


def _summary(
    mappings: Iterable[PortMapping], exposed: Iterable[str]
) -> list[tuple[str, int, int, str]]:
    """(ip, private, public, proto) rows like the Engine API's PortSummary list."""
    rows = [(m.host_ip or ANY_V4, m.container_port, m.host_port, m.protocol) for m in mappings]
    published = {(r[1], r[3]) for r in rows}
    for entry in exposed:
        port, proto = parse_port_proto(entry)
        if (port, proto) not in published:
            published.add((port, proto))
            rows.append(("", port, 0, proto))
    return rows


def _form_group(key: str, first: int, last: int) -> str:
    ip, _, proto = key.rpartition("/")
    group = str(first) if first == last else f"{first}-{last}"
    if ip:
        group = f"{_join(ip, group)}->{group}"
    return f"{group}/{proto}"


def inspect_ports(
    mappings: Iterable[PortMapping], exposed: Iterable[str] = ()
) -> dict[str, list[dict[str, str]] | None]:
    """`NetworkSettings.Ports`: `{"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}`.

    Exposed ports that are not published map to null, as in Docker.
    """
    out: dict[str, list[dict[str, str]] | None] = {}
    for m in mappings:
        bindings = out.get(m.key) or []
        bindings.append({"HostIp": m.host_ip or ANY_V4, "HostPort": str(m.host_port)})
        out[m.key] = bindings
    for entry in exposed:
        port, proto = parse_port_proto(entry)
        out.setdefault(f"{port}/{proto}", None)
    return out


def port_lines(mappings: Iterable[PortMapping], container: str = "",
               port_filter: str | None = None) -> list[str]:
    """`pyc port CONTAINER [PORT[/PROTO]]` output lines, naturally sorted as Docker does.

    Without a filter: `80/tcp -> 0.0.0.0:8080`; with one: `0.0.0.0:8080`. A filter that
    matches nothing raises NotFound with Docker's message.
    """
    mappings = list(mappings)
    if port_filter is not None:
        port, proto = parse_port_proto(port_filter)
        out = [_join(m.host_ip or ANY_V4, m.host_port) for m in mappings
               if m.container_port == port and m.protocol == proto]
        if not out:
            raise NotFound(f"No public port '{port_filter}' published for {container}")
    else:
        out = [f"{m.key} -> {_join(m.host_ip or ANY_V4, m.host_port)}" for m in mappings]
    from pycontainer.formats.sortorder import natural_key

    return sorted(out, key=natural_key)
