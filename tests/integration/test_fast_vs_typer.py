"""The commands scripts run in loops print the same output, errors and exit status on the
fast path (`cli/fast.py`, the usual way) as through typer (`cli.app.main`), on one store."""

from __future__ import annotations

import re
import socket
import sys
from collections.abc import Iterator

import pytest
from helpers.runner import Pyc, Result

#: pyc through typer only: cli.app.main with an argv never tries the fast path
TYPER_ONLY = "import sys; from pycontainer.cli.app import main; sys.exit(main(sys.argv[1:]))"
_HEX64 = re.compile(r"\b[0-9a-f]{64}\b")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def both(pyc: Pyc, fixture_refs: dict[str, str]) -> Iterator[tuple[Pyc, Pyc]]:
    image = fixture_refs["busybox"]
    pyc.ok("pull", "-q", image)
    pyc.ok("volume", "create", "--label", "a=b", "vol1")
    pyc.ok("network", "create", "--label", "team=x", "net1")
    pyc.ok("run", "--name", "said", image, "sh", "-c", "echo out; echo err >&2")
    pyc.ok("run", "-d", "--name", "web", "-p", f"{_free_port()}:80", image, "sleep", "300")
    typed = Pyc(pyc.root, pyc.runroot, exe=[sys.executable, "-c", TYPER_ONLY], env=pyc.env)
    yield pyc, typed
    pyc("rm", "-f", "web")


def _same(fast: Result, typed: Result) -> None:
    assert (fast.rc, fast.out, fast.err) == (typed.rc, typed.out, typed.err)


READ_ONLY = [
    ["network", "ls"], ["network", "ls", "-q", "--no-trunc"],
    ["network", "ls", "--filter", "label=team=x", "--format", "{{.Name}} {{.Labels}}"],
    ["network", "list", "--format", "json"],
    ["volume", "ls"], ["volume", "ls", "-q"], ["volume", "ls", "-f", "label=a", "--format",
                                                "{{.Name}}:{{.Driver}}"],
    ["image", "inspect", "BUSYBOX"], ["image", "inspect", "-f", "{{.Id}} {{.Os}}", "BUSYBOX"],
    ["history", "BUSYBOX"], ["history", "--no-trunc", "-q", "BUSYBOX"],
    ["history", "-H", "--format", "{{.ID}} {{.Size}}", "BUSYBOX"],
    ["image", "history", "BUSYBOX"],
    ["logs", "said"], ["logs", "--tail", "1", "said"], ["container", "logs", "-n", "all", "said"],
    ["port", "web"], ["port", "web", "80/tcp"], ["container", "port", "web", "80"],
    ["version", "--format", "{{.Client.Version}} {{.Server.APIVersion}}"],
    ["info", "--format", "{{.Host.Rootless}}"], ["system", "info", "-f", "{{.ServerVersion}}"],
    ["top", "web", "axo", "pid,comm"], ["container", "top", "web", "xo", "pid,args"],
]
ERRORS = [
    ["image", "inspect", "nosuch", "BUSYBOX"], ["history", "nosuch"], ["logs", "nosuch"],
    ["logs", "--tail", "x", "said"], ["port", "nosuch"], ["port", "web", "9999"],
    ["top", "said"], ["top", "nosuch"], ["tag", "nosuch", "x:1"], ["rmi", "nosuch"],
    ["rmi", "-f", "nosuch"], ["rmi", "-i", "nosuch"], ["rmi"], ["rmi", "-a", "x"],
    ["pull", "--disable-content-trust=false", "BUSYBOX"], ["pull", "--tls-verify=maybe", "x"],
    ["pull", "Bad:Ref"],
    ["network", "create", "--ipv6", "n2"], ["network", "create", "--gateway", "10.1.0.1", "n2"],
    ["network", "create", "net1"], ["network", "ls", "--filter", "bogus=1"],
    ["volume", "create", "--name", "a", "b"], ["volume", "create", "--label", "=x", "v2"],
    ["volume", "ls", "--filter", "bogus=1"],
]


def _args(argv: list[str], image: str) -> list[str]:
    return [image if a == "BUSYBOX" else a for a in argv]


@pytest.mark.parametrize("argv", READ_ONLY + ERRORS, ids=" ".join)
def test_fast_and_typer_agree(both: tuple[Pyc, Pyc], fixture_refs: dict[str, str],
                              argv: list[str]) -> None:
    fast, typed = both
    args = _args(argv, fixture_refs["busybox"])
    _same(fast(*args), typed(*args))


def test_the_changing_commands_agree(both: tuple[Pyc, Pyc],
                                     fixture_refs: dict[str, str]) -> None:
    fast, typed = both
    image = fixture_refs["busybox"]
    for runner in (fast, typed):
        runner.ok("tag", image, "mine:1", "mine:2")
    shown = [r.ok("images", "--format", "{{.Repository}}:{{.Tag}}").out for r in both]
    assert shown[0] == shown[1] and "mine:1\n" in shown[0] and "mine:2\n" in shown[0]
    untag = [r.ok("rmi", name) for r, name in ((fast, "mine:1"), (typed, "mine:2"))]
    assert [u.out.replace("mine:1", "N") for u in untag[:1]] == \
        [u.out.replace("mine:2", "N") for u in untag[1:]]
    made = [r.ok("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", name).out
            for r, name in ((fast, "t1"), (typed, "t2"))]
    assert made == ["t1\n", "t2\n"]
    nets = [r.ok("network", "create", "--subnet", sub, name).out
            for r, name, sub in ((fast, "n1", "10.77.1.0/24"), (typed, "n2", "10.77.2.0/24"))]
    assert all(_HEX64.fullmatch(n.strip()) for n in nets)
    subnets = fast.ok("network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}}{{end}}",
                      "n1", "n2").lines
    assert subnets == ["10.77.1.0/24", "10.77.2.0/24"]
    pulled = [r.ok("pull", image).out for r in both]
    assert pulled[0] == pulled[1]
