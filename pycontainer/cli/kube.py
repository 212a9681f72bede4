"""`pyc kube generate|play|down` (Podman's `kube` commands) and Podman's older spellings,
`pyc generate kube` and `pyc play kube`. Each parses its flags, makes one ops call
(`ops.kube_generate`, `ops.kube_play`) and prints what Podman prints."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import typer

from pycontainer.errors import UsageError

if TYPE_CHECKING:
    from pycontainer.ops.kube_play import DownReport, Plan
    from pycontainer.paths import Paths


def _paths(ctx: typer.Context) -> Paths:
    from pycontainer import paths

    opts = ctx.find_root().obj
    return paths.resolve(opts.root, opts.runroot)


def _warn(lines: list[str]) -> None:
    for line in lines:
        sys.stderr.write(f"WARNING: {line}\n")


def generate(
    ctx: typer.Context,
    names: list[str] = typer.Argument(..., metavar="CONTAINER|POD...",
                                      help="Pods (one Pod each) and containers (one more)."),
    service: bool = typer.Option(False, "-s", "--service", help="Add a Service (NodePort)."),
    kind: str = typer.Option("pod", "-t", "--type", help="pod or deployment."),
    replicas: int = typer.Option(None, "-r", "--replicas",
                                 help="Replicas of a Deployment (--type deployment)."),
    filename: str = typer.Option(None, "-f", "--filename", help="Write to FILE."),
) -> None:
    """Generate Kubernetes YAML of pods and containers."""
    from pycontainer.ops import kube_generate

    if filename and os.path.exists(filename):
        raise UsageError(f"cannot write to {filename!r}: file exists")
    out = kube_generate.generate(_paths(ctx), list(names), kube_generate.GenerateOptions(
        kind=kind, replicas=replicas, service=service))
    _warn(out.warnings)
    if not filename:
        sys.stdout.write(out.text)
        return
    try:
        with open(filename, "x") as f:
            f.write(out.text)
    except OSError as exc:
        raise UsageError(f"cannot write to {filename!r}: {exc.strerror}") from None


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        with open(path) as f:
            return f.read()
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from None


def _plan(path: str, configmaps: list[str]) -> Plan:
    from pycontainer.ops import kube_play

    files = [p for item in configmaps for p in item.split(",") if p]
    return kube_play.read_plan(_read(path), "-" if path == "-" else path,
                               [(p, _read(p)) for p in files])


def _flag(value: str, flag: str) -> bool:
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise UsageError(f"invalid argument {value!r} for {flag}: true or false")


def play(
    ctx: typer.Context,
    file: str = typer.Argument(..., metavar="FILE|-", help="Kubernetes YAML (- for stdin)."),
    configmap: list[str] = typer.Option([], "--configmap",
                                        help="YAML files of ConfigMaps and Secrets."),
    replace: bool = typer.Option(False, "--replace", help="Replace the pods of the file."),
    start: str = typer.Option("true", "--start", metavar="BOOL",
                              help="Start the pods (--start=false: create only)."),
    network: list[str] = typer.Option([], "--network", help="Network of the pods."),
    publish: list[str] = typer.Option([], "--publish", help="Publish a pod's port."),
    tear_down: bool = typer.Option(False, "--down",
                                   help="Remove what an earlier play of FILE made (kube down)."),
) -> None:
    """Create and start the pods, volumes, configmaps and secrets of Kubernetes YAML."""
    from pycontainer import config
    from pycontainer.ops import kube_play

    paths = _paths(ctx)
    plan = _plan(file, configmap)
    if tear_down:  # Podman's older `play kube --down`
        _print_down(kube_play.down(paths, plan))
        return
    opts = kube_play.PlayOptions(replace=replace, start=_flag(start, "--start"),
                                 network=list(network), publish=list(publish),
                                 log_driver=config.load_engine(paths.config).log_driver,
                                 progress=sys.stderr)
    _warn(plan.warnings)
    plan.warnings.clear()
    report = kube_play.play(paths, plan, opts)
    _warn(report.warnings)
    if report.volumes:
        sys.stdout.write("Volumes:\n" + "".join(f"{v}\n" for v in report.volumes))
    for pod in report.pods:
        sys.stdout.write(f"Pod:\n{pod.name}\nContainers:\n"
                         + "".join(f"{cid}\n" for cid in pod.containers))


def down(
    ctx: typer.Context,
    file: str = typer.Argument(..., metavar="FILE|-", help="The YAML that was played."),
) -> None:
    """Remove the pods and volumes that `kube play` of FILE made."""
    from pycontainer.ops import kube_play

    _print_down(kube_play.down(_paths(ctx), _plan(file, [])))


def _print_down(report: DownReport) -> None:
    if report.pods:
        sys.stdout.write("Pods removed:\n" + "".join(f"{p}\n" for p in report.pods))
    if report.volumes:
        sys.stdout.write("Volumes removed:\n" + "".join(f"{v}\n" for v in report.volumes))


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    groups["kube"].command("generate")(generate)
    groups["kube"].command("play")(play)
    groups["kube"].command("down")(down)
    groups["generate"].command("kube")(generate)
    groups["play"].command("kube")(play)
