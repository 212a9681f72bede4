from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from pycontainer import config
from pycontainer.errors import UsageError
from pycontainer.registry import auth


def test_auth_file_round_trip_mode_0600(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    f = tmp_path / "run" / "containers" / "auth.json"
    auth.store("127.0.0.1:5001", auth.Credentials("u", "p:w"), f)
    assert stat.S_IMODE(os.stat(f).st_mode) == 0o600
    assert auth.lookup("127.0.0.1:5001", f) == auth.Credentials("u", "p:w")
    assert auth.remove("127.0.0.1:5001", f)
    assert auth.lookup("127.0.0.1:5001", f) is None


def test_docker_config_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    (home / ".docker").mkdir(parents=True)
    (home / ".docker" / "config.json").write_text(json.dumps(
        {"auths": {"https://index.docker.io/v1/": {"auth": "dTpw"}}}))  # u:p
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("DOCKER_CONFIG", raising=False)
    assert auth.lookup("docker.io", tmp_path / "none.json") == auth.Credentials("u", "p")


def test_auth_file_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert auth.default_auth_file() == tmp_path / "containers" / "auth.json"
    monkeypatch.setenv("REGISTRY_AUTH_FILE", "/x/auth.json")
    assert auth.default_auth_file() == Path("/x/auth.json")


CONF = """
unqualified-search-registries = ["quay.io", "docker.io"]

[[registry]]
location = "reg.example:5000"
insecure = true

[[registry]]
prefix = "docker.io/library"
location = "docker.io/library"
[[registry.mirror]]
location = "mirror.example/hub"
"""


def test_registries_conf() -> None:
    c = config.parse(CONF)
    assert c.search == ["quay.io", "docker.io"]
    assert c.is_insecure("reg.example:5000")
    assert not c.is_insecure("quay.io")
    eps = c.endpoints("docker.io", "library/busybox")
    assert [(e.registry, e.repository, e.mirror) for e in eps] == [
        ("mirror.example", "hub/busybox", True), ("docker.io", "library/busybox", False)]


@pytest.mark.parametrize("host", ["127.0.0.1:5000", "localhost:5000", "127.1.2.3", "[::1]:5000",
                                  "localhost"])
def test_loopback_registries_are_insecure_by_default(host: str) -> None:
    assert config.RegistriesConfig().is_insecure(host)


def test_bad_conf_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        config.parse("unqualified-search-registries = 3")
