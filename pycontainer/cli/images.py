"""Image commands: push, image prune, save, load, import, image exists, untag, login, logout.
Each parses flags, makes one ops call, formats. pull, tag, rmi, history and image inspect,
which the fast path also runs, live in `cli/image_fast.py`; images in `cli/images_ls.py`.

Imports of ops happen inside the commands: `pyc run` must not pay for them at start-up.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import typer

from pycontainer.cli.image_fast import TLS_HELP
from pycontainer.cli.image_fast import tls as _tls
from pycontainer.errors import UsageError

if TYPE_CHECKING:
    from typing import BinaryIO

    from pycontainer.paths import Paths


def _paths(ctx: typer.Context) -> Paths:
    from pycontainer import paths

    opts = ctx.find_root().obj
    return paths.resolve(opts.root, opts.runroot)


# -- pull / push -------------------------------------------------------------------------------

#: Docker's --disable-content-trust (default true); =false asks for signature checks
CONTENT_TRUST = "--disable-content-trust/--no-disable-content-trust"


def push(
    ctx: typer.Context,
    name: str = typer.Argument(..., metavar="NAME[:TAG]"),
    destination: str = typer.Argument(None, metavar="[DESTINATION]",
                                      help="Where to push (default: NAME)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Suppress verbose output."),
    all_tags: bool = typer.Option(False, "--all-tags", "-a", help="Push every tag of NAME."),
    tls_verify: str = typer.Option(None, "--tls-verify", help=TLS_HELP),
    authfile: str = typer.Option(None, "--authfile", help="Path of the auth file."),
    content_trust: bool = typer.Option(True, CONTENT_TRUST, hidden=True,
                                       help="Accepted for Docker scripts: pyc never signs."),
) -> None:
    """Upload an image to a registry."""
    from pycontainer.cli.run import refuse_content_trust
    from pycontainer.ops import push as ops_push

    refuse_content_trust(content_trust)
    opts = ops_push.PushOptions(name, destination or "", all_tags, _tls(tls_verify), authfile)
    ops_push.push(_paths(ctx), opts, None if quiet else sys.stdout)


# -- listing -----------------------------------------------------------------------------------

def exists(ctx: typer.Context, name: str = typer.Argument(..., metavar="IMAGE")) -> None:
    """Exit 0 if the image exists locally, 1 if not."""
    from pycontainer.ops import images as ops_images

    if not ops_images.exists(_paths(ctx), name):
        raise typer.Exit(1)


# -- changing the store ------------------------------------------------------------------------

def untag(
    ctx: typer.Context,
    image: str = typer.Argument(..., metavar="IMAGE"),
    names: list[str] = typer.Argument(None, metavar="[NAME...]"),
) -> None:
    """Remove names from an image, all of them when none is given (Podman)."""
    from pycontainer.ops import image_names

    image_names.untag(_paths(ctx), image, list(names or []))


def prune(
    ctx: typer.Context,
    all_: bool = typer.Option(False, "--all", "-a", help="Remove all unused images."),
    force: bool = typer.Option(False, "--force", "-f", help="Do not prompt for confirmation."),
    filters: list[str] = typer.Option([], "--filter", help="Not supported yet."),
) -> None:
    """Remove unused images."""
    from pycontainer.cli import image_format
    from pycontainer.ops import images as ops_images

    if filters:
        raise UsageError("image prune --filter is not supported")
    if not force:  # as Docker: ask, and take no answer (EOF) as no
        what = "all images without at least one container associated to them" if all_ \
            else "all dangling images"
        sys.stdout.write(f"WARNING! This will remove {what}.\nAre you sure you want to "
                         "continue? [y/N] ")
        sys.stdout.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            return
    deleted, reclaimed = ops_images.prune(_paths(ctx), all_)
    if deleted:
        sys.stdout.write("Deleted Images:\n")
        for d in deleted:
            sys.stdout.write(f"deleted: {d}\n")
        sys.stdout.write("\n")
    sys.stdout.write(f"Total reclaimed space: {image_format.human_size(reclaimed)}\n")


def import_(
    ctx: typer.Context,
    source: str = typer.Argument(..., metavar="file|URL|-"),
    name: str = typer.Argument(None, metavar="[REPOSITORY[:TAG]]"),
    change: list[str] = typer.Option([], "--change", "-c", help="Dockerfile instruction."),
    message: str = typer.Option("", "--message", "-m", help="Commit message."),
    platform: str = typer.Option("", "--platform", help="os/arch[/variant] of the image."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Suppress output."),
) -> None:
    """Import the contents from a tarball to create a filesystem image."""
    from pycontainer.ops import images as ops_images

    if "://" in source:
        raise UsageError("importing from a URL is not supported; download it first")
    stream = sys.stdin.buffer if source == "-" else _open(source)
    try:
        opts = ops_images.ImportOptions(stream, name or "", list(change), message, platform)
        rec = ops_images.import_image(_paths(ctx), opts)
    finally:
        if source != "-":
            stream.close()
    sys.stdout.write(rec.id + "\n")


def _open(path: str) -> BinaryIO:
    try:
        return open(path, "rb")
    except OSError as exc:
        raise UsageError(f"open {path}: {exc.strerror}") from None


# -- archives ----------------------------------------------------------------------------------

def save(
    ctx: typer.Context,
    names: list[str] = typer.Argument(..., metavar="IMAGE..."),
    output: str = typer.Option(None, "--output", "-o", help="Write to a file, not stdout."),
    fmt: str = typer.Option("docker-archive", "--format",
                            help="docker-archive (default), oci-archive, oci-dir or "
                                 "docker-dir (Podman's directories, with -o)."),
    multi: bool = typer.Option(False, "--multi-image-archive", "-m",
                               help="(Podman; always: one archive holds every image)"),
    uncompressed: bool = typer.Option(False, "--uncompressed",
                                      help="(Podman; always: layers are not compressed)"),
    compress: bool = typer.Option(False, "--compress", hidden=True),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="(accepted: nothing is printed)"),
) -> None:
    """Save one or more images to a tar archive (streamed to STDOUT by default)."""
    from pycontainer.ops import save_load

    if compress:
        raise UsageError("--compress is not supported: pyc writes layers uncompressed")
    if output is None and sys.stdout.isatty():
        raise UsageError("cowardly refusing to save to a terminal. Use the -o flag or "
                         "redirect")
    save_load.save(_paths(ctx), names, output, fmt)


def load(
    ctx: typer.Context,
    input_: str = typer.Option(None, "--input", "-i", help="Read from a tar archive file."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Suppress the load output."),
) -> None:
    """Load images from a tar archive (docker-archive or oci-archive) or STDIN."""
    from pycontainer.ops import save_load

    loaded = save_load.load(_paths(ctx), input_)
    for line in loaded:
        sys.stdout.write(f"Loaded image: {line}\n" if ":" in line and not
                         line.startswith("sha256:") else f"Loaded image ID: {line}\n")


# -- credentials -------------------------------------------------------------------------------

def login(
    ctx: typer.Context,
    server: str = typer.Argument(None, metavar="[SERVER]"),
    username: str = typer.Option(None, "--username", "-u", help="Username."),
    password: str = typer.Option(None, "--password", "-p", help="Password."),
    password_stdin: bool = typer.Option(False, "--password-stdin",
                                        help="Take the password from stdin."),
    tls_verify: str = typer.Option(None, "--tls-verify", help=TLS_HELP),
    authfile: str = typer.Option(None, "--authfile", help="Path of the auth file."),
) -> None:
    """Log in to a registry."""
    from pycontainer.ops import login as ops_login

    if password_stdin:
        if password:
            raise UsageError("--password and --password-stdin are mutually exclusive")
        if not username:
            raise UsageError("Must provide --username with --password-stdin")
        password = sys.stdin.read().rstrip("\r\n")
    if password and not password_stdin:
        sys.stderr.write("WARNING! Using --password via the CLI is insecure. "
                         "Use --password-stdin.\n")
    if not username:
        username = _prompt("Username: ")
    if not password:
        import getpass

        password = getpass.getpass("Password: ")
    ops_login.login(_paths(ctx), server or "docker.io", username, password,
                    _tls(tls_verify), authfile)
    sys.stdout.write("Login Succeeded\n")


def _prompt(text: str) -> str:
    if not sys.stdin.isatty():
        raise UsageError("Cannot perform an interactive login from a non TTY device")
    sys.stdout.write(text)
    sys.stdout.flush()
    return sys.stdin.readline().strip()


def logout(
    ctx: typer.Context,
    server: str = typer.Argument(None, metavar="[SERVER]"),
    all_: bool = typer.Option(False, "--all", "-a", help="Remove every stored credential."),
    authfile: str = typer.Option(None, "--authfile", help="Path of the auth file."),
) -> None:
    """Log out from a registry."""
    from pycontainer.ops import login as ops_login

    shown = server or "docker.io"
    if ops_login.logout(_paths(ctx), None if all_ else shown, authfile):
        sys.stdout.write("Removed login credentials for all registries\n" if all_ else
                         f"Removing login credentials for {shown}\n")
    else:  # Docker's answer, and not an error
        sys.stdout.write(f"Not logged in to {shown}\n")


_TYPED: dict[str, Callable[..., None]] = {"push": push, "save": save, "load": load,
                                          "import": import_}


def register(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    from pycontainer.cli import image_fast, images_ls
    from pycontainer.cli.flags import typer_command

    def fast(verb: str) -> Callable[..., None]:
        args, flags, text = image_fast.VERBS[verb]
        return typer_command(image_fast.command, flags, args, verb, text)

    img = groups["image"]
    for verb in ("pull", "push", "tag", "history", "save", "load", "import"):
        fn = fast(verb) if verb in image_fast.VERBS else _TYPED[verb]
        app.command(verb)(fn)
        img.command(verb)(fn)
    images_ls.register(app, groups)
    app.command("rmi")(fast("rmi"))
    img.command("rm")(fast("rm"))
    img.command("inspect")(fast("inspect"))
    img.command("prune")(prune)
    img.command("exists")(exists)
    app.command("untag")(untag)
    img.command("untag")(untag)
    app.command("login")(login)
    app.command("logout")(logout)
