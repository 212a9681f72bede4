"""`python -m pycontainer`, the `pyc` console script and the zipapp entry point."""


def main() -> None:
    from pycontainer.cli.entry import main as entry_main

    entry_main()


if __name__ == "__main__":
    main()
