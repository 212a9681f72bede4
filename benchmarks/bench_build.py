#!/usr/bin/env python3
"""Build benchmark: a realistic multi-stage Dockerfile, pyc vs `podman --runtime runc build`.

    runuser -u pyctest -- env HOME=/home/pyctest /work/venv/bin/python \\
        benchmarks/bench_build.py [-n 5] [case ...]

The Dockerfile: a Debian stage that installs a package with apt-get through the network,
copies a source tree (200 files) and "compiles" it, and a final busybox stage that copies
the artefact. Cases (bench.py's framework: fresh storage per case and engine, medians):

    build-uncached   --no-cache: every step runs (apt-get included)
    build-cached     nothing changed since the last build: every step from the cache
    build-touched    one source file changed before each round: that COPY and later steps

Both engines pull the base images in setup, so no case times a pull.
"""

from __future__ import annotations

import secrets
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench  # noqa: E402 - the framework lives beside this file
from bench import BUSYBOX, DEBIAN, Engine, case  # noqa: E402

DOCKERFILE = f"""\
FROM {DEBIAN} AS builder
RUN apt-get update && apt-get install -y --no-install-recommends jq \\
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY src/ ./
RUN cat $(ls *.json | sort) | jq -s 'map(.value) | add' > /total.json

FROM {BUSYBOX}
COPY --from=builder /total.json /app/total.json
WORKDIR /app
ENV APP_MODE=production
USER 1000
CMD ["cat", "/app/total.json"]
"""

#: one context per engine state dir, so that a "touch" in one engine's case is its own
_CONTEXTS: dict[str, Path] = {}


def context(engine: Engine) -> Path:
    key = str(engine.state)
    if key not in _CONTEXTS:
        root = Path(tempfile.mkdtemp(prefix="bench-ctx-", dir=engine.state))
        (root / "Dockerfile").write_text(DOCKERFILE)
        src = root / "src"
        src.mkdir()
        for i in range(200):
            (src / f"part{i:03d}.json").write_text(f'{{"value": {i}}}\n')
        _CONTEXTS[key] = root
    return _CONTEXTS[key]


def pull_bases(engine: Engine) -> None:
    engine.run("pull", BUSYBOX)
    engine.run("pull", DEBIAN)


def build_once(engine: Engine) -> None:
    pull_bases(engine)
    engine.run("build", "-q", "-t", "bench-app", str(context(engine)))


def touch_source(engine: Engine) -> None:
    path = context(engine) / "src" / "part042.json"
    path.write_text(f'{{"value": 42, "salt": "{secrets.token_hex(4)}"}}\n')


@case("build-uncached", setup=pull_bases)
def build_uncached(engine: Engine) -> list[str]:
    """multi-stage build, every step run (--no-cache)"""
    return ["build", "-q", "--no-cache", "-t", "bench-app", str(context(engine))]


@case("build-cached", setup=build_once)
def build_cached(engine: Engine) -> list[str]:
    """the same build again: every step from the cache"""
    return ["build", "-q", "-t", "bench-app", str(context(engine))]


@case("build-touched", setup=build_once, before_each=touch_source)
def build_touched(engine: Engine) -> list[str]:
    """one source file changed: that COPY and the steps after it run"""
    return ["build", "-q", "-t", "bench-app", str(context(engine))]


if __name__ == "__main__":
    # only this file's cases (bench.py registers its own "version" too)
    bench.CASES.pop("version", None)
    raise SystemExit(bench.main())
