"""`pyc build` / `pyc image build`: Docker's flags to BuildOptions, one ops call, the id out.

Flags Docker has that pyc build does not implement are declared so that using one fails
with exit 125 naming it, instead of being taken for something else; a few that change
nothing here (--rm, --force-rm, --progress, --load) are accepted.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import typer

from pycontainer.errors import UsageError

if TYPE_CHECKING:
    from pycontainer.ops.build import BuildReport
    from pycontainer.paths import Paths

UNSUPPORTED_VALUE = ("--secret", "--ssh", "--cache-from", "--cache-to", "--output",
                     "--add-host", "--cpu-shares", "--cpu-period", "--cpu-quota",
                     "--cpuset-cpus", "--cpuset-mems", "--memory", "--memory-swap",
                     "--shm-size", "--ulimit", "--isolation", "--cgroup-parent",
                     "--security-opt", "--build-context", "--allow", "--attest",
                     "--sbom", "--provenance", "--builder", "--metadata-file",
                     "--no-cache-filter")
UNSUPPORTED_FLAG = ("--squash", "--compress")
#: `buildx build` options only BuildKit has: refused by name (the classic builder runs)
BUILDKIT_ONLY = ("--builder", "--metadata-file", "--no-cache-filter", "--cache-from",
                 "--cache-to", "--secret", "--ssh", "--attest", "--sbom", "--provenance",
                 "--allow", "--build-context", "--output")


def rewrite_pull(args: list[str]) -> list[str]:
    """Podman's `--pull=VALUE` (`--pull` alone stays Docker's boolean) as the hidden
    `--pull-policy VALUE`, which click can parse; only for `build` command lines."""
    if "build" not in args:
        return args
    return [f"--pull-policy={a.split('=', 1)[1]}" if a.startswith("--pull=") else a
            for a in args]


def _paths(ctx: typer.Context) -> Paths:
    from pycontainer import paths

    opts = ctx.find_root().obj
    return paths.resolve(opts.root, opts.runroot)


def _unsupported(ctx: typer.Context) -> None:
    given = [name for name in (*UNSUPPORTED_VALUE, *UNSUPPORTED_FLAG)
             if ctx.params.get(name.lstrip("-").replace("-", "_"))]
    if given:
        raise UsageError(f"pyc build does not support {', '.join(given)}")


def build(
    ctx: typer.Context,
    context: str = typer.Argument(..., metavar="PATH | -",
                                  help="The build context: a directory, or - for stdin."),
    tag: list[str] = typer.Option([], "--tag", "-t", help="Name (and tag) the image."),
    file: str = typer.Option(None, "--file", "-f", help="The Dockerfile (- for stdin)."),
    build_arg: list[str] = typer.Option([], "--build-arg", help="Set a build-time ARG."),
    target: str = typer.Option(None, "--target", help="Build this stage."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not use the layer cache."),
    pull: bool = typer.Option(False, "--pull", help="Always pull newer base images."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the image id."),
    iidfile: str = typer.Option(None, "--iidfile", help="Write the image id to this file."),
    label: list[str] = typer.Option([], "--label", help="Set a label on the image."),
    network: str = typer.Option("default", "--network", help="RUN network: default, none "
                                                             "or host."),
    platform: str = typer.Option(None, "--platform", help="Target os/arch."),
    rm: bool = typer.Option(True, "--rm/--no-rm", hidden=True),
    force_rm: bool = typer.Option(False, "--force-rm", hidden=True),
    progress: str = typer.Option(None, "--progress", hidden=True),
    load: bool = typer.Option(False, "--load", hidden=True),
    secret: list[str] = typer.Option([], "--secret", hidden=True),
    ssh: list[str] = typer.Option([], "--ssh", hidden=True),
    cache_from: list[str] = typer.Option([], "--cache-from", hidden=True),
    cache_to: list[str] = typer.Option([], "--cache-to", hidden=True),
    output: list[str] = typer.Option([], "--output", "-o", hidden=True),
    add_host: list[str] = typer.Option([], "--add-host", hidden=True),
    cpu_shares: str = typer.Option(None, "--cpu-shares", hidden=True),
    cpu_period: str = typer.Option(None, "--cpu-period", hidden=True),
    cpu_quota: str = typer.Option(None, "--cpu-quota", hidden=True),
    cpuset_cpus: str = typer.Option(None, "--cpuset-cpus", hidden=True),
    cpuset_mems: str = typer.Option(None, "--cpuset-mems", hidden=True),
    memory: str = typer.Option(None, "--memory", "-m", hidden=True),
    memory_swap: str = typer.Option(None, "--memory-swap", hidden=True),
    shm_size: str = typer.Option(None, "--shm-size", hidden=True),
    ulimit: list[str] = typer.Option([], "--ulimit", hidden=True),
    isolation: str = typer.Option(None, "--isolation", hidden=True),
    cgroup_parent: str = typer.Option(None, "--cgroup-parent", hidden=True),
    security_opt: list[str] = typer.Option([], "--security-opt", hidden=True),
    build_context: list[str] = typer.Option([], "--build-context", hidden=True),
    allow: list[str] = typer.Option([], "--allow", hidden=True),
    attest: list[str] = typer.Option([], "--attest", hidden=True),
    sbom: str = typer.Option(None, "--sbom", hidden=True),
    provenance: str = typer.Option(None, "--provenance", hidden=True),
    squash: bool = typer.Option(False, "--squash", hidden=True),
    push: bool = typer.Option(False, "--push", hidden=True),
    compress: bool = typer.Option(False, "--compress", hidden=True),
    fmt: str = typer.Option("oci", "--format",
                            help="Manifest type: oci (default) or docker (Podman)."),
    pull_policy: str = typer.Option(None, "--pull-policy", hidden=True),
    pull_never: bool = typer.Option(False, "--pull-never", help="Never pull (Podman)."),
    pull_always: bool = typer.Option(False, "--pull-always", help="Always pull (Podman)."),
    runtime_flag: list[str] = typer.Option([], "--runtime-flag", hidden=True),
    builder: str = typer.Option(None, "--builder", hidden=True),
    metadata_file: str = typer.Option(None, "--metadata-file", hidden=True),
    no_cache_filter: list[str] = typer.Option([], "--no-cache-filter", hidden=True),
) -> None:
    """Build an image from a Dockerfile (or a Containerfile)."""
    _unsupported(ctx)
    if runtime_flag:  # Podman passes them to its OCI runtime; RUN steps here have none
        raise UsageError("pyc build does not support --runtime-flag: RUN steps run in "
                         "pyc's own runtime, which takes no flags")
    from pycontainer.ops import build as ops_build

    policy = "never" if pull_never else "always" if pull_always else pull_policy or ""
    opts = ops_build.BuildOptions(
        context=context, dockerfile=file, tags=list(tag), build_args=list(build_arg),
        target=target, no_cache=no_cache, pull=pull, quiet=quiet, iidfile=iidfile,
        labels=list(label), network=network or "default", platform=platform,
        stdin=sys.stdin.buffer if "-" in (context, file) else None,
        pull_policy=policy, manifest_format=fmt)
    if push and not tag:
        raise UsageError("--push needs a name to push to: give it with -t")
    report = ops_build.run_build(_paths(ctx), opts, None if quiet else sys.stdout)
    _report(report, quiet)
    if push:  # buildx's --push: the classic builder's image, then `pyc push` of each tag
        from pycontainer.ops import push as ops_push

        for name in tag:
            ops_push.push(_paths(ctx), ops_push.PushOptions(name),
                          None if quiet else sys.stdout)


def _report(report: BuildReport, quiet: bool) -> None:
    hex_id = report.image_id.split(":", 1)[-1]
    if quiet:  # Docker's `build -q`: the image id with its algorithm, alone
        sys.stdout.write(f"sha256:{hex_id}\n")
        return
    from pycontainer.oci.reference import familiar

    for name in report.names:  # as Docker shows it: myapp:1, not docker.io/library/myapp:1
        repo, _, version = name.rpartition(":")
        sys.stdout.write(f"Successfully tagged {familiar(repo)}:{version}\n")
    sys.stdout.write(hex_id + "\n")


def buildx_build(ctx: typer.Context, **params: Any) -> None:
    """Build with the classic builder, as `docker buildx build` scripts expect."""
    given = [name for name in BUILDKIT_ONLY
             if ctx.params.get(name.lstrip("-").replace("-", "_"))]
    if given:
        raise UsageError(f"pyc buildx build is the classic builder: BuildKit's "
                         f"{', '.join(given)} is not supported")
    if "," in (ctx.params.get("platform") or ""):
        raise UsageError("pyc buildx build builds for one platform: --platform "
                         f"{ctx.params['platform']} names several")
    build(ctx, **ctx.params)


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    import inspect

    app.command("build")(build)
    groups["image"].command("build")(build)
    # the same options as `build` (their refusals come first, naming BuildKit)
    buildx_build.__signature__ = inspect.signature(build)  # type: ignore[attr-defined]
    buildx_build.__annotations__ = dict(build.__annotations__)
    groups["buildx"].command("build")(buildx_build)
