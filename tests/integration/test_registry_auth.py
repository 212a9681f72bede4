"""Private registries started by the test: token auth (as Docker Hub), htpasswd Basic auth,
and one whose storage the test corrupts."""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers import registry as reg
from helpers.runner import Pyc

from pycontainer.images.store import ImageStore
from pycontainer.paths import Paths

USER, PASSWORD = "alice", "s3cret-pw"
SERVICE, ISSUER = "pyc-test", "pyc-test-issuer"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateRegistry:
    """A docker-registry on a free loopback port with its own storage and auth config."""

    def __init__(self, base: Path, auth_yaml: str = "") -> None:
        self.port = free_port()
        self.addr = f"127.0.0.1:{self.port}"
        self.storage = base / "storage"
        self.storage.mkdir(parents=True)
        config = base / "config.yml"
        config.write_text(reg.CONFIG.format(storage=self.storage, addr=self.addr) + auth_yaml)
        self.log = open(base / "log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(["docker-registry", "serve", str(config)],
                                     stdout=self.log, stderr=self.log,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"docker-registry did not start: {(base / 'log').read_text()}")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()

    def blob_data(self, digest: str) -> Path:
        hexd = digest.split(":", 1)[1]
        return (self.storage / "docker/registry/v2/blobs/sha256" / hexd[:2] / hexd / "data")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenService:
    """A Docker-Hub-like token service: anonymous callers get tokens that grant nothing,
    alice/s3cret-pw gets what she asks for; a wrong password is 401."""

    def __init__(self, base: Path) -> None:
        self.key, self.cert = base / "key.pem", base / "cert.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                        "2", "-subj", "/CN=pyc-token", "-keyout", str(self.key), "-out",
                        str(self.cert)], check=True, capture_output=True)
        der = subprocess.run(["openssl", "x509", "-in", str(self.cert), "-outform", "DER"],
                             check=True, capture_output=True).stdout
        self.x5c = base64.b64encode(der).decode()
        self.port = free_port()
        self.requests: list[str] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                service.requests.append(self.path)
                status, body = service.answer(self.path, self.headers.get("Authorization"))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def answer(self, path: str, authorization: str | None) -> tuple[int, bytes]:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
        user = ""
        if authorization:
            raw = base64.b64decode(authorization.split(" ", 1)[1]).decode()
            if raw != f"{USER}:{PASSWORD}":
                return 401, b'{"details":"incorrect username or password"}'
            user = USER
        access = []
        for scope in query.get("scope", []):
            kind, name, actions = scope.split(":")
            if user:
                access.append({"type": kind, "name": name, "actions": actions.split(",")})
        return 200, json.dumps({"token": self.token(user, access)}).encode()

    def token(self, user: str, access: list[dict[str, object]]) -> str:
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        claims = {"iss": ISSUER, "sub": user, "aud": SERVICE, "exp": now + 600,
                  "nbf": now - 60, "iat": now - 60, "jti": secrets.token_hex(8),
                  "access": access}
        signing = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(self.key)],
                             input=signing.encode(), check=True, capture_output=True).stdout
        return f"{signing}.{_b64url(sig)}"

    def stop(self) -> None:
        self.server.shutdown()


@pytest.fixture
def token_registry(tmp_path: Path) -> Iterator[PrivateRegistry]:
    if not shutil.which("openssl"):
        pytest.fail("openssl is needed to sign test tokens")
    (tmp_path / "tokens").mkdir()
    tokens = TokenService(tmp_path / "tokens")
    auth = (f"auth:\n  token:\n    realm: {tokens.realm}\n    service: {SERVICE}\n"
            f"    issuer: {ISSUER}\n    rootcertbundle: {tokens.cert}\n")
    r = PrivateRegistry(tmp_path / "registry", auth)
    yield r
    r.stop()
    tokens.stop()


@pytest.fixture
def basic_registry(tmp_path: Path) -> Iterator[PrivateRegistry]:
    htpasswd = tmp_path / "htpasswd"
    out = subprocess.run(["htpasswd", "-Bbn", USER, PASSWORD], check=True,
                         capture_output=True, text=True).stdout
    htpasswd.write_text(out)
    auth = f"auth:\n  htpasswd:\n    realm: pyc-basic\n    path: {htpasswd}\n"
    r = PrivateRegistry(tmp_path / "registry", auth)
    yield r
    r.stop()


@pytest.fixture
def open_registry(tmp_path: Path) -> Iterator[PrivateRegistry]:
    r = PrivateRegistry(tmp_path / "registry")
    yield r
    r.stop()


def _authfile(tmp_path: Path) -> dict[str, str]:
    return {"REGISTRY_AUTH_FILE": str(tmp_path / "auth.json")}


def _auth_round_trip(pyc: Pyc, r: PrivateRegistry, source: str, tmp_path: Path) -> None:
    env = _authfile(tmp_path)
    target = f"{r.addr}/private/busybox:v1"
    pyc.ok("pull", "-q", source)
    pyc.ok("tag", source, target)
    res = pyc.fail("push", target, env=env)
    assert "unauthorized" in res.err and "pyc login" in res.err
    assert len(res.err.strip().splitlines()) == 1

    res = pyc.fail("login", "-u", USER, "--password-stdin", r.addr, input="wrong\n", env=env)
    assert "incorrect username or password" in res.err
    assert not (tmp_path / "auth.json").exists()

    res = pyc.ok("login", "-u", USER, "--password-stdin", r.addr, input=PASSWORD + "\n",
                 env=env)
    assert "Login Succeeded" in res.out
    assert oct((tmp_path / "auth.json").stat().st_mode & 0o777) == "0o600"
    pyc.ok("push", target, env=env)

    pyc.ok("rmi", target)
    res = pyc.fail("pull", target, env={"REGISTRY_AUTH_FILE": str(tmp_path / "none.json")})
    assert "unauthorized" in res.err or "denied" in res.err
    pyc.ok("pull", target, env=env)
    pyc.ok("logout", r.addr, env=env)
    pyc.ok("rmi", target)
    res = pyc.fail("pull", target, env=env)
    assert "unauthorized" in res.err or "denied" in res.err


def test_token_auth_registry(pyc: Pyc, token_registry: PrivateRegistry,
                             fixture_refs: dict[str, str], tmp_path: Path) -> None:
    _auth_round_trip(pyc, token_registry, fixture_refs["busybox"], tmp_path)


def test_htpasswd_basic_auth_registry(pyc: Pyc, basic_registry: PrivateRegistry,
                                      fixture_refs: dict[str, str], tmp_path: Path) -> None:
    _auth_round_trip(pyc, basic_registry, fixture_refs["busybox"], tmp_path)


def test_corrupt_blob_fails_naming_the_digest_and_leaves_nothing(
        pyc: Pyc, open_registry: PrivateRegistry, fixture_refs: dict[str, str],
        tmp_path: Path) -> None:
    target = f"{open_registry.addr}/corrupt/busybox:v1"
    source = Pyc.create(tmp_path / "source")
    try:
        source.ok("pull", "-q", fixture_refs["busybox"])
        source.ok("push", fixture_refs["busybox"], target)
    finally:
        source.cleanup()
    found = reg.manifest(open_registry.addr, "corrupt/busybox", "v1")
    assert found is not None
    layer = json.loads(found[1])["layers"][-1]["digest"]
    data = open_registry.blob_data(layer)
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # same size, different content
    data.write_bytes(bytes(raw))

    res = pyc.fail("pull", target)
    assert layer in res.err
    store = ImageStore(Paths(pyc.root, pyc.runroot, pyc.root / "cfg"))
    assert store.all() == []
    assert store.blobs.all() == []
    assert store.layers.all() == []
    leftovers = [n for n in os.listdir(store.layers.root) if n.startswith(".tmp-")]
    assert leftovers == []
