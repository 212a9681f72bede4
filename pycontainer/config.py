"""pyc's registries configuration: `registries.conf` in TOML, like containers' v2 format.

    unqualified-search-registries = ["docker.io"]

    [[registry]]
    location = "registry.example.com:5000"
    insecure = true                       # plain HTTP or unverified TLS allowed
    blocked = false

    [[registry.mirror]]
    location = "mirror.example.com"
    insecure = false

Read from `~/.config/pycontainer/registries.conf` (pyc's config dir), else
`~/.config/containers/registries.conf`, else `/etc/containers/registries.conf`. As in Docker,
registries on loopback (127.0.0.0/8, ::1, localhost) are insecure without configuration.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pycontainer.errors import UsageError


@dataclass(frozen=True)
class Mirror:
    location: str
    insecure: bool = False


@dataclass(frozen=True)
class RegistryEntry:
    prefix: str
    location: str
    insecure: bool = False
    blocked: bool = False
    mirrors: tuple[Mirror, ...] = ()


@dataclass(frozen=True)
class Endpoint:
    """Where to fetch `repository` of a reference from: a mirror or the registry itself."""

    registry: str
    repository: str
    insecure: bool
    mirror: bool = False


@dataclass
class RegistriesConfig:
    search: list[str] = field(default_factory=lambda: ["docker.io"])
    registries: list[RegistryEntry] = field(default_factory=list)
    source: str = ""

    def entry(self, name: str) -> RegistryEntry | None:
        """The entry with the longest prefix matching `name` (registry/repository)."""
        best: RegistryEntry | None = None
        for e in self.registries:
            p = e.prefix
            if (name == p or name.startswith(p + "/") or name.startswith(p + ":")) and \
                    (best is None or len(p) > len(best.prefix)):
                best = e
        return best

    def is_insecure(self, registry: str) -> bool:
        e = self.entry(registry)
        if e is not None and e.insecure:
            return True
        return is_loopback(registry)

    def endpoints(self, registry: str, repository: str) -> list[Endpoint]:
        name = f"{registry}/{repository}"
        e = self.entry(name)
        if e is None:
            return [Endpoint(registry, repository, self.is_insecure(registry))]
        if e.blocked:
            raise UsageError(f"registry {registry} is blocked in {self.source}")
        rest = name[len(e.prefix):].lstrip("/")
        out = []
        for m in e.mirrors:
            reg, _, path = (m.location + "/" + rest).partition("/")
            out.append(Endpoint(reg, path, m.insecure or is_loopback(reg), mirror=True))
        reg, _, path = (e.location + "/" + rest).partition("/")
        out.append(Endpoint(reg, path, e.insecure or is_loopback(reg)))
        return out


def is_loopback(registry: str) -> bool:
    host = registry.strip()
    if host.startswith("["):
        host = host[1:].split("]", 1)[0]
    else:
        host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return host == "localhost" or host.startswith("127.") or host == "::1"


def candidates(config_dir: Path) -> list[Path]:
    home = Path(os.path.expanduser("~"))
    return [config_dir / "registries.conf", home / ".config/containers/registries.conf",
            Path("/etc/containers/registries.conf")]


def load(config_dir: Path) -> RegistriesConfig:
    env = os.environ.get("PYC_REGISTRIES_CONF")
    for path in ([Path(env)] if env else candidates(config_dir)):
        if path.is_file():
            return parse(read_text(path), str(path))
    return RegistriesConfig()


def read_text(path: Path) -> str:
    """A configuration file's text; one clear UsageError naming it if it cannot be read or
    is not UTF-8 (a binary or truncated file), never a traceback."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return data.decode()
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise UsageError(f"{path}: not a TOML text file: invalid UTF-8 at line {line}, "
                         f"byte {exc.start}") from None


def parse(text: str, source: str = "registries.conf") -> RegistriesConfig:
    import tomllib

    try:
        obj = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{source}: {exc}") from None
    search = obj.get("unqualified-search-registries", ["docker.io"])
    if not isinstance(search, list) or not all(isinstance(s, str) for s in search):
        raise UsageError(f"{source}: unqualified-search-registries must be a list of names")
    registries = obj.get("registry", [])
    if not isinstance(registries, list):
        raise UsageError(f"{source}: registry must be an array of tables ([[registry]])")
    entries = [_entry(r, source) for r in registries]
    return RegistriesConfig(search or ["docker.io"], entries, source)


def _entry(r: Any, source: str) -> RegistryEntry:
    if not isinstance(r, dict) or not (r.get("location") or r.get("prefix")):
        raise UsageError(f"{source}: each [[registry]] needs a location or prefix")
    location = str(r.get("location") or r.get("prefix"))
    if not isinstance(r.get("mirror", []), list):
        raise UsageError(f"{source}: [[registry]] {location}: mirror must be an array of "
                         "tables ([[registry.mirror]])")
    mirrors = tuple(Mirror(str(m["location"]), bool(m.get("insecure", False)))
                    for m in r.get("mirror", []) if isinstance(m, dict) and m.get("location"))
    return RegistryEntry(str(r.get("prefix") or location), location,
                         bool(r.get("insecure", False)), bool(r.get("blocked", False)), mirrors)


# --- containers.conf: the engine's own settings ---------------------------------------------

#: `[engine] cgroup_limits`: what a resource limit does when this user has no cgroup for it
CGROUP_LIMITS = ("error", "warn")
#: `[engine] log_driver`: the default --log-driver
LOG_DRIVERS = ("json-file", "k8s-file", "none")


@dataclass(frozen=True)
class EngineConfig:
    """`[engine]` in pyc's `containers.conf` (TOML), e.g.

        [engine]
        cgroup_parent = "/pyc-alice"   # the delegated cgroup, relative to each hierarchy
        cgroup_limits = "warn"         # run without limits this user cannot enforce
        log_driver = "k8s-file"        # the default --log-driver (json-file, k8s-file, none)
        helper_binaries_dir = ["/opt/podman/libexec"]  # searched first for helper programs
    """

    cgroup_parent: str | None = None
    cgroup_limits: str = "error"
    source: str = ""
    log_driver: str = "json-file"
    helper_binaries_dir: tuple[str, ...] = ()


def load_engine(config_dir: Path) -> EngineConfig:
    """`$PYC_CONTAINERS_CONF`, else `<config dir>/containers.conf`, else the defaults."""
    env = os.environ.get("PYC_CONTAINERS_CONF")
    path = Path(env) if env else config_dir / "containers.conf"
    if not path.is_file():
        return EngineConfig()
    return parse_engine(read_text(path), str(path))


def parse_engine(text: str, source: str = "containers.conf") -> EngineConfig:
    import tomllib

    try:
        engine = tomllib.loads(text).get("engine") or {}
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{source}: {exc}") from None
    if not isinstance(engine, dict):
        raise UsageError(f"{source}: engine must be a table ([engine])")
    parent = engine.get("cgroup_parent")
    limits = engine.get("cgroup_limits", "error")
    if parent is not None and (not isinstance(parent, str) or not parent.startswith("/")):
        raise UsageError(f"{source}: [engine] cgroup_parent must be an absolute cgroup path")
    if limits not in CGROUP_LIMITS:
        raise UsageError(f"{source}: [engine] cgroup_limits must be \"error\" or \"warn\"")
    driver = engine.get("log_driver", "json-file")
    if driver not in LOG_DRIVERS:
        raise UsageError(f"{source}: [engine] log_driver must be one of {', '.join(LOG_DRIVERS)}")
    helpers = engine.get("helper_binaries_dir", [])
    if not isinstance(helpers, list) or not all(isinstance(d, str) and d.startswith("/")
                                                for d in helpers):
        raise UsageError(f"{source}: [engine] helper_binaries_dir must be a list of absolute "
                         "directories")
    return EngineConfig(parent or None, limits, source, driver, tuple(helpers))
