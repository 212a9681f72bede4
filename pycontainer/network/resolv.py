"""DNS for a container's /etc/resolv.conf on slirp4netns and user-defined networks (pure:
callers pass the host's resolv.conf text)."""

from __future__ import annotations

from dataclasses import dataclass

from pycontainer.network.slirp import SlirpOptions


@dataclass(frozen=True)
class ResolvConfig:
    nameservers: tuple[str, ...]
    search: tuple[str, ...] = ()
    options: tuple[str, ...] = ()


def parse_resolv_conf(text: str) -> ResolvConfig:
    servers: list[str] = []
    search: list[str] = []
    options: list[str] = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split(";", 1)[0].split()
        if len(fields) < 2:
            continue
        if fields[0] == "nameserver":
            servers.append(fields[1])
        elif fields[0] in ("search", "domain"):
            search = fields[1:]
        elif fields[0] == "options":
            options.extend(fields[1:])
    return ResolvConfig(tuple(servers), tuple(search), tuple(options))


def resolv_config(
    options: SlirpOptions | None = None,
    dns: list[str] | None = None,
    dns_search: list[str] | None = None,
    dns_option: list[str] | None = None,
    host_resolv: str = "",
) -> ResolvConfig:
    """What the container's /etc/resolv.conf says on a slirp4netns network.

    Nameservers: `--dns` if given, else slirp's forwarder (10.0.2.3), which relays to the
    host's resolvers (including 127.0.0.53) from outside the namespace. Search domains and
    options: `--dns-search`/`--dns-option` if given (`--dns-search .` means none), else the
    host's (`host_resolv` is the text of the host's /etc/resolv.conf).
    """
    host = parse_resolv_conf(host_resolv)
    opts = options or SlirpOptions()
    servers = tuple(dns) if dns else (opts.dns_ip,)
    search = tuple(d for d in dns_search if d != ".") if dns_search else host.search
    return ResolvConfig(servers, search, tuple(dns_option) if dns_option else host.options)
