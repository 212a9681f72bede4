"""Network endpoints: list, create, inspect, delete, connect, disconnect, prune.

The objects are `pyc network inspect`'s (Docker's shape, the real ids); every action is the
`ops.networks` / `ops.netconnect` call of the same `pyc network` verb.
"""

from __future__ import annotations

from typing import Any

from pycontainer.api.containers import filter_items
from pycontainer.api.routes import route
from pycontainer.api.wire import JSON, ApiError, Empty, Request, Response
from pycontainer.errors import Conflict
from pycontainer.ops import networks

ID = r"/networks/(?P<id>[^/]+)"
#: create fields pyc reads (the rest must be absent or Docker's default)
_DEFAULTS: dict[str, Any] = {"Scope": ("", "local"), "Ingress": (False,),
                             "ConfigOnly": (False,), "EnableIPv6": (False,),
                             "ConfigFrom": (None, {}, {"Network": ""})}


@route("GET", r"/networks")
def list_networks(request: Request) -> Response:
    return JSON(networks.list_networks(request.store, filter_items(request)))


@route("GET", ID)
def inspect(request: Request) -> Response:
    return JSON(networks.inspect(request.store, request.params["id"]))


def _str_map(body: dict[str, Any], key: str) -> dict[str, str]:
    value = body.get(key) or {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ApiError(400, f"invalid {key}: a map of strings was expected")
    return {str(k): v for k, v in value.items()}


def _ipam(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """(subnet, gateway) of IPAM: the default driver and at most one pool."""
    ipam = body.get("IPAM") or {}
    if not isinstance(ipam, dict):
        raise ApiError(400, "invalid IPAM: an object was expected")
    if ipam.get("Driver") not in (None, "", "default"):
        raise ApiError(400, f"IPAM driver {ipam['Driver']!r} is not supported: pyc has only "
                            "\"default\"")
    if ipam.get("Options"):
        raise ApiError(400, "IPAM Options are not supported")
    pools = ipam.get("Config") or []
    if not isinstance(pools, list) or len(pools) > 1:
        raise ApiError(400, "IPAM Config: pyc networks have one IPv4 subnet")
    pool = pools[0] if pools else {}
    if not isinstance(pool, dict):
        raise ApiError(400, "invalid IPAM Config entry: an object was expected")
    if pool.get("IPRange") or pool.get("AuxiliaryAddresses"):
        raise ApiError(400, "IPAM IPRange and AuxiliaryAddresses are not supported")
    return pool.get("Subnet") or None, pool.get("Gateway") or None


def _check_defaults(body: dict[str, Any]) -> None:
    for key, allowed in _DEFAULTS.items():
        if key in body and body[key] not in allowed:
            if key == "EnableIPv6":
                raise ApiError(400, "EnableIPv6 is not supported: pyc networks are IPv4 only")
            raise ApiError(400, f"{key}={body[key]!r} is not supported")


@route("POST", r"/networks/create")
def create(request: Request) -> Response:
    body = request.json_object()
    name = body.get("Name")
    if not isinstance(name, str) or not name:
        raise ApiError(400, "network name is required")
    _check_defaults(body)
    subnet, gateway = _ipam(body)
    obj = networks.create(request.store, name, subnet, gateway,
                          internal=bool(body.get("Internal")), labels=_str_map(body, "Labels"),
                          driver=body.get("Driver") or "bridge",
                          options=_str_map(body, "Options"),
                          attachable=bool(body.get("Attachable")))
    return JSON({"Id": obj["Id"], "Warning": ""}, 201)


@route("DELETE", ID)
def remove(request: Request) -> Response:
    ref = request.params["id"]
    if networks.is_builtin(ref):
        raise ApiError(403, f"{ref} is a pre-defined network and cannot be removed")
    networks.remove(request.store, ref)
    return Empty(204)


def _container(body: dict[str, Any]) -> str:
    ref = body.get("Container")
    if not isinstance(ref, str) or not ref:
        raise ApiError(400, "Container is required")
    return ref


def _endpoint(body: dict[str, Any]) -> tuple[list[str], str | None]:
    """(aliases, IPv4 address) of EndpointConfig; what pyc cannot set is refused."""
    ep = body.get("EndpointConfig") or {}
    if not isinstance(ep, dict):
        raise ApiError(400, "invalid EndpointConfig: an object was expected")
    for key in ("Links", "DriverOpts", "MacAddress", "IPv6Gateway", "GlobalIPv6Address"):
        if ep.get(key):
            raise ApiError(400, f"EndpointConfig.{key} is not supported")
    ipam = ep.get("IPAMConfig") or {}
    if ipam.get("IPv6Address") or ipam.get("LinkLocalIPs"):
        raise ApiError(400, "EndpointConfig.IPAMConfig: only IPv4Address is supported")
    aliases = ep.get("Aliases") or []
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise ApiError(400, "EndpointConfig.Aliases must be a list of strings")
    return aliases, ipam.get("IPv4Address") or None


@route("POST", ID + r"/connect")
def connect(request: Request) -> Response:
    from pycontainer.ops import netconnect

    body = request.json_object()
    ref = _container(body)
    aliases, ip = _endpoint(body)
    netconnect.connect(request.store, request.params["id"], ref, aliases, ip)
    return Empty(200)


@route("POST", ID + r"/disconnect")
def disconnect(request: Request) -> Response:
    from pycontainer.ops import netconnect

    body = request.json_object()
    netconnect.disconnect(request.store, request.params["id"], _container(body),
                          force=bool(body.get("Force")))
    return Empty(200)


@route("POST", r"/networks/prune")
def prune(request: Request) -> Response:
    try:
        removed = networks.prune(request.store, filter_items(request))
    except Conflict as exc:
        raise ApiError(409, exc.message) from None
    return JSON({"NetworksDeleted": removed})
