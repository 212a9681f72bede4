"""Images in and out over the API: pull and import (`/images/create`), push, save (`get`),
load, prune, `/auth`, `/distribution/{name}/json` and `/system/df`.

Progress comes from the ops calls' own listeners and is written here as Docker's JSON
messages (`status`, `id`, `progressDetail`, `progress`)."""

from __future__ import annotations

import base64
import io
import json
import time
from typing import Any

from pycontainer.api import progress
from pycontainer.api.routes import route
from pycontainer.api.wire import JSON, ApiError, Request, Response, Stream, json_line
from pycontainer.errors import ImageNotFound

NAME = r"/images/(?P<name>.+)"
#: at most this often a "Downloading" message per layer (the last one always goes out)
DOWNLOAD_EVERY = 0.1


def registry_auth(request: Request, header: str = "x-registry-auth") -> tuple[str, str] | None:
    """The client's credentials: base64url JSON {username, password, ...} (`e30=` is {})."""
    raw = request.headers.get(header, "").strip()
    if not raw:
        return None
    try:
        obj = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except ValueError:
        raise ApiError(400, f"invalid {header} header: not base64url JSON") from None
    if not isinstance(obj, dict):
        raise ApiError(400, f"invalid {header} header: not a JSON object")
    if obj.get("identitytoken") or obj.get("registrytoken"):
        raise ApiError(400, "identity and registry tokens in X-Registry-Auth are not supported")
    if obj.get("username") or obj.get("password"):
        return str(obj.get("username") or ""), str(obj.get("password") or "")
    return None


class BodyReader(io.RawIOBase):
    """The request body as a binary file (chunked or sized), read as it arrives."""

    def __init__(self, request: Request) -> None:
        self._chunks = request.body.chunks()
        self._buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._buf:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._buf = chunk
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


# --- pull and import ----------------------------------------------------------------------


@route("POST", r"/images/create")
def create(request: Request) -> Response:
    if request.arg("fromSrc"):
        return _import(request)
    image = request.arg("fromImage")
    if not image:
        raise ApiError(400, "fromImage or fromSrc is required")
    for name in ("repo", "message", "changes"):
        if request.arg(name):
            raise ApiError(400, f"{name} is only for an import (fromSrc)")
    tag = request.arg("tag") or ""
    ref = image if not tag else f"{image}@{tag}" if ":" in tag else f"{image}:{tag}"
    from pycontainer.ops import pull as ops_pull

    last = image.rsplit("/", 1)[-1]
    opts = ops_pull.PullOptions(ref, platform=request.arg("platform") or "",
                                all_tags=not tag and ":" not in last and "@" not in last,
                                quiet=True, credentials=registry_auth(request))

    def work(emit: progress.Emit) -> None:
        opts.listener = _PullMessages(emit)
        ops_pull.pull(request.store, opts)

    return Stream(progress.start(request, work))


class _PullMessages:
    STATUS = {"exists": "Already exists", "waiting": "Waiting",
              "verifying": "Verifying Checksum", "complete": "Pull complete"}

    def __init__(self, emit: progress.Emit) -> None:
        self.emit = emit
        self.shown: dict[str, float] = {}

    def __call__(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "start":
            self._send(status=f"Pulling from {data['repository']}", id=data["id"])
        elif kind == "done":
            status = "Image is up to date for" if data["existed"] else \
                "Downloaded newer image for"
            self._send(status=f"Digest: {data['digest']}")
            self._send(status=f"Status: {status} {data['name']}")
        elif data["event"] == "downloading":
            self._downloading(data["id"], data["current"], data["total"])
        else:
            if data["event"] == "waiting":
                self._send(status="Pulling fs layer", progressDetail={}, id=data["id"])
            self._send(status=self.STATUS.get(data["event"], data["event"]),
                       progressDetail={}, id=data["id"])

    def _downloading(self, short: str, current: int, total: int) -> None:
        now = time.monotonic()
        if current < total and now - self.shown.get(short, 0.0) < DOWNLOAD_EVERY:
            return
        self.shown[short] = now
        self._send(status="Downloading", progressDetail={"current": current, "total": total},
                   progress=progress.progress_bar(current, total), id=short)

    def _send(self, **obj: Any) -> None:
        self.emit(json_line(obj))


def _import(request: Request) -> Response:
    if request.arg("fromSrc") != "-":
        raise ApiError(400, "fromSrc: only - (the request body) is supported, not a URL")
    from pycontainer.ops import images as ops_images

    repo, tag = request.arg("repo") or "", request.arg("tag") or ""
    name = f"{repo}:{tag}" if repo and tag else repo
    body: Any = BodyReader(request)
    opts = ops_images.ImportOptions(body, name, request.args("changes"),
                                    request.arg("message") or "",
                                    request.arg("platform") or "")
    record = ops_images.import_image(request.store, opts)
    return Stream([json_line({"status": record.id})])


# --- push -----------------------------------------------------------------------------------


@route("POST", NAME + r"/push")
def push(request: Request) -> Response:
    from pycontainer.ops import push as ops_push

    name, tag = request.params["name"], request.arg("tag") or ""
    last = name.rsplit("/", 1)[-1]
    single = bool(tag) or ":" in last
    opts = ops_push.PushOptions(f"{name}:{tag}" if tag else name, all_tags=not single,
                                credentials=registry_auth(request))
    if single:
        _exists(request, opts.name)

    def work(emit: progress.Emit) -> None:
        def listener(kind: str, data: dict[str, Any]) -> None:
            if kind == "start":
                emit(json_line({"status": f"The push refers to repository "
                                          f"[{data['repository']}]"}))
            elif kind == "layer":
                emit(json_line({"status": data["status"], "progressDetail": {},
                                "id": data["id"]}))
            else:
                emit(json_line({"status": f"{data['tag']}: digest: {data['digest']} size: "
                                          f"{data['size']}"}))
                emit(json_line({"progressDetail": {}, "aux": {
                    "Tag": data["tag"], "Digest": data["digest"], "Size": data["size"]}}))

        opts.listener = listener
        ops_push.push(request.store, opts)

    return Stream(progress.start(request, work))


def _exists(request: Request, name: str) -> None:
    from pycontainer.ops import images as ops_images

    try:
        ops_images.resolve(request.store, name)
    except ImageNotFound:
        raise ApiError(404, f"An image does not exist locally with the tag: {name}") from None


# --- save and load --------------------------------------------------------------------------


class _EmitWriter(io.RawIOBase):
    def __init__(self, emit: progress.Emit) -> None:
        self.emit = emit

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self.emit(bytes(b))
        return len(b)


def _save(request: Request, names: list[str]) -> Response:
    from pycontainer.ops import save_load

    if not names:
        raise ApiError(400, "no image names to save")
    for n in names:  # a missing image is a 404 before any byte of the archive
        try:
            from pycontainer.ops import images as ops_images

            ops_images.resolve(request.store, n)
        except ImageNotFound:
            raise ApiError(404, f"No such image: {n}") from None

    def work(emit: progress.Emit) -> None:
        out = io.BufferedWriter(_EmitWriter(emit), 256 << 10)
        sink: Any = out
        save_load.save(request.store, names, None, stream=sink)

    return Stream(progress.start(request, work, json_errors=False), "application/x-tar")


@route("GET", r"/images/get")
def save_many(request: Request) -> Response:
    return _save(request, [n for v in request.args("names") for n in v.split(",") if n])


@route("GET", NAME + r"/get")
def save_one(request: Request) -> Response:
    return _save(request, [request.params["name"]])


@route("POST", r"/images/load")
def load(request: Request) -> Response:
    from pycontainer.ops import save_load

    body: Any = BodyReader(request)
    names = save_load.load(request.store, None, body)
    lines = [f"Loaded image ID: {n}" if n.startswith("sha256:") or ":" not in n
             else f"Loaded image: {_familiar(n)}" for n in names]
    return Stream([json_line({"stream": line + "\n"}) for line in lines])


def _familiar(name: str) -> str:
    from pycontainer.oci.reference import familiar

    repo, _, tag = name.rpartition(":")
    return f"{familiar(repo)}:{tag}" if repo and "/" not in tag else name


# --- prune, auth, distribution, df ----------------------------------------------------------


@route("POST", r"/images/prune")
def prune(request: Request) -> Response:
    from pycontainer.formats import filters
    from pycontainer.ops import images as ops_images

    raw = request.arg("filters")
    parsed = filters.from_json(raw) if raw else {}
    unknown = sorted(set(parsed) - {"dangling", "label", "label!"})
    if unknown:
        raise ApiError(400, f"image prune: the {', '.join(unknown)} filter is not supported")
    dangling = [v.lower() for v in parsed.get("dangling", ["true"])]
    if any(v not in ("true", "false", "1", "0") for v in dangling):
        raise ApiError(400, f"invalid filter 'dangling={dangling[0]}'")
    all_images = dangling[-1] in ("false", "0")
    labels = {k: v for k, v in parsed.items() if k in ("label", "label!")}
    deleted, reclaimed = ops_images.prune(request.store, all_images, labels)
    return JSON({"ImagesDeleted": [{"Deleted": d} for d in deleted] or None,
                 "SpaceReclaimed": reclaimed})


@route("POST", r"/auth")
def auth(request: Request) -> Response:
    from pycontainer.ops import login

    body = request.json_object()
    if body.get("identitytoken") or body.get("registrytoken"):
        raise ApiError(400, "identity and registry tokens are not supported")
    username, password = str(body.get("username") or ""), str(body.get("password") or "")
    if not username or not password:
        raise ApiError(400, "username and password are required")
    login.check(request.store, str(body.get("serveraddress") or "docker.io"), username,
                password)
    return JSON({"Status": "Login Succeeded", "IdentityToken": ""})


@route("GET", r"/distribution/(?P<name>.+)/json")
def distribution(request: Request) -> Response:
    from pycontainer.ops import pull as ops_pull

    return JSON(ops_pull.distribution(request.store, request.params["name"],
                                      registry_auth(request)))


@route("GET", r"/system/df")
def disk_usage(request: Request) -> Response:
    from pycontainer.ops import summaries

    for name in request.args("type"):
        if name not in ("container", "image", "volume", "build-cache"):
            raise ApiError(400, f"invalid type {name!r}")
    return JSON(summaries.disk_usage(request.store))
