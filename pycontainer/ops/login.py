"""`pyc login` / `pyc logout`: check credentials against the registry, then store them."""

from __future__ import annotations

from pycontainer.errors import AuthError
from pycontainer.oci import reference
from pycontainer.ops.registries import auth_file, client_for
from pycontainer.paths import Paths
from pycontainer.registry import auth


def _server(server: str) -> str:
    s = server.strip()
    for prefix in ("https://", "http://"):
        if s.startswith(prefix):
            s = s[len(prefix):]
    s = s.split("/", 1)[0]
    return reference.DEFAULT_REGISTRY if s in auth.HUB_KEYS else s


def login(paths: Paths, server: str, username: str, password: str,
          tls_verify: bool | None = None, authfile: str | None = None) -> None:
    """Verify `username`/`password` with the registry (GET /v2/ with auth), then save them."""
    registry = check(paths, server, username, password, tls_verify, authfile)
    auth.store(registry, auth.Credentials(username, password), auth_file(paths, authfile))


def check(paths: Paths, server: str, username: str, password: str,
          tls_verify: bool | None = None, authfile: str | None = None) -> str:
    """Verify `username`/`password` with the registry, storing nothing (the Engine API's
    /auth: the client keeps its credentials); returns the registry's name."""
    registry = _server(server)
    client = client_for(paths, registry, tls_verify=tls_verify, authfile=authfile)
    client.credentials = auth.Credentials(username, password)
    try:
        resp = client.request("GET", "/v2/", ("registry:catalog:*",))
        resp.read()
    except AuthError as exc:
        raise AuthError(f"login to {registry} failed: {exc.message.split(': ', 1)[-1]}"
                        if "incorrect" not in exc.message else
                        f"{registry}: unauthorized: incorrect username or password") from None
    if resp.status in (401, 403):
        raise AuthError(f"{registry}: unauthorized: incorrect username or password")
    client.check(resp, f"login to {registry}")
    return registry


def logout(paths: Paths, server: str | None, authfile: str | None = None) -> bool:
    path = auth_file(paths, authfile)
    if server is None:
        auth.remove_all(path)
        return True
    return auth.remove(_server(server), path)
