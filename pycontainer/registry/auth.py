"""Registry credentials and the WWW-Authenticate dance.

Credentials live in the containers auth.json format, `{"auths": {"host": {"auth":
base64("user:password")}}}`, in `$REGISTRY_AUTH_FILE`, else `$XDG_RUNTIME_DIR/containers/
auth.json` (or the same under pyc's runtime-dir fallback when XDG_RUNTIME_DIR is unusable).
Lookups also read `~/.config/containers/auth.json` and Docker's `~/.docker/config.json`.
"""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pycontainer.errors import UsageError
from pycontainer.linux.fs import atomic_write
from pycontainer.paths import make_private

_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')
HUB_KEYS = ("docker.io", "index.docker.io", "registry-1.docker.io",
            "https://index.docker.io/v1/")


@dataclass(frozen=True)
class Challenge:
    scheme: str  # "bearer" or "basic"
    params: dict[str, str]


def parse_challenge(header: str) -> Challenge | None:
    """`Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope=..."`"""
    header = header.strip()
    if not header:
        return None
    scheme, _, rest = header.partition(" ")
    params = {m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3))
              for m in _PARAM.finditer(rest)}
    return Challenge(scheme.lower(), params)


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str

    def basic(self) -> str:
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode()


def default_auth_file(runtime_fallback: Path | None = None) -> Path:
    env = os.environ.get("REGISTRY_AUTH_FILE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_RUNTIME_DIR")
    if xdg and os.path.isdir(xdg) and os.access(xdg, os.W_OK):
        return Path(xdg) / "containers" / "auth.json"
    base = runtime_fallback or Path(f"/tmp/pycontainer-{os.getuid()}")
    return base / "containers" / "auth.json"


def read_files(auth_file: Path) -> list[Path]:
    home = Path(os.path.expanduser("~"))
    docker_cfg = Path(os.environ["DOCKER_CONFIG"]) / "config.json" \
        if os.environ.get("DOCKER_CONFIG") else home / ".docker" / "config.json"
    return [auth_file, home / ".config" / "containers" / "auth.json", docker_cfg]


def _keys(registry: str) -> tuple[str, ...]:
    return HUB_KEYS if registry in HUB_KEYS else (registry, f"https://{registry}",
                                                  f"http://{registry}")


def _load(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            obj = json.loads(f.read())
    except (OSError, ValueError):
        return {}
    if not isinstance(obj, dict):
        return {}
    # Passwords other users can read: tighten to 0600 (as pyc writes it) when it is ours.
    if st.st_mode & 0o077 and st.st_uid == os.getuid() and obj.get("auths"):
        make_private(path, 0o600, "credentials file")
    return obj


def lookup(registry: str, auth_file: Path, repository: str = "") -> Credentials | None:
    """Credentials for `registry` (a `registry/namespace` key wins over the bare host)."""
    keys = ([f"{registry}/{repository}"] if repository else []) + list(_keys(registry))
    for path in read_files(auth_file):
        auths = _load(path).get("auths", {})
        if not isinstance(auths, dict):
            continue
        for key in keys:
            entry = auths.get(key)
            if isinstance(entry, dict) and entry.get("auth"):
                creds = _decode(str(entry["auth"]))
                if creds:
                    return creds
    return None


def _decode(auth: str) -> Credentials | None:
    try:
        user, _, password = base64.b64decode(auth).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return Credentials(user, password) if user else None


def store(registry: str, creds: Credentials, auth_file: Path) -> None:
    data = _load(auth_file)
    auths = data.setdefault("auths", {})
    key = "docker.io" if registry in HUB_KEYS else registry
    auths[key] = {"auth": base64.b64encode(f"{creds.username}:{creds.password}".encode())
                  .decode()}
    _write(auth_file, data)


def remove(registry: str, auth_file: Path) -> bool:
    data = _load(auth_file)
    auths = data.get("auths", {})
    found = False
    for key in _keys(registry):
        if key in auths:
            del auths[key]
            found = True
    if found:
        _write(auth_file, data)
    return found


def remove_all(auth_file: Path) -> None:
    if auth_file.exists():
        _write(auth_file, {"auths": {}})


def _write(path: Path, data: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise UsageError(f"cannot create {path.parent}: {exc.strerror}") from None
    atomic_write(path, json.dumps(data, indent=1).encode() + b"\n", mode=0o600)
