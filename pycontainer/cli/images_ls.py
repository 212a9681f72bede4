"""`pyc images` / `pyc image ls`: Docker's table of images, its filters and templates.

No typer at import: the flags are data, registered with typer by `register` and parsed
without it on the fast path (`cli/fast.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pycontainer.cli.flags import BOOL, LIST, STR, Arg, Flag, GlobalOptions, typer_command

if TYPE_CHECKING:
    import typer

INTERSPERSED = True
ARGS = (Arg("repository", "[REPOSITORY[:TAG]]", required=False),)
FLAGS = (
    # no intermediate images exist (build steps are cached, not stored as images)
    Flag("all_", ("--all", "-a"), BOOL, help="Show all images."),
    Flag("quiet", ("--quiet", "-q"), BOOL, help="Only show image IDs."),
    Flag("digests", ("--digests",), BOOL, help="Show digests."),
    Flag("no_trunc", ("--no-trunc",), BOOL, help="Don't truncate output."),
    Flag("filters", ("--filter", "-f"), LIST, help="dangling=, reference=, ..."),
    Flag("fmt", ("--format",), STR, help="table, json or a Go template."),
    Flag("noheading", ("--noheading", "-n"), BOOL, help="No header line (Podman)."),
    Flag("sort", ("--sort",), STR, help="Sort by created, id, repository, size or tag "
         "(Podman)."),
)


def command(params: dict[str, Any], verb: str, gopts: GlobalOptions) -> None:
    from pycontainer import paths
    from pycontainer.cli import image_format, listing
    from pycontainer.ops import images as ops_images

    p = params
    listing.sort_images([], p["sort"])  # a bad key fails before any work
    rows = ops_images.list_rows(paths.resolve(gopts.root, gopts.runroot), p["repository"],
                                list(p["filters"]), p["no_trunc"])
    rows = listing.sort_images(rows, p["sort"])
    image_format.print_images(rows, p["quiet"], p["digests"], p["no_trunc"], p["fmt"],
                              p["noheading"])


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    fn = typer_command(command, FLAGS, ARGS, "images", "List images.")
    app.command("images")(fn)
    groups["image"].command("ls")(fn)
    groups["image"].command("list")(fn)
