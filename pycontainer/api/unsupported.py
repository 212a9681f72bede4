"""What pyc does not have, answered as Docker answers a daemon without it: swarm objects are
"not a swarm manager" (503), plugins an empty list and 404s, so clients that probe them
(`docker inspect` tries every kind in turn) carry on instead of failing."""

from __future__ import annotations

from pycontainer.api.routes import route
from pycontainer.api.wire import JSON, ApiError, Request, Response

NOT_SWARM = ("This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm "
             "join\" to connect this node to swarm and try again.")

SWARM = r"/(swarm|services|nodes|tasks|secrets|configs)(/.*)?"


def _not_swarm(_: Request) -> Response:
    raise ApiError(503, NOT_SWARM)


for _method in ("GET", "POST", "DELETE"):
    route(_method, SWARM)(_not_swarm)


@route("GET", r"/plugins")
def plugins(_: Request) -> Response:
    return JSON([])


@route("GET", r"/plugins/(?P<name>.+)/json")
def plugin(request: Request) -> Response:
    raise ApiError(404, f"plugin {request.params['name']} not found")
