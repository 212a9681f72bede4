"""A client for the OCI distribution API (Docker Registry HTTP API v2).

Knows nothing of the local store. Handles, in one place: the scheme (https; plain HTTP only
for insecure registries, which include loopback ones as in Docker), the Bearer token flow
(anonymous or with credentials, tokens reused per scope), Basic auth, redirects to blob
storage (Authorization is dropped when the redirect leaves the registry's host), retries of
blob downloads with `Range` resume, and one-line errors carrying the registry's own message.
"""

from __future__ import annotations

import contextlib
import json
import ssl
import threading
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any, BinaryIO

from pycontainer.errors import AuthError, RegistryError, RegistryNotFound
from pycontainer.oci import mediatypes as mt
from pycontainer.registry import transport as tr
from pycontainer.registry.auth import Challenge, Credentials, parse_challenge

RETRIES = 4
#: What a status means when the registry sent no error body (HEAD requests never do).
_DEFAULT_TEXT = {401: "unauthorized: authentication required",
                 403: "denied: requested access to the resource is denied",
                 404: "not found", 429: "toomanyrequests"}
HUB_API = "registry-1.docker.io"


class RegistryClient:
    def __init__(self, registry: str, insecure: bool = False,
                 credentials: Credentials | None = None,
                 transport: tr.Transport | None = None) -> None:
        self.registry = registry
        self.host = HUB_API if registry == "docker.io" else registry
        self.insecure = insecure
        self.credentials = credentials
        self.transport = transport or tr.HTTPTransport(verify_tls=not insecure)
        self._tokens: dict[tuple[str, ...], str] = {}
        self._challenge: Challenge | None = None
        self._base: str | None = None
        self._lock = threading.Lock()

    # -- plumbing ----------------------------------------------------------------------------

    def base(self) -> str:
        """https://host, or for an insecure registry whichever of https/http answers."""
        with self._lock:
            if self._base is None:
                self._base = self._probe()
            return self._base

    def _probe(self) -> str:
        if not self.insecure:
            return f"https://{self.host}"
        loopback = _is_loopback(self.host)
        order = ("http", "https") if loopback else ("https", "http")
        last: Exception | None = None
        for scheme in order:
            try:
                resp = self.transport.send(tr.Request("GET", f"{scheme}://{self.host}/v2/"))
                resp.read()
            except tr.TRANSIENT as exc:
                last = exc
                continue
            if resp.status in (200, 401) or resp.header("docker-distribution-api-version"):
                return f"{scheme}://{self.host}"
        raise RegistryError(f"cannot reach registry {self.registry}: {_why(last)}")

    def request(self, method: str, path: str, scope: tuple[str, ...] = (),
                headers: dict[str, str] | None = None,
                body: bytes | BinaryIO | None = None) -> tr.Response:
        """Send with auth and redirects; the caller checks the status (see `check`)."""
        url = path if "://" in path else self.base() + path
        authed = False
        for _ in range(8):
            hdrs = dict(headers or {})
            same_host = urllib.parse.urlsplit(url).netloc == self.host
            if same_host:
                if self._needs_token(scope):  # a known Bearer realm: skip one 401 round trip
                    assert self._challenge is not None
                    self._tokens[scope] = self._fetch_token(self._challenge, scope)
                auth = self._auth_header(scope)
                if auth:
                    hdrs["Authorization"] = auth
            try:
                resp = self.transport.send(tr.Request(method, url, hdrs, body))
            except ssl.SSLError as exc:
                raise RegistryError(
                    f"{self.registry}: TLS handshake failed ({exc.reason or exc}); a registry "
                    "without valid HTTPS needs --tls-verify=false or `insecure = true` in "
                    "registries.conf") from None
            except tr.TRANSIENT as exc:
                raise RegistryError(f"{method} {url}: {_why(exc)}") from None
            if resp.status == 401 and same_host and not authed:
                challenge = parse_challenge(resp.header("www-authenticate"))
                resp.read()
                authed = True
                if challenge and self._authenticate(challenge, scope):
                    continue
                return self._unauthorized(challenge)
            if resp.status in (301, 302, 303, 307, 308) and resp.header("location"):
                resp.read()
                url = urllib.parse.urljoin(url, resp.header("location"))
                if resp.status == 303:
                    method, body = "GET", None
                continue
            return resp
        raise RegistryError(f"too many redirects from {self.registry}")

    def _unauthorized(self, challenge: Challenge | None) -> tr.Response:
        who = "without credentials" if self.credentials is None else \
            f"as {self.credentials.username}"
        raise AuthError(f"{self.registry}: unauthorized: authentication required ({who}); "
                        f"try `pyc login {self.registry}`")

    def _needs_token(self, scope: tuple[str, ...]) -> bool:
        ch = self._challenge
        return bool(ch and ch.scheme == "bearer" and scope and scope not in self._tokens
                    and "realm" in ch.params)

    def _auth_header(self, scope: tuple[str, ...]) -> str:
        ch = self._challenge
        if ch is None:
            return ""
        if ch.scheme == "basic":
            return self.credentials.basic() if self.credentials else ""
        token = self._tokens.get(scope)
        return f"Bearer {token}" if token else ""

    def _authenticate(self, ch: Challenge, scope: tuple[str, ...]) -> bool:
        """Get what the challenge asks for; False if we have nothing to offer."""
        self._challenge = ch
        if ch.scheme == "basic":
            return self.credentials is not None
        if ch.scheme != "bearer" or "realm" not in ch.params:
            return False
        scopes = scope or tuple(s for s in [ch.params.get("scope", "")] if s)
        self._tokens[scope] = self._fetch_token(ch, scopes)
        return True

    def _fetch_token(self, ch: Challenge, scopes: tuple[str, ...]) -> str:
        query = [("service", ch.params["service"])] if ch.params.get("service") else []
        query += [("scope", s) for s in scopes]
        url = ch.params["realm"] + ("&" if "?" in ch.params["realm"] else "?") + \
            urllib.parse.urlencode(query)
        hdrs = {"Authorization": self.credentials.basic()} if self.credentials else {}
        try:
            resp = self.transport.send(tr.Request("GET", url, hdrs))
            raw = resp.read()
        except tr.TRANSIENT as exc:
            raise RegistryError(f"cannot reach token service {ch.params['realm']}: "
                                f"{_why(exc)}") from None
        if resp.status in (401, 403):
            raise AuthError(f"{self.registry}: unauthorized: incorrect username or password"
                            if self.credentials else
                            f"{self.registry}: token service refused anonymous access")
        if resp.status != 200:
            raise RegistryError(f"{self.registry}: token service answered {resp.status}: "
                                f"{_message(raw)}")
        try:
            obj = json.loads(raw)
            return str(obj.get("token") or obj["access_token"])
        except (ValueError, KeyError, AttributeError):
            raise RegistryError(f"{self.registry}: token service sent no token") from None

    def check(self, resp: tr.Response, what: str, ok: tuple[int, ...] = (200,)) -> tr.Response:
        """`resp` if its status is in `ok`, else the matching error with the registry's text."""
        if resp.status in ok:
            return resp
        raw = resp.read() if resp.status != 416 else b""
        text = _message(raw) or _DEFAULT_TEXT.get(resp.status, f"HTTP {resp.status}")
        where = f"{what}: {text}"
        if resp.status == 401:
            raise AuthError(f"{where} (try `pyc login {self.registry}`)")
        if resp.status == 403:
            raise AuthError(f"{where}: access denied")
        if resp.status == 404:
            raise RegistryNotFound(where)
        if resp.status == 429:
            raise RegistryError(f"{where}: too many requests; try again later")
        raise RegistryError(where)

    # -- reading ------------------------------------------------------------------------------

    def get_manifest(self, repo: str, ref: str) -> tuple[bytes, str, str]:
        """(raw bytes, media type header, Docker-Content-Digest header) of a manifest/index."""
        resp = self.request("GET", f"/v2/{repo}/manifests/{ref}", _pull(repo),
                            {"Accept": mt.ACCEPT})
        self.check(resp, f"manifest for {self.registry}/{repo}:{ref}" if ":" not in ref
                   else f"manifest {self.registry}/{repo}@{ref}")
        raw = resp.read()
        return raw, resp.header("content-type"), resp.header("docker-content-digest")

    def head_manifest(self, repo: str, ref: str) -> str:
        resp = self.request("HEAD", f"/v2/{repo}/manifests/{ref}", _pull(repo),
                            {"Accept": mt.ACCEPT})
        resp.read()
        self.check(resp, f"manifest {self.registry}/{repo}:{ref}")
        return resp.header("docker-content-digest")

    def open_blob(self, repo: str, digest: str, size: int = -1) -> BlobStream:
        return BlobStream(self, repo, digest, size)

    def _get_blob(self, repo: str, digest: str, offset: int) -> tr.Response:
        hdrs = {"Range": f"bytes={offset}-"} if offset else {}
        resp = self.request("GET", f"/v2/{repo}/blobs/{digest}", _pull(repo), hdrs)
        return self.check(resp, f"blob {digest} of {self.registry}/{repo}", (200, 206))

    def get_blob_bytes(self, repo: str, digest: str) -> bytes:
        stream = self.open_blob(repo, digest)
        try:
            return stream.read()
        finally:
            stream.close()

    def list_tags(self, repo: str) -> list[str]:
        tags: list[str] = []
        path: str | None = f"/v2/{repo}/tags/list?n=1000"
        while path:
            resp = self.check(self.request("GET", path, _pull(repo)),
                              f"tags of {self.registry}/{repo}")
            link = resp.header("link")
            obj = json.loads(resp.read() or b"{}")
            tags += obj.get("tags") or []
            path = link.split(";")[0].strip("<> ") if link else None
        return tags

    # -- writing (push) -----------------------------------------------------------------------

    def has_blob(self, repo: str, digest: str) -> bool:
        resp = self.request("HEAD", f"/v2/{repo}/blobs/{digest}", _push(repo))
        resp.read()
        if resp.status == 404:
            return False
        self.check(resp, f"blob {digest} in {self.registry}/{repo}")
        return True

    def mount_blob(self, repo: str, digest: str, from_repo: str) -> str | None:
        """Cross-repository mount; None if mounted, else the upload URL to use instead."""
        q = urllib.parse.urlencode({"mount": digest, "from": from_repo})
        scope = _push(repo) + (f"repository:{from_repo}:pull",)
        resp = self.request("POST", f"/v2/{repo}/blobs/uploads/?{q}", scope,
                            {"Content-Length": "0"}, b"")
        resp.read()
        if resp.status == 201:
            return None
        self.check(resp, f"upload to {self.registry}/{repo}", (202,))
        return urllib.parse.urljoin(self.base(), resp.header("location"))

    def start_upload(self, repo: str) -> str:
        resp = self.request("POST", f"/v2/{repo}/blobs/uploads/", _push(repo),
                            {"Content-Length": "0"}, b"")
        resp.read()
        self.check(resp, f"upload to {self.registry}/{repo}", (202,))
        return urllib.parse.urljoin(self.base(), resp.header("location"))

    def put_blob(self, repo: str, location: str, digest: str, size: int,
                 body: BinaryIO | bytes) -> None:
        """Monolithic upload of a whole blob to an upload URL from `start_upload`."""
        sep = "&" if "?" in location else "?"
        url = f"{location}{sep}digest={urllib.parse.quote(digest)}"
        resp = self.request("PUT", url, _push(repo), {
            "Content-Type": "application/octet-stream", "Content-Length": str(size)}, body)
        resp.read()
        self.check(resp, f"upload of {digest} to {self.registry}/{repo}", (201, 204))

    def put_manifest(self, repo: str, ref: str, raw: bytes, media_type: str) -> str:
        resp = self.request("PUT", f"/v2/{repo}/manifests/{ref}", _push(repo),
                            {"Content-Type": media_type, "Content-Length": str(len(raw))}, raw)
        resp.read()
        self.check(resp, f"manifest {self.registry}/{repo}:{ref}", (200, 201, 202))
        return resp.header("docker-content-digest")


class BlobStream:
    """A blob download that survives dropped connections by resuming with `Range`."""

    def __init__(self, client: RegistryClient, repo: str, digest: str, size: int) -> None:
        self._client = client
        self._repo = repo
        self._digest = digest
        self.size = size
        self.pos = 0
        self._resp: tr.Response | None = None

    def _open(self) -> tr.Response:
        resp = self._client._get_blob(self._repo, self._digest, self.pos)
        if self.pos and resp.status == 200:  # server ignored Range: skip what we have
            skip = self.pos
            while skip:
                chunk = resp.body.read(min(skip, 1 << 20))
                if not chunk:
                    break
                skip -= len(chunk)
        if self.size < 0 and resp.header("content-length").isdigit() and not self.pos:
            self.size = int(resp.header("content-length"))
        return resp

    def read(self, n: int = -1) -> bytes:
        if n < 0:
            return b"".join(iter(lambda: self.read(1 << 20), b""))
        for attempt in range(RETRIES + 1):
            try:
                if self._resp is None:
                    self._resp = self._open()
                data = self._resp.body.read(n)
                if not data and self.size >= 0 and self.pos < self.size:
                    raise ConnectionError("connection closed early")
                self.pos += len(data)
                return bytes(data)
            except tr.TRANSIENT as exc:
                if isinstance(exc, RegistryError) or attempt == RETRIES:
                    raise RegistryError(f"downloading {self._digest}: {_why(exc)}") from None
                self.close()
                time.sleep(0.2 * 2 ** attempt)
        return b""

    def close(self) -> None:
        if self._resp is not None:
            with contextlib.suppress(*tr.TRANSIENT):
                self._resp.close()
            self._resp = None

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.read(1 << 20):
            yield chunk


def _pull(repo: str) -> tuple[str, ...]:
    return (f"repository:{repo}:pull",)


def _push(repo: str) -> tuple[str, ...]:
    return (f"repository:{repo}:pull,push",)


def _message(raw: bytes) -> str:
    """The registry's `{"errors": [{"code", "message", "detail"}]}` as one line."""
    try:
        obj: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        text = raw.decode("utf-8", "replace").strip().splitlines()
        return text[0][:200] if text else ""
    errs = obj.get("errors") if isinstance(obj, dict) else None
    if isinstance(errs, list) and errs:
        return "; ".join(f"{str(e.get('code', '')).lower()}: {e.get('message', '')}".strip(": ")
                         for e in errs if isinstance(e, dict))
    if isinstance(obj, dict) and obj.get("details"):
        return str(obj["details"])
    return ""


def _why(exc: BaseException | None) -> str:
    if exc is None:
        return "no answer"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def _is_loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.strip("[]")
    return name == "localhost" or name.startswith("127.") or name == "::1"
