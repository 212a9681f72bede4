"""Which command lines are help requests the help cache (cli/helpcache.py) may answer."""

from __future__ import annotations

import pytest

from pycontainer.cli import helpcache


@pytest.mark.parametrize(("args", "key"), [
    (["--help"], ""),
    (["run", "--help"], "run"),
    (["network", "ls", "--help"], "network ls"),
    (["--root", "/r", "--runroot=/rr", "image", "inspect", "--help"], "image inspect"),
    (["--log-level", "debug", "--help"], ""),
    (["run", "--rm", "--help"], None),  # options before: typer decides
    (["run", "busybox", "sh", "--help"], None),  # the container's own --help
    (["run", "-h"], None),  # run's -h is --hostname
    (["run"], None),
    ([], None),
    (["--bogus", "--help"], None),
    (["run", "--help", "x"], None),
], ids=lambda v: " ".join(v) if isinstance(v, list) else str(v))
def test_request(args: list[str], key: str | None) -> None:
    assert helpcache.request(args) == key
