"""Flag parsing of `pyc volume ...` and `pyc network ...`: what reaches the ops layer (the ops
functions are replaced by recorders), and which flags are refused with exit 125."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from pycontainer.cli import app as app_module
from pycontainer.cli.app import main
from pycontainer.cli.networks import go_time
from pycontainer.cli.volumes import parse_key_values
from pycontainer.errors import UsageError
from pycontainer.formats.units import human_size
from pycontainer.ops import networks as ops_networks
from pycontainer.ops import volumes as ops_volumes

NET_ID = "ab" * 32
_registered: list[bool] = []


class Calls:
    def __init__(self) -> None:
        self.seen: list[tuple[str, tuple[Any, ...]]] = []

    def record(self, name: str, result: Any = None) -> Any:
        def fake(*args: Any) -> Any:
            self.seen.append((name, args[1:]))  # drop the Paths
            return result
        return fake


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Calls:
    if not _registered:
        app_module._register([])  # once: main() registers the command tree on every call
        _registered.append(True)
    monkeypatch.setattr(app_module, "_register", lambda args: None)
    monkeypatch.setenv("PYC_ROOT", str(tmp_path / "root"))
    monkeypatch.setenv("PYC_RUNROOT", str(tmp_path / "run"))
    c = Calls()
    net = {"Id": NET_ID}
    for name, result in (("create", SimpleNamespace(name="v")), ("list_volumes", []),
                         ("remove", True), ("exists", True), ("inspect", {"Name": "v"}),
                         ("prune", SimpleNamespace(removed=[], reclaimed=0))):
        monkeypatch.setattr(ops_volumes, name, c.record(f"volume {name}", result))
    for name, result in (("create", net), ("list_networks", []), ("remove", True),
                         ("exists", False), ("inspect", net), ("prune", [])):
        monkeypatch.setattr(ops_networks, name, c.record(f"network {name}", result))
    return c


def run(*argv: str) -> int:
    return main(list(argv))


# --- volume --------------------------------------------------------------------------------


def test_volume_create_flags(calls: Calls, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("volume", "create", "--label", "a=b", "--label", "c", "-o", "type=tmpfs",
               "--opt", "o=size=64m", "-d", "local", "data") == 0
    assert calls.seen == [("volume create", ("data", {"a": "b", "c": ""},
                                             {"type": "tmpfs", "o": "size=64m"}, "local"))]
    assert capsys.readouterr().out == "v\n"


def test_volume_create_name_forms(calls: Calls) -> None:
    assert run("volume", "create") == 0
    assert run("volume", "create", "--name", "n") == 0
    assert [args[0] for _, args in calls.seen] == [None, "n"]
    assert run("volume", "create", "--name", "n", "m") == 125
    assert run("volume", "create", "a", "b") == 125


def test_volume_ls_flags(calls: Calls, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("volume", "ls", "-q", "-f", "dangling=true", "--filter", "label=x") == 0
    assert run("volume", "list", "--format", "json") == 0
    assert calls.seen == [("volume list_volumes", (["dangling=true", "label=x"],)),
                          ("volume list_volumes", ([],))]
    assert capsys.readouterr().out == ""


def test_volume_rm_inspect_prune_exists_flags(calls: Calls) -> None:
    assert run("volume", "rm", "-f", "a", "b") == 0
    assert run("volume", "remove", "c") == 0
    assert run("volume", "inspect", "-f", "{{.Name}}", "v") == 0
    assert run("volume", "prune", "-a", "-f", "--filter", "label=x") == 0
    assert run("volume", "exists", "v") == 0
    assert calls.seen == [
        ("volume remove", ("a", True)), ("volume remove", ("b", True)),
        ("volume remove", ("c", False)), ("volume inspect", ("v",)),
        ("volume prune", (True, ["label=x"])), ("volume exists", ("v",)),
    ]


@pytest.mark.parametrize("argv", [
    ["volume", "create", "--group", "g"],
    ["volume", "ls", "--cluster"],
    ["volume", "rm"],
    ["volume", "inspect"],
    ["volume", "prune", "extra"],
    ["volume", "create", "--label", "=v"],
])
def test_volume_bad_flags_are_125(calls: Calls, argv: list[str],
                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert run(*argv) == 125
    assert capsys.readouterr().err.startswith("Error: ")
    assert calls.seen == []


# --- network -------------------------------------------------------------------------------


def test_network_create_flags(calls: Calls, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("network", "create", "--subnet", "10.1.0.0/24", "--gateway", "10.1.0.9",
               "--internal", "--label", "k=v", "-d", "bridge", "net") == 0
    assert run("network", "create", "plain") == 0
    assert calls.seen == [
        ("network create", ("net", "10.1.0.0/24", "10.1.0.9", True, {"k": "v"}, "bridge")),
        ("network create", ("plain", None, None, False, {}, "bridge")),
    ]
    assert capsys.readouterr().out == f"{NET_ID}\n{NET_ID}\n"


@pytest.mark.parametrize(("argv", "named"), [
    (["--ipv6"], "--ipv6"), (["--opt", "a=b"], "--opt"), (["-o", "a=b"], "--opt"),
    (["--ip-range", "10.0.0.0/25"], "--ip-range"), (["--aux-address", "a=10.0.0.2"],
                                                     "--aux-address"),
    (["--ipam-driver", "dhcp"], "--ipam-driver"), (["--ipam-opt", "a=b"], "--ipam-opt"),
    (["--attachable"], "--attachable"), (["--ingress"], "--ingress"),
    (["--scope", "swarm"], "--scope"), (["--config-only"], "--config-only"),
    (["--config-from", "x"], "--config-from"), (["--ipv4"], "--ipv4"),
    (["--subnet", "10.1.0.0/24", "--subnet", "10.2.0.0/24"], "--subnet"),
    (["--gateway", "10.1.0.1"], "gateway"),
])
def test_network_create_unsupported_flags_are_125(calls: Calls, argv: list[str], named: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert run("network", "create", *argv, "n") == 125
    assert named in capsys.readouterr().err
    assert calls.seen == []


def test_network_create_accepts_the_default_values(calls: Calls) -> None:
    assert run("network", "create", "--ipam-driver", "default", "--scope", "local", "n") == 0
    assert len(calls.seen) == 1


def test_network_other_flags(calls: Calls, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("network", "ls", "-q", "--no-trunc", "-f", "name=x", "--filter", "type=custom",
               "--format", "{{.ID}}") == 0
    assert run("network", "list") == 0
    assert run("network", "inspect", "-f", "{{.Id}}", "a") == 0
    assert run("network", "rm", "-f", "a", "b") == 0
    assert run("network", "remove", "c") == 0
    assert run("network", "prune", "-f", "--filter", "until=1h") == 0
    assert run("network", "exists", "e") == 1
    assert calls.seen == [
        ("network list_networks", (["name=x", "type=custom"],)),
        ("network list_networks", ([],)),
        ("network inspect", ("a",)),
        ("network remove", ("a", True)), ("network remove", ("b", True)),
        ("network remove", ("c", False)),
        ("network prune", (["until=1h"],)), ("network exists", ("e",)),
    ]
    assert run("network", "inspect", "-v", "a") == 125
    assert run("network", "connect", "a", "b") == 125  # not registered until `run` wires it
    assert run("network", "create") == 125
    assert run("network", "create", "a", "b") == 125


# --- helpers -------------------------------------------------------------------------------


def test_parse_key_values() -> None:
    assert parse_key_values(["a=b", "c", "d=e=f"], "label") == {"a": "b", "c": "", "d": "e=f"}
    with pytest.raises(UsageError):
        parse_key_values(["=x"], "label")


def test_human_size_is_go_units_human_size() -> None:
    assert human_size(0) == "0B"
    assert human_size(999) == "999B"
    assert human_size(8192) == "8.192kB"
    assert human_size(12_345_678) == "12.35MB"
    assert human_size(1_000_000_000) == "1GB"


def test_go_time() -> None:
    assert go_time("2026-11-27T18:25:06.282217Z") == "2026-11-27 18:25:06.282217 +0000 UTC"
    assert go_time("2026-11-27T18:25:06.500000Z") == "2026-11-27 18:25:06.5 +0000 UTC"
    assert go_time("2026-11-27T19:25:06+01:00") == "2026-11-27 18:25:06 +0000 UTC"
    assert go_time("0001-01-01T00:00:00Z") == "0001-01-01 00:00:00 +0000 UTC"
