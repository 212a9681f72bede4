"""Where pyc finds the programs it runs: nft, ip, slirp4netns, pasta, fuse-overlayfs,
newuidmap, newgidmap, catatonit, runc, crun, zstd, ...

One lookup for the code that runs a helper and for `pyc system check`, so the two cannot
disagree. An ordinary Debian user's PATH has no sbin directories (nft, ip live in /usr/sbin)
and Podman's helpers live in /usr/libexec/podman, so after PATH the lookup tries those too.
`[engine] helper_binaries_dir` in containers.conf (Podman's key) names directories searched
before everything else.
"""

from __future__ import annotations

import functools
import os

from pycontainer.errors import HostError

#: searched after PATH: sbin (not on a user's PATH) and Podman's helper_binaries_dir defaults
FALLBACK_DIRS = ("/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/libexec/podman",
                 "/usr/lib/podman")

#: the Debian package that ships each helper, for the hint of a missing one
PACKAGES = {"nft": "nftables", "ip": "iproute2", "slirp4netns": "slirp4netns",
            "pasta": "passt", "fuse-overlayfs": "fuse-overlayfs", "newuidmap": "uidmap",
            "newgidmap": "uidmap", "catatonit": "catatonit", "tini": "tini", "runc": "runc",
            "crun": "crun", "zstd": "zstd"}


@functools.cache
def configured_dirs() -> tuple[str, ...]:
    """`[engine] helper_binaries_dir` of containers.conf (read once per process)."""
    from pycontainer import config, paths

    return config.load_engine(paths.config_dir()).helper_binaries_dir


def search_dirs() -> list[str]:
    """Every directory a helper is looked for in, in order, without duplicates."""
    dirs = [*configured_dirs(), *os.environ.get("PATH", os.defpath).split(os.pathsep),
            *FALLBACK_DIRS]
    seen: set[str] = set()
    out = []
    for d in dirs:
        d = d or "."
        if d not in seen:
            seen.add(d)
            out.append(d)
    return out


def find(name: str) -> str | None:
    """The full path of helper `name` (or a path given with a slash, if executable)."""
    if "/" in name:
        return name if _executable(name) else None
    for d in search_dirs():
        path = os.path.join(d, name)
        if _executable(path):
            return path
    return None


def require(name: str, purpose: str = "") -> str:
    """`find`, or a HostError naming the program, where it was looked for and the package."""
    path = find(name)
    if path is not None:
        return path
    what = f" ({purpose})" if purpose else ""
    package = PACKAGES.get(name)
    raise HostError(f"{name} is not installed{what}: looked in PATH and "
                    f"{', '.join(FALLBACK_DIRS)}",
                    hint=f"sudo apt-get install {package}" if package else None)


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)
