"""/etc/hosts and /etc/resolv.conf of a container as its networking sees them (Docker's forms),
written in place: the container has them bind-mounted, so it sees every rewrite."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from pycontainer.network import etc_files
from pycontainer.network.mode import CONTAINER, HOST, SLIRP, USER, NetworkMode, parse_network_mode
from pycontainer.paths import Paths

if TYPE_CHECKING:
    from pycontainer.containers.netrecord import NetworkPlan
    from pycontainer.network.resolv import ResolvConfig
    from pycontainer.oci.convert import ContainerSpec


def mode_of(net: NetworkPlan | None, spec: ContainerSpec) -> NetworkMode:
    if net is not None and (net.values is not None or net.kind):
        return parse_network_mode(net.values or [])
    # a container created before networking existed: what spec.network said
    old = spec.network or "private"
    return parse_network_mode(["none" if old == "private" else old])


def _host_text(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def etc_texts(paths: Paths, net: NetworkPlan, mode: NetworkMode, hostname: str,
              addresses: list[str], peers: list[tuple[str, list[str]]]) -> dict[str, str]:
    """/etc/hosts and /etc/resolv.conf for the container (Docker's forms)."""
    from pycontainer.network.resolv import resolv_config

    extra = [(n, ip) for n, ip in net.add_hosts]
    extra += [(" ".join(names), ip) for ip, names in peers]
    req = etc_files.EtcRequest(hostname=hostname, network="host" if mode.kind == HOST else
                               "private", addresses=addresses, extra_hosts=extra,
                               dns=list(net.dns), dns_search=list(net.dns_search),
                               dns_options=list(net.dns_option))
    host_resolv = _host_text("/etc/resolv.conf")
    hosts = etc_files.hosts_file(req, _host_text("/etc/hosts") if mode.kind == HOST else "")
    if mode.kind == SLIRP:
        rc = resolv_config(mode.slirp, req.dns, req.dns_search, req.dns_options, host_resolv)
        resolv = _resolv_text(rc)
    elif mode.kind == USER:
        from pycontainer.network import bridge  # with its ipam and rootlessns

        rc = bridge.resolv_config(paths, list(mode.networks), req.dns, req.dns_search,
                                  req.dns_options, host_resolv)
        resolv = _resolv_text(rc)
    else:
        resolv = etc_files.resolv_conf(req, host_resolv)
    return {"hosts": hosts, "resolv.conf": resolv}


def _resolv_text(rc: ResolvConfig) -> str:
    out = "".join(f"nameserver {s}\n" for s in rc.nameservers)
    if rc.search:
        out += "search " + " ".join(rc.search) + "\n"
    if rc.options:
        out += "options " + " ".join(rc.options) + "\n"
    return out


def write_in_place(path: Path, text: str) -> None:
    """Rewrite a file the container bind-mounts: same inode, so the container sees it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def write_etc(paths: Paths, userdata: Path, net: NetworkPlan | None, spec: ContainerSpec,
              hostname: str, addresses: list[str] | None = None,
              peers: list[tuple[str, list[str]]] | None = None) -> None:
    """At create (no address yet) and at start (with the container's addresses)."""
    if net is None:  # a container from before networking: create wrote its files
        return
    mode = mode_of(net, spec)
    if mode.kind == CONTAINER:
        return  # written from the joined container's files at start
    texts = etc_texts(paths, net, mode, hostname, addresses or [], peers or [])
    for name, text in texts.items():
        write_in_place(userdata / name, text)
