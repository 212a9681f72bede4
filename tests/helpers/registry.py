"""Control of the local test registry (the Go distribution registry on 127.0.0.1:5000).

Stdlib only: the harness runs this as root with Debian's python3 before the venv exists, and
integration tests import it to ask the registry things directly (tags, manifests, blobs),
without going through pyc.

    python3 tests/helpers/registry.py start --addr 127.0.0.1:5000 --state /var/lib/pyc-test
    python3 tests/helpers/registry.py publish OCI_LAYOUT_DIR 127.0.0.1:5000/fixtures/x:tag
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ACCEPT = ", ".join([
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])

CONFIG = """\
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: {addr}
  headers:
    X-Content-Type-Options: [nosniff]
"""


def _request(url: str, method: str = "GET", headers: dict[str, str] | None = None,
             timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers.items()), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items()), exc.read()


def is_up(registry: str, timeout: float = 2) -> bool:
    try:
        status, _, _ = _request(f"http://{registry}/v2/", timeout=timeout)
    except OSError:
        return False
    return status == 200


def wait_up(registry: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if is_up(registry):
            return
        time.sleep(0.2)
    raise RuntimeError(f"registry {registry} did not answer /v2/ within {seconds}s")


def manifest(registry: str, repo: str, ref: str) -> tuple[str, bytes] | None:
    """(digest, raw bytes) of `repo:ref` (a tag or digest), or None when it is unknown."""
    status, headers, body = _request(f"http://{registry}/v2/{repo}/manifests/{ref}",
                                     headers={"Accept": ACCEPT})
    if status == 404:
        return None
    if status != 200:
        raise RuntimeError(f"registry answered {status} for {repo}:{ref}: {body[:200]!r}")
    lower = {k.lower(): v for k, v in headers.items()}
    return lower.get("docker-content-digest", ""), body


def tags(registry: str, repo: str) -> list[str]:
    status, _, body = _request(f"http://{registry}/v2/{repo}/tags/list")
    if status == 404:
        return []
    return list(json.loads(body).get("tags") or [])


def catalog(registry: str) -> list[str]:
    _, _, body = _request(f"http://{registry}/v2/_catalog?n=10000")
    return list(json.loads(body).get("repositories") or [])


def delete_manifest(registry: str, repo: str, ref: str) -> bool:
    """Delete a tag's manifest (by digest, as the registry API requires); False when absent."""
    found = manifest(registry, repo, ref)
    if found is None:
        return False
    status, _, body = _request(f"http://{registry}/v2/{repo}/manifests/{found[0]}",
                               method="DELETE")
    if status not in (202, 404):
        raise RuntimeError(f"DELETE {repo}@{found[0]} -> {status}: {body[:200]!r}")
    return status == 202


def split_ref(ref: str) -> tuple[str, str, str]:
    """'host:port/repo/name:tag' -> (host:port, repo/name, tag)."""
    host, _, rest = ref.partition("/")
    repo, _, tag = rest.rpartition(":")
    if not repo or "/" in tag:
        repo, tag = rest, "latest"
    return host, repo, tag


def layout_digest(layout: Path) -> str:
    index = json.loads((layout / "index.json").read_text())
    return str(index["manifests"][0]["digest"])


def publish(layout: Path, ref: str) -> bool:
    """Push an OCI layout to `ref` with skopeo unless the registry already has that digest.

    Returns True when it pushed. `--preserve-digests` makes skopeo fail rather than convert,
    so the registry's digest is exactly the one mkimage computed.
    """
    registry, repo, tag = split_ref(ref)
    want = layout_digest(layout)
    have = manifest(registry, repo, tag)
    if have is not None and have[0] == want:
        return False
    subprocess.run(
        ["skopeo", "copy", "--quiet", "--preserve-digests", "--dest-tls-verify=false",
         f"oci:{layout}:{tag}", f"docker://{ref}"],
        check=True,
    )
    got = manifest(registry, repo, tag)
    if got is None or got[0] != want:
        raise RuntimeError(f"pushed {ref} but the registry reports {got and got[0]}, not {want}")
    return True


def start(addr: str, state: Path, binary: str = "/usr/bin/docker-registry") -> int | None:
    """Start the registry in the background unless something answers at `addr` already.

    Returns the new pid, or None when a registry was already there. The registry is left
    running on purpose: the next test run (and other developers) reuse it.
    """
    if is_up(addr):
        return None
    if not shutil.which(binary) and not os.path.exists(binary):
        raise RuntimeError(f"{binary} is not installed (apt-get install docker-registry)")
    storage = state / "registry"
    storage.mkdir(parents=True, exist_ok=True)
    config = state / "registry.yml"
    config.write_text(CONFIG.format(storage=storage, addr=addr))
    log = open(state / "registry.log", "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen([binary, "serve", str(config)], stdin=subprocess.DEVNULL,
                            stdout=log, stderr=log, start_new_session=True, close_fds=True)
    (state / "registry.pid").write_text(f"{proc.pid}\n")
    try:
        wait_up(addr)
    except RuntimeError:
        proc.kill()
        tail = (state / "registry.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"registry did not start; log:\n{tail}") from None
    return proc.pid


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="control the local test registry")
    sub = ap.add_subparsers(dest="cmd", required=True)
    st = sub.add_parser("start")
    st.add_argument("--addr", default="127.0.0.1:5000")
    st.add_argument("--state", type=Path, default=Path("/var/lib/pyc-test"))
    pb = sub.add_parser("publish")
    pb.add_argument("layout", type=Path)
    pb.add_argument("ref")
    up = sub.add_parser("up")
    up.add_argument("--addr", default="127.0.0.1:5000")
    args = ap.parse_args(argv)
    out: dict[str, Any]
    if args.cmd == "start":
        pid = start(args.addr, args.state)
        out = {"started": pid is not None, "pid": pid}
    elif args.cmd == "publish":
        out = {"pushed": publish(args.layout, args.ref), "digest": layout_digest(args.layout)}
    else:
        return 0 if is_up(args.addr) else 1
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
