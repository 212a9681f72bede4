"""`pyc pull` and the pull-if-needed step of `pyc run` (`ensure_image`)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from pycontainer import config as registries_conf
from pycontainer.errors import ImageNotFound, RegistryError, RegistryNotFound, UsageError
from pycontainer.images.store import ImageRecord, ImageStore
from pycontainer.oci import image as oci_image
from pycontainer.oci import reference
from pycontainer.ops import events
from pycontainer.paths import Paths

if TYPE_CHECKING:
    from pycontainer.images.pull import Resolved

POLICIES = ("missing", "always", "never", "newer")

#: structured progress for front ends that format it themselves (the Engine API):
#: ("start", {"id": tag or digest, "repository"}), ("layer", {"event", "id", "current",
#: "total"}) with the events of `images.pull.Progress`, ("done", {"digest", "existed",
#: "name"}) where name is the familiar name:tag (or @digest)
PullListener = Callable[[str, dict[str, Any]], None]


@dataclass
class PullOptions:
    ref: str
    platform: str = ""
    all_tags: bool = False
    quiet: bool = False
    tls_verify: bool | None = None
    authfile: str | None = None
    listener: PullListener | None = None
    #: (username, password) given by the client (the API's X-Registry-Auth)
    credentials: tuple[str, str] | None = None


@dataclass
class PullReport:
    records: list[ImageRecord] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


def ensure_image(paths: Paths, ref: str, policy: str = "missing",
                 out: TextIO | None = None, platform: str = "") -> ImageRecord:
    """The image `ref` from the store, pulled first as `policy` says (missing|always|never).

    With `platform` (run/create --platform), a stored image of another platform counts as
    missing, as in Docker: it is pulled for that platform, and `never` fails."""
    if policy not in POLICIES:
        raise UsageError(f"invalid pull policy {policy!r}: use missing, always or never")
    want = oci_image.Platform.parse(platform) if platform else None
    store = ImageStore(paths)
    if policy != "always":
        try:
            record = store.resolve(ref)
            if want is None or want.matches(record.config):
                return record
            if policy == "never":
                raise ImageNotFound(
                    f"image with reference {ref} was found but does not match the specified "
                    f"platform: wanted {want}, actual: {platform_of(record)}")
        except ImageNotFound:
            if policy == "never":
                raise
    if out is not None and policy != "always":
        out.write(f"Unable to find image '{ref}' locally\n")
    report = pull(paths, PullOptions(ref, platform=platform, quiet=out is None), out)
    record = report.records[0]
    if want is None and out is not None and not oci_image.Platform.host().matches(record.config):
        out.write(f"WARNING: The requested image's platform ({platform_of(record)}) does not "
                  f"match the detected host platform ({oci_image.Platform.host()}) and no "
                  "specific platform was requested\n")
    return record


def platform_of(record: ImageRecord) -> str:
    c = record.config
    return "/".join(p for p in (c.get("os", ""), c.get("architecture", ""),
                                c.get("variant", "")) if p)


def candidates(paths: Paths, text: str) -> list[reference.Reference]:
    """What an unqualified name may mean: each unqualified-search registry in order."""
    if reference.is_qualified(text):
        return [reference.parse(text)]
    conf = registries_conf.load(paths.config)
    return [reference.parse(text, default_registry=r) for r in conf.search] or \
        [reference.parse(text)]


def pull(paths: Paths, opts: PullOptions, out: TextIO | None = None) -> PullReport:
    cands = candidates(paths, opts.ref)
    platform = oci_image.Platform.parse(opts.platform) if opts.platform else \
        oci_image.Platform.host()
    last: Exception | None = None
    for ref in cands:
        try:
            if opts.all_tags:
                return _pull_all_tags(paths, ref, opts, platform, out)
            report = PullReport()
            record = _pull_one(paths, ref, opts, platform, out)
            report.records.append(record)
            report.names.append(str(ref))
            return report
        except (RegistryNotFound, RegistryError) as exc:
            last = exc
            if len(cands) == 1:
                raise
    assert last is not None
    raise last


def _pull_all_tags(paths: Paths, ref: reference.Reference, opts: PullOptions,
                   platform: oci_image.Platform, out: TextIO | None) -> PullReport:
    if ref.digest or ref.tag != reference.DEFAULT_TAG and ":" in opts.ref.rsplit("/", 1)[-1]:
        raise UsageError("tag can't be used with --all-tags/-a")
    from pycontainer.ops.registries import client_for

    client = client_for(paths, ref.registry, ref.repository, opts.tls_verify, opts.authfile,
                        credentials=opts.credentials)
    report = PullReport()
    for tag in client.list_tags(ref.repository):
        r = ref.with_tag(tag)
        report.records.append(_pull_one(paths, r, opts, platform, out))
        report.names.append(str(r))
    return report


def _pull_one(paths: Paths, ref: reference.Reference, opts: PullOptions,
              platform: oci_image.Platform, out: TextIO | None) -> ImageRecord:
    from pycontainer.config import load
    from pycontainer.images import pull as image_pull
    from pycontainer.ops.registries import client_for

    store = ImageStore(paths)
    store.sweep()
    conf = load(paths.config)
    show = _Display(out, ref, opts.quiet, opts.listener)
    last: Exception | None = None
    endpoints = conf.endpoints(ref.registry, ref.repository)
    for ep in endpoints:
        insecure = (not opts.tls_verify) if opts.tls_verify is not None else ep.insecure
        client = client_for(paths, ep.registry, ep.repository, authfile=opts.authfile,
                            insecure=insecure, credentials=opts.credentials)
        try:
            resolved = image_pull.resolve_manifest(client, ep.repository, ref.reference,
                                                   platform, ref.digest)
        except RegistryError as exc:
            last = exc
            continue
        show.start()
        names = [ref.tagged] if ref.tag else []
        existed = _have(store, resolved, names)
        try:
            record = image_pull.pull_image(store, client, ep.repository, resolved, names,
                                           show.progress, ref.name)
        except BaseException:
            # Verified layers of a failed pull are not referenced by any image: drop them,
            # so a failed pull leaves nothing of the image (skipped if another pull runs).
            store.gc()
            raise
        show.done(resolved.top_digest, existed)
        events.image_ref(paths, "pull", ref)
        return record
    assert last is not None
    raise _not_found(ref, last)


def distribution(paths: Paths, name: str,
                 credentials: tuple[str, str] | None = None) -> dict[str, Any]:
    """What the registry says `name` is, without pulling: the top-level descriptor and the
    platforms it offers (Docker's `GET /distribution/{name}/json`)."""
    from pycontainer.oci import digest as digests
    from pycontainer.ops.registries import client_for

    ref = candidates(paths, name)[0]
    conf = registries_conf.load(paths.config)
    client = client_for(paths, ref.registry, ref.repository, insecure=conf.is_insecure(
        ref.registry), credentials=credentials)
    raw, ctype, header = client.get_manifest(ref.repository, ref.reference)
    digest = ref.digest or (header if digests.is_digest(header) else digests.of_bytes(raw))
    parsed = oci_image.parse(raw, digest, ctype)
    media_type = oci_image.media_type_of(raw, ctype)
    if isinstance(parsed, oci_image.Index):
        platforms = [dict(d.platform) for d in parsed.manifests if d.platform]
    else:
        from pycontainer.images import pull as image_pull

        assert isinstance(parsed, oci_image.Manifest)
        _, config = image_pull.fetch_config(ImageStore(paths), client, ref.repository, parsed)
        platforms = [{k: config[k] for k in ("architecture", "os", "variant") if config.get(k)}]
    return {"Descriptor": {"mediaType": media_type, "digest": digest, "size": len(raw)},
            "Platforms": platforms}


def _have(store: ImageStore, resolved: Resolved, names: list[str]) -> bool:
    try:
        rec = store.resolve(names[0]) if names else None
    except ImageNotFound:
        return False
    return rec is not None and rec.digest == resolved.manifest.digest


def _not_found(ref: reference.Reference, exc: Exception) -> Exception:
    if isinstance(exc, RegistryNotFound):
        return RegistryNotFound(f"{ref.familiar_name}:{ref.reference} not found: manifest "
                                f"unknown ({exc})")
    return exc


class _Display:
    """Docker's pull output: per-layer lines (redrawn on a terminal), then Digest/Status."""

    def __init__(self, out: TextIO | None, ref: reference.Reference, quiet: bool,
                 listener: PullListener | None = None) -> None:
        self.out = None if quiet else out
        self.ref = ref
        self.listener = listener
        self.tty = bool(out and out.isatty() and os.environ.get("TERM") != "dumb")
        self.lock = threading.Lock()
        self.lines: dict[str, str] = {}

    def start(self) -> None:
        what = self.ref.digest or self.ref.tag
        if self.listener is not None:
            self.listener("start", {"id": what, "repository": _repo_display(self.ref)})
        if self.out is None:
            return
        self.out.write(f"{what}: Pulling from {_repo_display(self.ref)}\n")
        self.out.flush()

    def progress(self, event: str, short: str, done: int, total: int) -> None:
        if self.listener is not None:
            with self.lock:  # layers download in parallel: one message at a time
                self.listener("layer", {"event": event, "id": short, "current": done,
                                        "total": total})
        if self.out is None:
            return
        text = {"exists": "Already exists", "waiting": "Waiting",
                "verifying": "Verifying Checksum", "complete": "Pull complete"}.get(event)
        if event == "downloading":
            if not self.tty:
                return
            text = f"Downloading {_human(done)}/{_human(total)}"
        with self.lock:
            if not self.tty:
                if event in ("exists", "complete"):
                    self.out.write(f"{short}: {text}\n")
                    self.out.flush()
                return
            self.lines[short] = f"{short}: {text}"
            self._redraw()

    def _redraw(self) -> None:
        assert self.out is not None
        n = getattr(self, "_drawn", 0)
        if n:
            self.out.write(f"\x1b[{n}A")
        for line in self.lines.values():
            self.out.write(f"\x1b[2K{line}\n")
        self._drawn = len(self.lines)
        self.out.flush()

    def done(self, digest: str, existed: bool) -> None:
        shown = self.ref.familiar_name + (f":{self.ref.tag}" if self.ref.tag else
                                          f"@{self.ref.digest}")
        if self.listener is not None:
            self.listener("done", {"digest": digest, "existed": existed, "name": shown})
        if self.out is None:
            return
        status = "Image is up to date for" if existed else "Downloaded newer image for"
        self.out.write(f"Digest: {digest}\nStatus: {status} {shown}\n")
        self.out.flush()


def _repo_display(ref: reference.Reference) -> str:
    return ref.familiar_name if "/" in ref.familiar_name or ref.registry != "docker.io" \
        else f"library/{ref.familiar_name}"


def _human(n: int) -> str:
    """Docker's progress sizes: 1.23MB (decimal units, 3 significant digits)."""
    from pycontainer.formats.units import human_size_with_precision

    return human_size_with_precision(n, 3)
