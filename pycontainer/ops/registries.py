"""Building registry clients for a reference: config (insecure, mirrors) and credentials."""

from __future__ import annotations

from pathlib import Path

from pycontainer import config as registries_conf
from pycontainer.paths import Paths
from pycontainer.registry import auth
from pycontainer.registry.client import RegistryClient


def auth_file(paths: Paths, override: str | None = None) -> Path:
    return Path(override) if override else auth.default_auth_file(paths.runtime)


def client_for(paths: Paths, registry: str, repository: str = "",
               tls_verify: bool | None = None, authfile: str | None = None,
               insecure: bool | None = None,
               credentials: tuple[str, str] | None = None) -> RegistryClient:
    """A client for `registry`; `tls_verify=False` (the CLI flag) forces insecure mode;
    `credentials` (a client's own, through the API) win over the auth file's."""
    if insecure is None:
        conf = registries_conf.load(paths.config)
        insecure = conf.is_insecure(registry) if tls_verify is None else not tls_verify
    creds = auth.Credentials(*credentials) if credentials else \
        auth.lookup(registry, auth_file(paths, authfile), repository)
    return RegistryClient(registry, insecure=insecure, credentials=creds)
