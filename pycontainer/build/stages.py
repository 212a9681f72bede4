"""Stage-level rules: global ARGs, which stages a target needs, `FROM scratch`, WORKDIR paths.

Only the stages the target depends on are built (BuildKit's behaviour): through `FROM
<stage>`, `COPY --from=<stage>` and `RUN --mount=...,from=<stage>`.
"""

from __future__ import annotations

import contextlib
import posixpath
from typing import TYPE_CHECKING

from pycontainer.build import imageconfig as ic
from pycontainer.build.backend import State
from pycontainer.build.dockerfile import Dockerfile, Stage, expand_word, parse_mount
from pycontainer.errors import BuildError, PycError
from pycontainer.oci.image import Platform

if TYPE_CHECKING:
    from pycontainer.oci.imagespec import ImageConfig

#: predefined build args: usable in RUN without an ARG line, never written into history
PROXY_ARGS = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
              "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy")


def platform_args(platform: str | None) -> dict[str, str]:
    host = Platform.host()
    target = Platform.parse(platform) if platform else host
    return {
        "BUILDPLATFORM": str(host), "BUILDOS": host.os, "BUILDARCH": host.architecture,
        "BUILDVARIANT": host.variant, "TARGETPLATFORM": str(target), "TARGETOS": target.os,
        "TARGETARCH": target.architecture, "TARGETVARIANT": target.variant,
    }


def meta_args(df: Dockerfile, build_args: dict[str, str], platform: str | None) -> dict[str, str]:
    """The values of the ARGs before the first FROM (usable in FROM lines)."""
    values = platform_args(platform)
    for inst in df.meta_args:
        for key, default in inst.pairs:
            if key in build_args:
                values[key] = build_args[key]
            elif default is not None:
                values[key] = expand_word(default, values, df.escape)
    return values


def _ref(word: str, meta: dict[str, str], df: Dockerfile) -> str:
    with contextlib.suppress(PycError):
        return expand_word(word, meta, df.escape)
    return word


def dependencies(stage: Stage, df: Dockerfile, meta: dict[str, str]) -> set[int]:
    refs = [_ref(stage.base, meta, df)]
    for inst in stage.instructions:
        if inst.keyword in ("COPY", "ADD") and inst.flag("from"):
            refs.append(_ref(inst.flag("from") or "", meta, df))
        for spec in inst.flag_all("mount") if inst.keyword == "RUN" else []:
            with contextlib.suppress(ValueError):
                mount = parse_mount(spec)
                if mount.from_:
                    refs.append(_ref(mount.from_, meta, df))
    out = set()
    for ref in refs:
        found = df.find_stage(ref)
        if found is not None and found.index < stage.index:
            out.add(found.index)
        elif found is not None and ref.isdigit():
            raise BuildError(f"{df.filename}:{stage.from_.line}: stage {ref} refers to itself "
                             "or to a later stage")
    return out


def needed(df: Dockerfile, target: int, meta: dict[str, str]) -> list[int]:
    """The indices of the stages `target` needs, in Dockerfile order (target last)."""
    seen: set[int] = set()
    todo = [target]
    while todo:
        index = todo.pop()
        if index in seen:
            continue
        seen.add(index)
        todo += sorted(dependencies(df.stages[index], df, meta))
    return sorted(seen)


def scratch_state(platform: str | None) -> State:
    p = Platform.parse(platform) if platform else Platform.host()
    return State("scratch", ic.new_config(p.os, p.architecture, p.variant or None))


def workdir(config: ImageConfig, path: str) -> str:
    """WORKDIR's new path: relative ones are relative to the current one."""
    current = ic.inner(config).get("WorkingDir") or "/"
    return posixpath.normpath(posixpath.join(current, path))
