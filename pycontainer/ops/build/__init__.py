"""`pyc build`: the build context and Dockerfile in, `build.builder` driven with the store
backend, the image out.

Context: a directory, or `-` (stdin): a tar archive (plain or compressed) unpacked into the
build's scratch space, or a bare Dockerfile with an empty context. The Dockerfile: `-f path`
(anywhere), `-f -` (stdin), else `Dockerfile` (or `dockerfile`) in the context.
`.dockerignore` comes from `<Dockerfile>.dockerignore` next to the Dockerfile when it
exists (BuildKit), else from the context root.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import tarfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TextIO

from pycontainer.build.builder import BuildEvents, BuildRequest, BuildResult, build
from pycontainer.build.copier import extract_tar
from pycontainer.build.dockerfile import parse
from pycontainer.errors import BuildError, UsageError
from pycontainer.ops.build.backend import StoreBackend
from pycontainer.paths import Paths


@dataclass
class BuildOptions:
    context: str = "."
    dockerfile: str | None = None
    tags: list[str] = field(default_factory=list)
    build_args: list[str] = field(default_factory=list)
    target: str | None = None
    no_cache: bool = False
    pull: bool = False
    quiet: bool = False
    iidfile: str | None = None
    labels: list[str] = field(default_factory=list)
    network: str = "default"
    platform: str | None = None
    stdin: BinaryIO | None = None
    #: Podman's --pull=always|missing|never|newer (wins over `pull` when set)
    pull_policy: str = ""
    #: Podman's --format: oci (pyc's default) or docker (a Docker v2s2 manifest)
    manifest_format: str = "oci"
    #: structured step progress instead of the text lines (the Engine API)
    events: BuildEvents | None = None
    #: where RUN output goes instead of this process's stdout/stderr (the Engine API)
    step_output: Callable[[bytes], None] | None = None


#: Podman's `build --pull=VALUE` -> pyc's pull policy ("newer": the registry is asked each
#: time, which is what `always` does: unchanged layers are not downloaded again)
PULL_POLICIES = {"always": "always", "true": "always", "newer": "always",
                 "missing": "missing", "false": "missing", "never": "never"}


def pull_policy(opts: BuildOptions) -> str:
    if not opts.pull_policy:
        return "always" if opts.pull else "missing"
    policy = PULL_POLICIES.get(opts.pull_policy.lower())
    if policy is None:
        raise UsageError(f"invalid pull policy {opts.pull_policy!r}: use always, missing, "
                         "never or newer")
    return policy


@dataclass
class BuildReport:
    image_id: str
    names: list[str]
    cached_steps: int = 0
    run_steps: int = 0


def _pairs(items: list[str], what: str, env_fallback: bool) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not key:
            raise UsageError(f"invalid {what} {item!r}: expected key=value")
        if not sep and env_fallback:
            if key in os.environ:  # Docker: `--build-arg NAME` takes it from the environment
                out[key] = os.environ[key]
            continue
        out[key] = value
    return out


def _epoch() -> int | None:
    text = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise UsageError(f"invalid SOURCE_DATE_EPOCH {text!r}: expected seconds")
    return int(text)


def _network(value: str) -> str:
    mode = {"": "default", "default": "default", "bridge": "default", "private": "default",
            "slirp4netns": "default", "none": "none", "host": "host"}.get(value)
    if mode is None:
        raise UsageError(f"--network={value} is not supported by pyc build "
                         "(use default, none or host)")
    return mode


def _stdin_context(data: bytes, scratch: str) -> tuple[str, str | None]:
    """(context dir, Dockerfile text when stdin was a bare Dockerfile)."""
    root = os.path.join(scratch, "context")
    os.mkdir(root, 0o755)
    try:
        tar = tarfile.open(fileobj=io.BytesIO(data), mode="r:*")  # noqa: SIM115
    except tarfile.TarError:
        return root, data.decode("utf-8", "replace")

    with tar:
        extract_tar(tar, root)
    return root, None


def _dockerfile(opts: BuildOptions, context: str, stdin_text: str | None,
                stdin: BinaryIO | None) -> tuple[str, str, str]:
    """(Dockerfile text, its name for messages, the path whose .dockerignore wins)."""
    if stdin_text is not None:
        return stdin_text, "Dockerfile", ""
    if opts.dockerfile == "-":
        if stdin is None:
            raise UsageError("-f -: no Dockerfile on stdin")
        return stdin.read().decode("utf-8", "replace"), "Dockerfile", ""
    if opts.dockerfile:
        path = Path(opts.dockerfile)
        if not path.is_absolute() and opts.context == "-":  # stays inside the archive
            path = Path(context) / path
            inside = os.path.realpath(path)
            if os.path.commonpath([inside, os.path.realpath(context)]) != \
                    os.path.realpath(context):
                raise UsageError(f"the Dockerfile ({opts.dockerfile}) must be within the "
                                 "build context")
        # relative: the working directory's (Docker), else the context's (Podman)
        elif not path.is_absolute() and not path.exists():
            path = Path(context) / path
    else:  # Podman's Containerfile when there is no Dockerfile
        names = ("Dockerfile", "dockerfile", "Containerfile", "containerfile")
        path = next((Path(context) / n for n in names if (Path(context) / n).exists()),
                    Path(context) / "Dockerfile")
    try:
        return path.read_text(), path.name, str(path)
    except OSError as exc:
        raise BuildError(f"cannot read the Dockerfile {path}: {exc.strerror}") from None


def _ignore_text(context: str, dockerfile_path: str) -> str:
    # Podman's .containerignore when there is no .dockerignore
    for candidate in ([dockerfile_path + ".dockerignore"] if dockerfile_path else []) + [
            os.path.join(context, ".dockerignore"), os.path.join(context, ".containerignore")]:
        try:
            return Path(candidate).read_text()
        except OSError:
            continue
    return ""


def _request(opts: BuildOptions, backend: StoreBackend) -> BuildRequest:
    stdin = opts.stdin
    context, stdin_text = opts.context, None
    if opts.context == "-" and opts.dockerfile == "-":
        raise UsageError("the context and the Dockerfile cannot both come from stdin")
    if opts.context == "-":
        if stdin is None:
            raise UsageError("build context `-`: nothing on stdin")
        context, stdin_text = _stdin_context(stdin.read(), backend.scratch_dir())
    elif not os.path.isdir(opts.context):
        raise UsageError(f"unable to prepare context: path {opts.context!r} not found")
    text, name, path = _dockerfile(opts, context, stdin_text, stdin)
    dockerfile = parse(text, name)  # nothing runs before the whole file parses
    return BuildRequest(
        dockerfile=dockerfile, context_dir=os.path.abspath(context),
        ignore_text=_ignore_text(context, path), dockerfile_name=name, tags=list(opts.tags),
        build_args=_pairs(opts.build_args, "--build-arg", True), target=opts.target,
        no_cache=opts.no_cache, pull=pull_policy(opts),
        labels=_pairs(opts.labels, "--label", False), network=_network(opts.network),
        platform=opts.platform or None, quiet=opts.quiet, epoch=_epoch())


@contextlib.contextmanager
def _stop_cleanly() -> Iterator[None]:
    """SIGTERM / SIGHUP end the build like Ctrl-C does: through the `finally` blocks that
    kill the step's container and remove the temporary files (Python would just exit)."""
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield  # a service's worker thread: signals are the main thread's business
        return
    old = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def run_build(paths: Paths, opts: BuildOptions, out: TextIO | None) -> BuildReport:
    """Build and tag the image; `out` gets the step output (None with -q)."""
    from pycontainer.oci import reference

    for tag in opts.tags:
        reference.parse(tag)  # a bad -t fails before anything is built
    if opts.manifest_format not in ("oci", "docker"):
        raise UsageError(f"unrecognized image type {opts.manifest_format!r}: use oci or "
                         "docker")
    with _stop_cleanly():
        backend = StoreBackend(paths, out, _epoch())
        backend.docker_format = opts.manifest_format == "docker"
        backend.step_output = opts.step_output
        try:
            req = _request(opts, backend)
            if opts.context != "-":  # a context from stdin is new every time: keep nothing
                backend.use_context(req.context_dir)
            with backend.store.adding():  # garbage collection keeps off the new layers
                result: BuildResult = build(req, backend, out, opts.events)
        finally:
            backend.close()
    if opts.iidfile:
        Path(opts.iidfile).write_text(result.image_id)
    names = [reference.parse(t).tagged for t in opts.tags]
    from pycontainer.ops import events

    events.image(paths, "build", result.image_id, reference.familiar(names[0]) if names else "")
    return BuildReport(result.image_id, names, result.cached_steps, result.run_steps)
