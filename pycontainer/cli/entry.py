"""The `pyc` process around one command: start-up, the fast path or typer, and the exit."""

from __future__ import annotations

import sys


def main() -> None:
    # The cyclic collector stays off while typer and pyc load (its passes are 3-8 ms of every
    # command); cli.app.main turns it back on for commands that may run long.
    import gc

    gc.disable()
    if sys.argv[-1:] == ["--help"]:  # help printed before: no dataclasses, no typer
        from pycontainer.cli import helpcache

        if helpcache.print_cached(sys.argv[1:]):
            from pycontainer.cli.exits import exit_now

            exit_now(0)
    from pycontainer import dccache

    dccache.install()
    from pycontainer.cli import fast

    code = fast.main(sys.argv[1:])
    if code is not None:  # a hot command, run without typer (short-lived: the GC stays off)
        from pycontainer.cli.exits import exit_now

        exit_now(code)
    from pycontainer.cli.app import main as cli_main

    sys.exit(cli_main())
