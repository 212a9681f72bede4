"""`python -m pycontainer` and the zipapp entry point."""

import sys


def _main() -> None:
    # The supervisor is started as `python -m pycontainer supervisor ...`-free entry: it has its
    # own module so that it never imports the CLI framework.
    from pycontainer.cli.app import main

    sys.exit(main())


if __name__ == "__main__":
    _main()
