"""`pyc unshare`: run a command as root of the user's mapped user namespace (with its own
mount namespace), like `podman unshare`; handy to look at the store with image ownership."""

from __future__ import annotations

import os
import sys

from pycontainer.linux import syscalls, userns
from pycontainer.paths import Paths


def unshare(paths: Paths, argv: list[str]) -> int:
    """Run `argv` (default: the user's shell) in the namespace; returns its exit status."""
    argv = argv or [os.environ.get("SHELL") or "/bin/sh"]
    env = dict(os.environ, CONTAINERS_GRAPHROOT=str(paths.data),
               CONTAINERS_RUNROOT=str(paths.runtime))
    if os.getuid() == 0:
        return _run(argv, env)
    mapping = userns.default_mapping()

    def child() -> int:  # pragma: no cover - runs in the child
        try:
            os.execvpe(argv[0], argv, env)
        except FileNotFoundError:
            sys.stderr.write(f"Error: {argv[0]}: command not found\n")
            return 127
        except OSError as exc:
            sys.stderr.write(f"Error: {argv[0]}: {exc.strerror}\n")
            return 126

    return userns.run_in_userns(child, mapping, syscalls.CLONE_NEWNS)


def _run(argv: list[str], env: dict[str, str]) -> int:
    import subprocess

    try:
        return subprocess.call(argv, env=env)
    except FileNotFoundError:
        sys.stderr.write(f"Error: {argv[0]}: command not found\n")
        return 127
