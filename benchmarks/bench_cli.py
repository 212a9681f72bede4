#!/usr/bin/env python3
"""The commands scripts run in loops, and help: pyc vs rootless `podman --runtime runc`.

    runuser -u pyctest -- env HOME=/home/pyctest $VENV/bin/python \\
        benchmarks/bench_cli.py [-n 7] [case ...]

Cases (bench.py's framework: fresh storage per case and engine, medians; `version` is
bench.py's own):

    network-ls      network ls                       the three pre-defined networks
    volume-ls       volume ls                        one volume
    top             top CTR                          a running container
    image-inspect   image inspect busybox
    history         history busybox
    logs            logs CTR                         an exited container that printed a line
    port            port CTR                         a running container with one `-p`
    info            info
    pull-present    pull busybox                     already in the store
    tag             tag busybox bench:tag
    rmi             rmi bench:rmi                    a second name (untag only)
    volume-create   volume create benchvol           removed before each round
    network-create  network create benchnet          removed before each round
    help            --help
    help-run        run --help

Images and containers are made in setup: only the command itself is timed.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench  # noqa: E402 - the framework lives beside this file
from bench import BUSYBOX, Engine, case  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def running(engine: Engine) -> None:
    engine.run("pull", BUSYBOX)
    engine.run("run", "-d", "--name", "bench-ctr", "-p", f"{_free_port()}:80", BUSYBOX,
               "sleep", "3000")


def printed(engine: Engine) -> None:
    engine.run("pull", BUSYBOX)
    engine.run("run", "--name", "bench-logs", BUSYBOX, "echo", "hello from the container")


def one_volume(engine: Engine) -> None:
    engine.run("volume", "create", "bench-vol")


def untagged_twin(engine: Engine) -> None:
    engine.run("tag", BUSYBOX, "bench:rmi")


def no_volume(engine: Engine) -> None:
    engine.run("volume", "rm", "-f", "benchvol", check=False)


def no_network(engine: Engine) -> None:
    engine.run("network", "rm", "-f", "benchnet", check=False)


@case("network-ls")
def network_ls(engine: Engine) -> list[str]:
    """network ls (the pre-defined networks)"""
    return ["network", "ls"]


@case("volume-ls", setup=one_volume)
def volume_ls(engine: Engine) -> list[str]:
    """volume ls with one volume"""
    return ["volume", "ls"]


@case("top", setup=running)
def top(engine: Engine) -> list[str]:
    """top CTR of a running container"""
    return ["top", "bench-ctr"]


@case("image-inspect", setup=bench.pull_busybox)
def image_inspect(engine: Engine) -> list[str]:
    """image inspect busybox"""
    return ["image", "inspect", BUSYBOX]


@case("history", setup=bench.pull_busybox)
def history(engine: Engine) -> list[str]:
    """history busybox"""
    return ["history", BUSYBOX]


@case("logs", setup=printed)
def logs(engine: Engine) -> list[str]:
    """logs CTR of an exited container that printed a line"""
    return ["logs", "bench-logs"]


@case("port", setup=running)
def port(engine: Engine) -> list[str]:
    """port CTR with one published port"""
    return ["port", "bench-ctr"]


@case("info")
def info(engine: Engine) -> list[str]:
    """info"""
    return ["info"]


@case("pull-present", setup=bench.pull_busybox)
def pull_present(engine: Engine) -> list[str]:
    """pull of an image already in the store"""
    return ["pull", "-q", BUSYBOX]


@case("tag", setup=bench.pull_busybox)
def tag(engine: Engine) -> list[str]:
    """tag busybox bench:tag (again each round)"""
    return ["tag", BUSYBOX, "bench:tag"]


@case("rmi", setup=bench.pull_busybox, before_each=untagged_twin)
def rmi(engine: Engine) -> list[str]:
    """rmi of an image's second name (untags)"""
    return ["rmi", "bench:rmi"]


@case("volume-create", before_each=no_volume)
def volume_create(engine: Engine) -> list[str]:
    """volume create NAME"""
    return ["volume", "create", "benchvol"]


@case("network-create", before_each=no_network)
def network_create(engine: Engine) -> list[str]:
    """network create NAME"""
    return ["network", "create", "benchnet"]


@case("help")
def help_(engine: Engine) -> list[str]:
    """--help (the top-level command list)"""
    return ["--help"]


@case("help-run")
def help_run(engine: Engine) -> list[str]:
    """run --help"""
    return ["run", "--help"]


if __name__ == "__main__":
    raise SystemExit(bench.main(sys.argv[1:]))
