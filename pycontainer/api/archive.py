"""A container's files over the API: `archive` (docker cp), `changes` (diff), `export`.

The stat header is `X-Docker-Container-Path-Stat: base64(JSON)`, on HEAD and GET alike;
every path is resolved inside the container's root by `ops.archive`.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from pycontainer.api.routes import route
from pycontainer.api.wire import JSON, Empty, Request, Response, Stream

ID = r"/containers/(?P<id>[^/]+)"
STAT_HEADER = "X-Docker-Container-Path-Stat"
TAR = "application/x-tar"


def _stat_header(info: dict[str, Any]) -> tuple[str, str]:
    raw = json.dumps(info, separators=(",", ":")).encode()
    return STAT_HEADER, base64.b64encode(raw).decode()


@route("HEAD", ID + r"/archive")
def archive_head(request: Request) -> Response:
    from pycontainer.ops import archive

    info = archive.path_stat(request.store, request.params["id"], request.arg("path"))
    return Empty(200, headers=[_stat_header(info)])


@route("GET", ID + r"/archive")
def archive_get(request: Request) -> Response:
    from pycontainer.ops import archive

    if request.method == "HEAD":
        return archive_head(request)
    info, chunks = archive.read_tar(request.store, request.params["id"], request.arg("path"))
    return Stream(chunks, TAR, headers=[_stat_header(info)])


@route("PUT", ID + r"/archive")
def archive_put(request: Request) -> Response:
    from pycontainer.ops import archive

    archive.write_tar(request.store, request.params["id"], request.arg("path"),
                      request.body.chunks(),
                      no_overwrite_dir_non_dir=request.flag("noOverwriteDirNonDir"),
                      copy_uid_gid=request.flag("copyUIDGID"))
    return Empty(200)


#: Docker's change kinds: 0 modified, 1 added, 2 deleted
_KINDS = {"C": 0, "A": 1, "D": 2}


@route("GET", ID + r"/changes")
def changes(request: Request) -> Response:
    from pycontainer.ops import container_fs

    found = container_fs.changes(request.store, request.params["id"])
    return JSON([{"Path": path, "Kind": _KINDS[kind]} for kind, path in found])


@route("GET", ID + r"/export")
def export(request: Request) -> Response:
    from pycontainer.ops import archive

    return Stream(archive.export_tar(request.store, request.params["id"]), TAR)
