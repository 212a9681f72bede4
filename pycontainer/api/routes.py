"""The route table: the registry only (`endpoints` imports the modules that fill it).

Every route is served with a `/vX.Y` prefix (any version, as Podman does) and without one.
Handlers are looked up by method and a regular expression on the path; `{name}` segments
of image routes may contain slashes (`/images/a/b:c/json`)."""

from __future__ import annotations

import re
from collections.abc import Callable

from pycontainer.api.wire import ApiError, Request, Response

Handler = Callable[[Request], Response]

_VERSION = re.compile(r"^/v([0-9][0-9A-Za-z.-]*)(/.*)$")
_ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []


def split_version(path: str) -> tuple[str, str]:
    m = _VERSION.match(path)
    return (m.group(1), m.group(2)) if m else ("", path)


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    """Register a handler: `pattern` is a regex of the whole path, with named groups."""
    compiled = re.compile(f"^{pattern}$")

    def register(fn: Handler) -> Handler:
        _ROUTES.append((method, compiled, fn))
        return fn

    return register


def dispatch(request: Request) -> Response:
    allowed = []
    for method, pattern, handler in _ROUTES:
        m = pattern.match(request.path)
        if m is None:
            continue
        if method == request.method or (method == "GET" and request.method == "HEAD"):
            request.params = {k: v for k, v in m.groupdict().items() if v is not None}
            return handler(request)
        allowed.append(method)
    if allowed:
        raise ApiError(405, f"method {request.method} not allowed for {request.path}")
    raise ApiError(404, "page not found")
