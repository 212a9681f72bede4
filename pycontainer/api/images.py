"""Image endpoints: list, inspect, history, tag, delete (pull, push, build, save and load
stream and come next)."""

from __future__ import annotations

from pycontainer.api.containers import filter_items
from pycontainer.api.routes import route
from pycontainer.api.wire import JSON, ApiError, Empty, Request, Response
from pycontainer.errors import Conflict, ImageNotFound
from pycontainer.ops import images as ops_images
from pycontainer.ops import summaries

NAME = r"/images/(?P<name>.+)"


@route("GET", r"/images/json")
def list_images(request: Request) -> Response:
    items = filter_items(request)
    if request.arg("filter"):  # the pre-1.25 spelling of reference=
        items.append(f"reference={request.arg('filter')}")
    return JSON(summaries.image_summaries(request.store, items))


def _not_found(name: str) -> ApiError:
    return ApiError(404, f"No such image: {name}")


@route("GET", NAME + r"/json")
def inspect(request: Request) -> Response:
    name = request.params["name"]
    try:
        return JSON(ops_images.inspect_image(request.store, name))
    except ImageNotFound:
        raise _not_found(name) from None


@route("GET", NAME + r"/history")
def history(request: Request) -> Response:
    from pycontainer.formats.timestamps import parse_rfc3339

    name = request.params["name"]
    try:
        rows = ops_images.history(request.store, name)
        tags = ops_images.inspect_image(request.store, name)["RepoTags"]
    except ImageNotFound:
        raise _not_found(name) from None
    return JSON([{"Id": r["id"], "Created": int(parse_rfc3339(r["created"])) if r["created"]
                  else 0, "CreatedBy": r["created_by"], "Tags": tags if i == 0 else None,
                  "Size": r["size"], "Comment": r["comment"]} for i, r in enumerate(rows)])


@route("POST", NAME + r"/tag")
def tag(request: Request) -> Response:
    name, repo = request.params["name"], request.arg("repo")
    if not repo:
        raise ApiError(400, "repository name must have at least one component")
    target = f"{repo}:{request.arg('tag') or 'latest'}"
    try:
        ops_images.tag(request.store, name, target)
    except ImageNotFound:
        raise _not_found(name) from None
    return Empty(201)


@route("DELETE", NAME)
def remove(request: Request) -> Response:
    name = request.params["name"]
    report, errors = ops_images.remove(request.store, [name], force=request.flag("force"),
                                       prune=not request.flag("noprune"))
    for exc in errors:
        if isinstance(exc, ImageNotFound):
            raise _not_found(name)
        if isinstance(exc, Conflict):
            raise ApiError(409, exc.message)
    return JSON([{"Untagged": u} for u in report.untagged]
                + [{"Deleted": d} for d in report.deleted])
