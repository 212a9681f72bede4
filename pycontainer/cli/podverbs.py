"""`pyc pod create` and `pyc pod start` without typer: a pod's first steps, whose latency
counts (`benchmarks/bench_pods.py`). The flags are data (`cli/flags.py`), registered with
typer by `cli/pods.py` and parsed without it by `cli/fast.py`, as the container verbs are.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from pycontainer.cli.flags import BOOL, LIST, STR, Arg, Flag, GlobalOptions

if TYPE_CHECKING:
    from pycontainer.paths import Paths

INTERSPERSED = True
_ALL = Flag("all_", ("--all", "-a"), BOOL, help="Act on all pods.")
VERBS: dict[str, tuple[tuple[Arg, ...], tuple[Flag, ...]]] = {
    "create": ((Arg("name_arg", "[NAME]", required=False),), (
        Flag("name", ("--name", "-n"), STR, default="", help="Assign a name to the pod."),
        Flag("publish", ("--publish", "-p"), LIST, help="Publish a port of the pod."),
        Flag("network", ("--network", "--net"), LIST,
             help="slirp4netns[:options] (default) or none."),
        Flag("hostname", ("--hostname",), STR, default="", help="The pod's hostname."),
        Flag("label", ("--label", "-l"), LIST, help="Set metadata on the pod."),
        Flag("share", ("--share",), STR, help="Namespaces to share: net,ipc,uts or none."),
        Flag("infra", ("--infra",), BOOL, default=True, off="--no-infra",
             help="Create an infra process."),
        Flag("userns", ("--userns",), STR, default="",
             help="keep-id (default: the user's mapping)."))),
    "start": ((Arg("names", "POD...", many=True, required=False),), (_ALL,)),
}
HELP = {"create": "Create a new empty pod.", "start": "Start one or more pods."}


def tables(verb: str) -> tuple[tuple[Arg, ...], tuple[Flag, ...]]:
    return VERBS[verb]


def _paths(gopts: GlobalOptions) -> Paths:
    from pycontainer import paths

    return paths.resolve(gopts.root, gopts.runroot)


def command(params: dict[str, Any], verb: str, gopts: GlobalOptions) -> None:
    if verb == "create":
        _create(params, gopts)
    else:
        _start(params, gopts)


def _create(p: dict[str, Any], gopts: GlobalOptions) -> None:
    from pycontainer.errors import UsageError
    from pycontainer.ops import podinfra

    if p["name_arg"] and p["name"]:
        raise UsageError("cannot specify a pod name both as an argument and with --name")
    labels: dict[str, str] = {}
    for item in p["label"]:
        key, _, value = item.partition("=")
        if not key.strip():
            raise UsageError(f"invalid label '{item}': empty name")
        labels[key] = value
    opts = podinfra.PodCreateOptions(
        name=p["name_arg"] or p["name"] or "", hostname=p["hostname"] or "", labels=labels,
        share=p["share"], infra=p["infra"], publish=list(p["publish"]),
        network=list(p["network"]), userns=p["userns"] or "", command=["pyc", *sys.argv[1:]])
    sys.stdout.write(podinfra.create(_paths(gopts), opts) + "\n")


def _start(p: dict[str, Any], gopts: GlobalOptions) -> None:
    from pycontainer.errors import PycError, UsageError
    from pycontainer.ops import pods

    paths = _paths(gopts)
    names = list(p["names"] or [])
    if p["all_"]:
        if names:
            raise UsageError("--all and pod names cannot be used together")
        names = pods.store_for(paths).ids()
    elif not names:
        raise UsageError("you must provide at least one pod name or id")
    errors: list[PycError] = []
    for name in names:
        try:
            sys.stdout.write(pods.start(paths, name) + "\n")
        except PycError as exc:
            errors.append(exc)
    for failed in errors[:-1]:
        sys.stderr.write(f"Error: {failed.message}\n")
    if errors:
        raise errors[-1]
