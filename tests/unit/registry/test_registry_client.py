"""The registry client's logic against a fake transport (a function of the request)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from collections.abc import Callable

import pytest

from pycontainer.errors import AuthError, RegistryError, RegistryNotFound
from pycontainer.registry import auth
from pycontainer.registry.client import RegistryClient
from pycontainer.registry.transport import Request, Response

BLOB = b"0123456789" * 1000
DIGEST = "sha256:" + hashlib.sha256(BLOB).hexdigest()


class Fake:
    def __init__(self, handler: Callable[[Request], Response]) -> None:
        self.handler = handler
        self.requests: list[Request] = []

    def send(self, request: Request) -> Response:
        self.requests.append(request)
        return self.handler(request)


def resp(status: int, body: bytes = b"", **headers: str) -> Response:
    hdrs = {k.replace("_", "-").lower(): v for k, v in headers.items()}
    return Response(status, hdrs, io.BytesIO(body))


def _errors(code: str, message: str) -> bytes:
    return json.dumps({"errors": [{"code": code, "message": message}]}).encode()


BEARER = 'Bearer realm="https://auth.example/token",service="reg.example"'


def token_registry(require: tuple[str, str] | None = None) -> Callable[[Request], Response]:
    def handler(r: Request) -> Response:
        if r.url.startswith("https://auth.example/token"):
            if require:
                want = "Basic " + base64.b64encode(":".join(require).encode()).decode()
                if r.headers.get("Authorization") != want:
                    return resp(401, b"{}")
            assert "scope=repository%3Alib%2Fapp%3Apull" in r.url
            return resp(200, json.dumps({"token": "T1"}).encode())
        if r.headers.get("Authorization") != "Bearer T1":
            return resp(401, _errors("UNAUTHORIZED", "authentication required"),
                        www_authenticate=BEARER)
        return resp(200, b'{"schemaVersion":2}', content_type="application/json",
                    docker_content_digest="sha256:" + "0" * 64)
    return handler


def test_anonymous_bearer_token_flow_and_reuse() -> None:
    fake = Fake(token_registry())
    c = RegistryClient("reg.example", transport=fake)
    c.get_manifest("lib/app", "latest")
    c.get_manifest("lib/app", "v2")
    token_calls = [r for r in fake.requests if "auth.example" in r.url]
    assert len(token_calls) == 1  # reused for the second request
    assert "Authorization" not in token_calls[0].headers


def test_bearer_with_credentials_uses_basic_on_the_token_service() -> None:
    fake = Fake(token_registry(require=("u", "p")))
    c = RegistryClient("reg.example", credentials=auth.Credentials("u", "p"), transport=fake)
    raw, _, _ = c.get_manifest("lib/app", "latest")
    assert raw == b'{"schemaVersion":2}'


def test_wrong_password_is_a_clean_auth_error() -> None:
    fake = Fake(token_registry(require=("u", "p")))
    c = RegistryClient("reg.example", credentials=auth.Credentials("u", "bad"), transport=fake)
    with pytest.raises(AuthError, match="incorrect username or password"):
        c.get_manifest("lib/app", "latest")


def test_basic_auth_challenge() -> None:
    creds = auth.Credentials("u", "p")

    def handler(r: Request) -> Response:
        if r.headers.get("Authorization") != creds.basic():
            return resp(401, b"", www_authenticate='Basic realm="x"')
        return resp(200, b"{}")
    fake = Fake(handler)
    RegistryClient("h", credentials=creds, transport=fake).get_manifest("a", "b")
    with pytest.raises(AuthError, match="pyc login h"):
        RegistryClient("h", transport=Fake(handler)).get_manifest("a", "b")


def test_redirect_to_another_host_drops_authorization() -> None:
    def handler(r: Request) -> Response:
        if r.url.startswith("https://storage.example/"):
            return resp(200, BLOB, content_length=str(len(BLOB)))
        return resp(307, b"", location="https://storage.example/blob?sig=1")
    fake = Fake(handler)
    c = RegistryClient("reg.example", credentials=auth.Credentials("u", "p"), transport=fake)
    c._challenge = auth.Challenge("basic", {})
    assert c.get_blob_bytes("a", DIGEST) == BLOB
    assert fake.requests[0].headers.get("Authorization")
    assert "Authorization" not in fake.requests[1].headers


class Flaky(io.BytesIO):
    """Drops the connection after `limit` bytes."""

    def __init__(self, data: bytes, limit: int) -> None:
        super().__init__(data)
        self.limit = limit

    def read(self, n: int | None = -1) -> bytes:
        if self.tell() >= self.limit:
            raise ConnectionResetError("reset")
        n = self.limit - self.tell() if n is None or n < 0 else min(n, self.limit - self.tell())
        return super().read(n)


def test_blob_download_resumes_with_range() -> None:
    def handler(r: Request) -> Response:
        rng = r.headers.get("Range")
        if rng:
            start = int(rng.split("=")[1].rstrip("-"))
            return resp(206, BLOB[start:])
        return Response(200, {"content-length": str(len(BLOB))}, Flaky(BLOB, 3000))
    fake = Fake(handler)
    c = RegistryClient("r", transport=fake)
    assert c.get_blob_bytes("a", DIGEST) == BLOB
    assert fake.requests[-1].headers["Range"] == "bytes=3000-"


@pytest.mark.parametrize(("status", "code", "exc", "text"), [
    (404, "MANIFEST_UNKNOWN", RegistryNotFound, "manifest_unknown: manifest unknown"),
    (403, "DENIED", AuthError, "denied: requested access to the resource is denied"),
    (429, "TOOMANYREQUESTS", RegistryError, "too many requests"),
    (500, "UNKNOWN", RegistryError, "unknown: boom"),
])
def test_errors_carry_the_registrys_message(status: int, code: str,
                                            exc: type[Exception], text: str) -> None:
    message = {"MANIFEST_UNKNOWN": "manifest unknown", "DENIED":
               "requested access to the resource is denied", "TOOMANYREQUESTS": "slow down",
               "UNKNOWN": "boom"}[code]
    fake = Fake(lambda r: resp(status, _errors(code, message)))
    with pytest.raises(exc, match=text):
        RegistryClient("r", transport=fake).get_manifest("a", "b")


def test_insecure_loopback_registry_uses_plain_http_first() -> None:
    fake = Fake(lambda r: resp(200, b"{}"))
    c = RegistryClient("127.0.0.1:5000", insecure=True, transport=fake)
    c.get_manifest("a", "b")
    assert fake.requests[0].url == "http://127.0.0.1:5000/v2/"


def test_secure_registry_never_uses_http() -> None:
    fake = Fake(lambda r: resp(200, b"{}"))
    RegistryClient("quay.io", transport=fake).get_manifest("a", "b")
    assert all(r.url.startswith("https://") for r in fake.requests)


def test_docker_hub_uses_its_api_host() -> None:
    fake = Fake(lambda r: resp(200, b"{}"))
    RegistryClient("docker.io", transport=fake).get_manifest("library/a", "b")
    assert fake.requests[0].url.startswith("https://registry-1.docker.io/v2/library/a/")


def test_challenge_parsing() -> None:
    ch = auth.parse_challenge('Bearer realm="https://a/token",service="s",'
                              'scope="repository:x/y:pull,push"')
    assert ch is not None and ch.scheme == "bearer"
    assert ch.params == {"realm": "https://a/token", "service": "s",
                         "scope": "repository:x/y:pull,push"}
