"""/etc/hostname, /etc/hosts and /etc/resolv.conf for a container, as Docker writes them. Pure:
callers pass the host's files' text and write the results where the container bind-mounts
them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_DNS = ["8.8.8.8", "8.8.4.4"]  # Docker's fallback when the host has only local ones

_HOSTS_HEADER = """127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
ff00::0\tip6-mcastprefix
ff02::1\tip6-allnodes
ff02::2\tip6-allrouters
"""


@dataclass
class EtcRequest:
    hostname: str
    network: str = "private"  # private, none, host, or a network name
    #: the container's own addresses (filled by the networking code); empty: none
    addresses: list[str] = field(default_factory=list)
    #: --add-host name:ip, and peers on user-defined networks
    extra_hosts: list[tuple[str, str]] = field(default_factory=list)
    dns: list[str] = field(default_factory=list)
    dns_search: list[str] = field(default_factory=list)
    dns_options: list[str] = field(default_factory=list)


def hostname_file(req: EtcRequest) -> str:
    return req.hostname + "\n"


def hosts_file(req: EtcRequest, host_hosts: str = "") -> str:
    if req.network == "host":
        text = host_hosts if host_hosts.endswith("\n") or not host_hosts else host_hosts + "\n"
    else:
        text = _HOSTS_HEADER
    for name, ip in req.extra_hosts:
        text += f"{ip}\t{name}\n"
    short = req.hostname.split(".")[0]
    names = req.hostname if short == req.hostname else f"{req.hostname} {short}"
    if req.addresses:
        for addr in req.addresses:
            text += f"{addr}\t{names}\n"
    elif req.network != "host":
        # No address of its own yet: the name must still resolve (sudo, hostname -f...).
        text += f"127.0.0.1\t{names}\n"
    return text


def resolv_conf(req: EtcRequest, host_resolv: str) -> str:
    servers, search, options = [], [], []
    for line in host_resolv.splitlines():
        parts = line.split()
        if not parts or parts[0].startswith(("#", ";")):
            continue
        if parts[0] == "nameserver" and len(parts) > 1:
            servers.append(parts[1])
        elif parts[0] in ("search", "domain"):
            search = parts[1:]
        elif parts[0] == "options":
            options += parts[1:]
    if req.network != "host":
        # Loopback resolvers (systemd-resolved's 127.0.0.53) are unreachable from the
        # container's own network namespace.
        servers = [s for s in servers if not s.startswith("127.") and s != "::1"]
        servers = servers or list(DEFAULT_DNS)
    servers = req.dns or servers
    search = req.dns_search or search
    options = req.dns_options or options
    out = "".join(f"nameserver {s}\n" for s in servers)
    if search:
        out += "search " + " ".join(search) + "\n"
    if options:
        out += "options " + " ".join(options) + "\n"
    return out
