"""Every endpoint module, imported once: each registers its routes with `routes.route`.

The registry (`routes`) imports none of them, so there is no import cycle; the server
imports this module, and pays for the handlers only when it serves."""

from __future__ import annotations

from pycontainer.api import (  # noqa: F401 - imported for their routes
    archive,
    attaching,
    builds,
    containers,
    events,
    execs,
    images,
    imagestreams,
    networks,
    resources,
    running,
    system,
    unsupported,
    volumes,
)
from pycontainer.api.routes import dispatch

__all__ = ["dispatch"]
