"""`--network` values (pure): which kind of networking a container gets.

    none                      only loopback
    host                      the host's network namespace
    slirp4netns[:k=v,...]     a private namespace with slirp4netns (pyc's rootless default;
                              `bridge`, `default` and `private` mean the same, as in Podman)
    container:NAME|ID         join another container's network namespace
    NAME                      a user-defined network (several: `--network a --network b`)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pycontainer.errors import UsageError
from pycontainer.network.slirp import SlirpOptions, parse_slirp_options

NONE = "none"
HOST = "host"
SLIRP = "slirp4netns"
CONTAINER = "container"
USER = "user"  # user-defined networks
_SLIRP_ALIASES = frozenset({"slirp4netns", "bridge", "default", "private"})


@dataclass(frozen=True)
class NetworkMode:
    kind: str
    #: user-defined network names (kind USER), in the order given
    networks: tuple[str, ...] = ()
    #: the container to join (kind CONTAINER)
    container: str = ""
    slirp: SlirpOptions = field(default_factory=SlirpOptions)

    @property
    def private_netns(self) -> bool:
        """Whether the container gets a network namespace of its own."""
        return self.kind in (NONE, SLIRP, USER)

    @property
    def docker_name(self) -> str:
        """HostConfig.NetworkMode as `inspect` shows it."""
        if self.kind == USER:
            return self.networks[0]
        if self.kind == CONTAINER:
            return f"container:{self.container}"
        return self.kind


def parse_network_mode(values: list[str] | tuple[str, ...] | None) -> NetworkMode:
    """The repeated `--network` option (empty: slirp4netns)."""
    values = [v for v in (values or []) if v]
    if not values:
        return NetworkMode(SLIRP)
    if len(values) > 1:
        bad = [v for v in values if _single_only(v)]
        if bad:
            raise UsageError(f"--network {bad[0]} cannot be combined with other networks")
        return NetworkMode(USER, tuple(_unique(values)))
    value = values[0]
    head, sep, rest = value.partition(":")
    if head in (NONE, HOST):
        if sep:
            raise UsageError(f"--network {head} takes no options")
        return NetworkMode(head)
    if head in _SLIRP_ALIASES:
        return NetworkMode(SLIRP, slirp=parse_slirp_options(rest) if sep else SlirpOptions())
    if head == CONTAINER:
        if not rest:
            raise UsageError("--network container: needs a container name or id")
        return NetworkMode(CONTAINER, container=rest)
    if sep:
        raise UsageError(f"invalid --network value {value!r}")
    return NetworkMode(USER, (value,))


def _single_only(value: str) -> bool:
    head = value.partition(":")[0]
    return head in (NONE, HOST, CONTAINER) or head in _SLIRP_ALIASES


def _unique(values: list[str]) -> list[str]:
    seen: list[str] = []
    for v in values:
        if v in seen:
            raise UsageError(f"network {v} given twice")
        seen.append(v)
    return seen
