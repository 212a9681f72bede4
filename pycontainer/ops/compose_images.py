"""The images of a compose project's services: built (`build:`, through the same ops call
as `pyc build`) or pulled as `--build`/`--no-build`/`--pull` and each `pull_policy` say."""

from __future__ import annotations

from typing import Any, TextIO

from pycontainer.errors import ComposeError
from pycontainer.ops import compose_lookup as names
from pycontainer.ops.compose_service import Model, image_of
from pycontainer.paths import Paths

#: Compose's pull_policy values -> pyc's pull policies ("build": built every time)
PULL = {"always": "always", "never": "never", "missing": "missing",
        "if_not_present": "missing", "build": "build"}


def _policy(name: str, svc: dict[str, Any], pull: str) -> str:
    if pull:
        if pull not in ("always", "missing", "never"):
            raise ComposeError(f"invalid --pull {pull!r}: always, missing or never")
        return pull
    policy = str(svc.get("pull_policy") or "missing")
    if policy not in PULL:
        raise ComposeError(f"service {name!r}: pull_policy {policy!r} is not supported by pyc")
    return PULL[policy]


def ensure_images(paths: Paths, model: Model, services: list[str], build: str, pull: str,
                  out: TextIO | None, pull_out: TextIO | None = None) -> None:
    """`out` gets the build output, `pull_out` the pull progress."""
    from pycontainer.ops import images
    from pycontainer.ops.pull import ensure_image

    for name in services:
        svc = model.service(name)
        ref = image_of(model, name)
        policy = _policy(name, svc, pull)
        present = images.exists(paths, ref)
        if "build" in svc and build != "never" and (
                build == "always" or policy == "build" or not present):
            build_service(paths, model, name, out)
            continue
        if "build" in svc and (policy == "build" or not svc.get("image")):
            if present:
                continue  # --no-build: the image built before
            raise ComposeError(f"service {name!r}: image {ref} is not built (--no-build)")
        if policy == "build":
            raise ComposeError(f"service {name!r}: pull_policy build without a build section")
        if "build" in svc and present and policy != "always":
            continue
        if policy == "never" and not present:
            raise ComposeError(f"service {name!r}: image {ref} not found (pull policy never)")
        ensure_image(paths, ref, policy, pull_out, str(svc.get("platform") or ""))


def build_service(paths: Paths, model: Model, name: str, out: TextIO | None,
                  no_cache: bool = False, pull: bool = False) -> str:
    """Build the service's image (tagged `image:` or `<project>-<service>`); its id."""
    from pycontainer.ops.build import BuildOptions, run_build

    svc = model.service(name)
    spec = svc.get("build")
    if not isinstance(spec, dict):
        raise ComposeError(f"service {name!r} has no build section")
    context = str(spec.get("context", "."))
    if "://" in context:
        raise ComposeError(f"service {name!r}: build.context {context!r}: only local "
                           "directories are supported by pyc")
    dockerfile = str(spec.get("dockerfile") or "Dockerfile")
    if not dockerfile.startswith("/"):
        dockerfile = f"{context}/{dockerfile}"
    ref = image_of(model, name)
    # Compose's build labels on the image, then the service's build.labels
    labels = {names.PROJECT: model.name, names.SERVICE: name,
              names.VERSION: names.COMPOSE_VERSION, **(spec.get("labels") or {})}
    opts = BuildOptions(
        context=context, dockerfile=dockerfile, tags=[ref],
        build_args=[f"{k}={v}" if v is not None else k
                    for k, v in (spec.get("args") or {}).items()],
        target=spec.get("target"), labels=[f"{k}={v}" for k, v in labels.items()],
        no_cache=no_cache or bool(spec.get("no_cache")), pull=pull or bool(spec.get("pull")),
        network=str(spec.get("network") or "default"))
    if out is not None:
        out.write(f" Service {name}  Building\n")
    report = run_build(paths, opts, out)
    if out is not None:
        out.write(f" Service {name}  Built\n")
    return report.image_id
