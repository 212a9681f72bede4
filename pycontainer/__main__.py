"""`python -m pycontainer`, the `pyc` console script and the zipapp entry point."""

import sys


def main() -> None:
    # The cyclic collector stays off while typer and pyc load (its passes are 3-8 ms of every
    # command); cli.app.main turns it back on for commands that may run long.
    import gc

    gc.disable()
    from pycontainer.cli.app import main as cli_main

    sys.exit(cli_main())


if __name__ == "__main__":
    main()
