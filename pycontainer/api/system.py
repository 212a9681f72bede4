"""`/_ping`, `/version`, `/info`: what every client asks first."""

from __future__ import annotations

import os
from typing import Any

from pycontainer.api import API_VERSION, MIN_API_VERSION
from pycontainer.api.routes import route
from pycontainer.api.wire import JSON, Empty, Request, Response
from pycontainer.ops import system

PING_HEADERS = [("Builder-Version", "1"), ("Cache-Control", "no-cache, no-store, must-revalidate"),
                ("Pragma", "no-cache")]


@route("GET", r"/_ping")
def ping(_: Request) -> Response:
    # docker-py's ping() is True only for the body "OK"; Builder-Version 1 keeps clients on
    # the classic builder (there is no BuildKit session endpoint)
    return Empty(200, PING_HEADERS, b"OK")


def version_record() -> dict[str, Any]:
    server = dict(system.version_report()["Server"])
    server.update(ApiVersion=API_VERSION, MinAPIVersion=MIN_API_VERSION, GitCommit="",
                  GoVersion="")
    # Go clients decode Details as map[string]string
    details = {"ApiVersion": API_VERSION, "MinAPIVersion": MIN_API_VERSION, "Os": "linux",
               "Arch": server["Arch"], "KernelVersion": server["KernelVersion"],
               "Rootless": "true" if os.getuid() else "false"}
    server["Components"] = [{"Name": "Engine", "Version": server["Version"],
                             "Details": details}]
    return server


@route("GET", r"/version")
def version(_: Request) -> Response:
    return JSON(version_record())


@route("GET", r"/info")
def info(request: Request) -> Response:
    paths = request.store
    record = system.docker_info(paths, system.info_report(paths))
    record.update(
        Swarm={"NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive",
               "ControlAvailable": False, "Error": "", "RemoteManagers": None},
        Plugins={"Volume": ["local"], "Network": ["bridge", "host", "none"],
                 "Authorization": None, "Log": ["json-file", "k8s-file", "none"]},
        RegistryConfig={"AllowNondistributableArtifactsCIDRs": [],
                        "AllowNondistributableArtifactsHostnames": [],
                        "InsecureRegistryCIDRs": ["127.0.0.0/8"], "IndexConfigs": {},
                        "Mirrors": []},
        ExperimentalBuild=False, Debug=False, Runtimes={"builtin": {"path": "pyc"}},
        Isolation="", InitBinary="catatonit", Labels=[], Driver=record.get("Driver", ""),
    )
    return JSON(record)
