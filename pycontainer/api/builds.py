"""`POST /build` (the classic builder's stream) and `POST /commit`.

The context (a tar, chunked or sized) is read whole into a temporary file before the build
starts, so a truncated or malformed body is an error response and nothing is built. The
build is `ops.build.run_build`, the call `pyc build -` makes; its structured step events
become Docker's `{"stream": "Step 1/3 : ..."}` messages and RUN output is relayed as it
comes. Options the classic builder has and pyc does not are refused by name (400)."""

from __future__ import annotations

import base64
import json
import posixpath
import tarfile
import tempfile
from typing import IO, TYPE_CHECKING, Any

from pycontainer.api import progress
from pycontainer.api.routes import route
from pycontainer.api.wire import JSON, ApiError, Request, Response, Stream, json_line

if TYPE_CHECKING:
    from collections.abc import Callable

#: query parameters pyc's builder does not implement, with the values that mean "not used"
#: (what the docker CLI and docker-py send by default)
UNSUPPORTED = ("cachefrom", "extrahosts", "shmsize", "memory", "memswap", "cpushares",
               "cpusetcpus", "cpusetmems", "cpuperiod", "cpuquota", "cgroupparent",
               "ulimits", "squash", "isolation", "remote", "outputs", "securityopt")
DEFAULTS = ("", "0", "null", "[]", "{}", "false", "False", "-1")
TAR_TYPES = ("application/x-tar", "application/tar", "")


def _refuse_unsupported(request: Request) -> None:
    given = [n for n in UNSUPPORTED if any(v.strip() not in DEFAULTS for v in request.args(n))]
    if request.arg("version", "1") not in ("", "1"):
        given.append("version (BuildKit)")
    if request.arg("session"):
        given.append("session (BuildKit)")
    if given:
        raise ApiError(400, f"the build options {', '.join(given)} are not supported by pyc")


def _json_map(request: Request, name: str, env_ok: bool) -> list[str]:
    obj = request.json_arg(name) or {}
    if not isinstance(obj, dict):
        raise ApiError(400, f"{name} must be a JSON object")
    out = []
    for key, value in obj.items():
        if value is None:
            if env_ok:
                continue  # Docker: an ARG without a value given, its default applies
            value = ""
        out.append(f"{key}={value}")
    return out


def _dockerfile(request: Request) -> str:
    name = request.arg("dockerfile") or "Dockerfile"
    clean = posixpath.normpath(name)
    if name.startswith("/") or clean == ".." or clean.startswith("../"):
        raise ApiError(400, f"the Dockerfile ({name}) must be within the build context")
    return clean


def _registry_config(request: Request) -> None:
    raw = request.headers.get("x-registry-config", "").strip()
    if not raw:
        return
    try:
        auths = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except ValueError:
        raise ApiError(400, "invalid X-Registry-Config header: not base64url JSON") from None
    if isinstance(auths, dict) and any(isinstance(a, dict) and (a.get("username") or a.get(
            "password") or a.get("identitytoken")) for a in auths.values()):
        raise ApiError(400, "credentials in X-Registry-Config are not supported: log in with "
                            "`pyc login` on the host running the service")


def _context(request: Request) -> IO[bytes]:
    """The request body in a temporary file (removed when closed), checked to be a tar
    archive when the client said it is one."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - the caller closes it
    try:
        for chunk in request.body.chunks():
            spool.write(chunk)
        spool.seek(0)
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype in TAR_TYPES and not _is_tar(spool):
            raise ApiError(400, "Error processing tar file: the build context is not a tar "
                                "archive")
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spool


def _is_tar(f: IO[bytes]) -> bool:
    try:
        with tarfile.open(fileobj=f, mode="r:*") as tar:
            for _ in tar:
                pass
        return True
    except (tarfile.TarError, EOFError, OSError, ValueError):
        return False


class _Text:
    """A text stream for what the build writes as text (the base image's pull)."""

    def __init__(self, emit: progress.Emit) -> None:
        self.emit = emit

    def write(self, text: str) -> int:
        if text:
            self.emit(json_line({"stream": text}))
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def _events(emit: progress.Emit) -> Callable[[str, dict[str, Any]], None]:
    def event(kind: str, data: dict[str, Any]) -> None:
        if kind == "step":
            text = f"Step {data['n']}/{data['total']} : {data['text']}\n"
        elif kind == "cache":
            text = " ---> Using cache\n"
        elif kind == "result":
            text = f" ---> {data['id'].split(':', 1)[-1][:12]}\n"
        else:
            return
        emit(json_line({"stream": text}))
    return event


@route("POST", r"/build")
def build(request: Request) -> Response:
    from pycontainer.oci import reference
    from pycontainer.ops import build as ops_build

    _refuse_unsupported(request)
    _registry_config(request)
    tags = request.args("t")
    for t in tags:
        reference.parse(t)  # InvalidReference: 400 before anything is read
    quiet = request.flag("q")
    opts = ops_build.BuildOptions(
        context="-", dockerfile=_dockerfile(request), tags=tags,
        build_args=_json_map(request, "buildargs", True), target=request.arg("target") or None,
        no_cache=request.flag("nocache"), pull=request.flag("pull"),
        labels=_json_map(request, "labels", False),
        network=request.arg("networkmode") or "default",
        platform=request.arg("platform") or None)
    context = _context(request)

    def work(emit: progress.Emit) -> None:
        with context:
            opts.stdin = context  # type: ignore[assignment]
            opts.events = (lambda kind, data: None) if quiet else _events(emit)
            opts.step_output = (lambda data: None) if quiet else (
                lambda data: emit(json_line({"stream": data.decode(errors="replace")})))
            text = None if quiet else _Text(emit)
            report = ops_build.run_build(request.store, opts, text)  # type: ignore[arg-type]
        _finished(emit, report.image_id, report.names, quiet)

    return Stream(progress.start(request, work))  # `work` closes the context


def _finished(emit: progress.Emit, image_id: str, names: list[str], quiet: bool) -> None:
    from pycontainer.oci.reference import familiar

    emit(json_line({"aux": {"ID": image_id}}))
    if quiet:
        emit(json_line({"stream": image_id + "\n"}))
        return
    emit(json_line({"stream": f"Successfully built {image_id.split(':', 1)[-1][:12]}\n"}))
    for name in names:
        repo, _, version = name.rpartition(":")
        emit(json_line({"stream": f"Successfully tagged {familiar(repo)}:{version}\n"}))


@route("POST", r"/commit")
def commit(request: Request) -> Response:
    from pycontainer.ops import container_fs

    container = request.arg("container")
    if not container:
        raise ApiError(400, "container is required")
    repo, tag = request.arg("repo") or "", request.arg("tag") or ""
    if tag and not repo:
        raise ApiError(400, "tag given without a repository")
    body = request.json(required=False) or {}
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object (a container Config)")
    name = f"{repo}:{tag}" if repo and tag else repo
    opts = container_fs.CommitOptions(name, request.arg("comment") or "",
                                      request.arg("author") or "", request.args("changes"),
                                      body)
    return JSON({"Id": container_fs.commit(request.store, container, opts)}, 201)
