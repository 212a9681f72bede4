"""`pyc pull`, `tag`, `rmi`, `history` and `image inspect`: the image commands scripts run in
loops (`pyc images` is `cli/images_ls.py`).

No typer at import: the flags are data, registered with typer by `cli/images.py` and parsed
without it on the fast path (`cli/fast.py`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from pycontainer.cli.flags import BOOL, STR, Arg, Flag, GlobalOptions
from pycontainer.errors import UsageError

INTERSPERSED = True
TLS_HELP = "Require HTTPS and verify certificates (false: allow plain HTTP / self-signed)."
#: Docker's --disable-content-trust (default true); =false asks for signature checks
CONTENT_TRUST = Flag("content_trust", ("--disable-content-trust",), BOOL, default=True,
                     off="--no-disable-content-trust", hidden=True,
                     help="Accepted for Docker scripts: pyc never verifies signatures.")

PULL_FLAGS = (
    Flag("all_tags", ("--all-tags", "-a"), BOOL, help="Pull every tagged image."),
    Flag("quiet", ("--quiet", "-q"), BOOL, help="Suppress verbose output."),
    Flag("platform", ("--platform",), STR, default="", help="os/arch[/variant] to pull."),
    Flag("tls_verify", ("--tls-verify",), STR, help=TLS_HELP),
    Flag("authfile", ("--authfile",), STR, help="Path of the auth file."),
    CONTENT_TRUST,
)
HISTORY_FLAGS = (
    Flag("human", ("--human", "-H"), BOOL, default=True, off="--no-human",
         help="Human readable sizes and dates (`--human=false`: bytes and RFC 3339)."),
    Flag("no_trunc", ("--no-trunc",), BOOL, help="Don't truncate output."),
    Flag("quiet", ("--quiet", "-q"), BOOL, help="Only show image IDs."),
    Flag("fmt", ("--format",), STR, help="table, json or a Go template."),
)
RMI_FLAGS = (
    Flag("force", ("--force", "-f"), BOOL, help="Force removal of the image."),
    Flag("no_prune", ("--no-prune",), BOOL, help="Keep untagged parents."),
    Flag("all_", ("--all", "-a"), BOOL, help="Remove all images (Podman)."),
    Flag("ignore", ("--ignore", "-i"), BOOL, help="No error for a missing image (Podman)."),
)
#: verb -> (positional arguments, flags, help)
VERBS: dict[str, tuple[tuple[Arg, ...], tuple[Flag, ...], str]] = {
    "pull": ((Arg("name", "NAME[:TAG|@DIGEST]"),), PULL_FLAGS,
             "Download an image from a registry."),
    "tag": ((Arg("source", "SOURCE_IMAGE[:TAG]"),
             Arg("targets", "TARGET_IMAGE[:TAG]...", many=True)), (),
            "Create tags TARGET_IMAGE that refer to SOURCE_IMAGE (several: Podman)."),
    "history": ((Arg("name", "IMAGE"),), HISTORY_FLAGS, "Show the history of an image."),
    "rmi": ((Arg("names", "IMAGE...", many=True, required=False),), RMI_FLAGS,
            "Remove one or more images."),
    "inspect": ((Arg("names", "IMAGE...", many=True),),
                (Flag("fmt", ("--format", "-f"), STR, help="json or a Go template."),),
                "Display detailed information on one or more images."),
}
VERBS["rm"] = VERBS["rmi"]  # `pyc image rm`


def tables(verb: str) -> tuple[tuple[Arg, ...], tuple[Flag, ...]]:
    """The fast path's view of one verb: (ARGS, FLAGS)."""
    return VERBS[verb][:2]


def tls(value: str | None) -> bool | None:
    """--tls-verify's value: None when not given."""
    if value is None:
        return None
    v = value.strip().lower()
    if v in ("true", "1", "yes", ""):
        return True
    if v in ("false", "0", "no"):
        return False
    raise UsageError(f"invalid --tls-verify value {value!r}: use true or false")


def pull(params: dict[str, Any], gopts: GlobalOptions) -> None:
    from pycontainer import paths
    from pycontainer.cli.run import refuse_content_trust
    from pycontainer.oci import reference
    from pycontainer.ops import pull as ops_pull

    p = params
    refuse_content_trust(p["content_trust"])
    name, quiet, all_tags = p["name"], p["quiet"], p["all_tags"]
    reference.parse(name)  # a malformed reference is only an error line, as Docker's
    last = name.rsplit("/", 1)[-1]
    if not quiet and not all_tags and ":" not in last and "@" not in last:
        sys.stdout.write("Using default tag: latest\n")
    opts = ops_pull.PullOptions(name, p["platform"], all_tags, quiet, tls(p["tls_verify"]),
                                p["authfile"])
    report = ops_pull.pull(paths.resolve(gopts.root, gopts.runroot), opts,
                           None if quiet else sys.stdout)
    for shown in report.names:
        sys.stdout.write(shown + "\n")


def tag(params: dict[str, Any], gopts: GlobalOptions) -> None:
    from pycontainer import paths
    from pycontainer.ops import image_names

    image_names.tag_many(paths.resolve(gopts.root, gopts.runroot), params["source"],
                         list(params["targets"]))


def history(params: dict[str, Any], gopts: GlobalOptions) -> None:
    from pycontainer import paths
    from pycontainer.cli import image_format
    from pycontainer.ops import images as ops_images

    rows = ops_images.history(paths.resolve(gopts.root, gopts.runroot), params["name"])
    image_format.print_history(rows, params["human"], params["no_trunc"], params["quiet"],
                               params["fmt"])


def inspect(params: dict[str, Any], gopts: GlobalOptions) -> None:
    from pycontainer import paths
    from pycontainer.cli import image_format
    from pycontainer.errors import ImageNotFound
    from pycontainer.ops import images as ops_images

    store = paths.resolve(gopts.root, gopts.runroot)
    found: list[dict[str, Any]] = []
    missing: list[ImageNotFound] = []
    for n in params["names"]:
        try:
            found.append(ops_images.inspect_image(store, n))
        except ImageNotFound as err:
            missing.append(err)
    image_format.print_inspect(found, params["fmt"])
    if missing:
        for exc in missing[:-1]:
            sys.stderr.write(f"Error: {exc}\n")
        raise missing[-1]


def rmi(params: dict[str, Any], gopts: GlobalOptions) -> None:
    from pycontainer import paths
    from pycontainer.errors import ImageNotFound
    from pycontainer.ops import image_names
    from pycontainer.ops import images as ops_images

    store = paths.resolve(gopts.root, gopts.runroot)
    names, force = list(params["names"] or []), params["force"]
    if params["all_"] and names:
        raise UsageError("when using the --all switch, you may not pass any images names "
                         "or IDs")
    if params["all_"]:
        names = image_names.all_names(store)
    elif not names:
        raise UsageError("rmi requires at least 1 argument")
    report, errors = ops_images.remove(store, names, force, not params["no_prune"])
    for n in report.untagged:
        sys.stdout.write(f"Untagged: {n}\n")
    for i in report.deleted:
        sys.stdout.write(f"Deleted: {i}\n")
    if params["ignore"]:
        errors = [e for e in errors if not isinstance(e, ImageNotFound)]
    for exc in errors[:-1]:
        sys.stderr.write(f"Error: {exc}\n")
    if errors and force and all(isinstance(e, ImageNotFound) for e in errors):
        # Docker: with -f, missing images are reported and the exit status stays 0
        sys.stderr.write(f"Error: {errors[-1]}\n")
    elif errors:
        raise errors[-1]


_COMMANDS: dict[str, Callable[[dict[str, Any], GlobalOptions], None]] = {
    "pull": pull, "tag": tag, "history": history, "inspect": inspect, "rmi": rmi, "rm": rmi}


def command(params: dict[str, Any], verb: str, gopts: GlobalOptions) -> None:
    _COMMANDS[verb](params, gopts)
