"""Images in and out through the API with the real clients: pull, push, build, save/load,
prune, commit, import, system df, distribution; bad build input."""

from __future__ import annotations

import io
import json
import socket
import tarfile
import uuid
from pathlib import Path

import docker
import pytest

from .conftest import Service
from .test_api_containers import dock

BUILD_FILES = {"Dockerfile": "FROM {base}\nCOPY hello.txt /hello.txt\n"
                             "RUN cat /hello.txt > /made.txt && echo built-it\n",
               "hello.txt": "hello from the context\n"}


def _context(tmp_path: Path, base: str, files: dict[str, str] = BUILD_FILES) -> Path:
    ctx = tmp_path / f"ctx-{uuid.uuid4().hex[:6]}"
    ctx.mkdir()
    for name, text in files.items():
        (ctx / name).write_text(text.format(base=base))
    return ctx


def _tar(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _raw(api: Service, head: str, body: bytes = b"") -> tuple[int, bytes]:
    """One request on a fresh connection; (status, body as sent, chunk framing included)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    s.connect(str(api.sock))
    s.sendall(head.encode() + body)
    s.shutdown(socket.SHUT_WR)
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    s.close()
    return int(data.split(b" ", 2)[1]), data.split(b"\r\n\r\n", 1)[1]


def _scratch_left(api: Service) -> list[str]:
    build = api.pyc.root / "build"
    return [p.name for p in build.iterdir()] if build.is_dir() else []


def test_docker_pull_and_push(api: Service, fixture_refs: dict[str, str], dockers: list[str],
                              docker_env: dict[str, str]) -> None:
    bb = fixture_refs["busybox"]
    for n, cli in enumerate(dockers):
        out = dock(cli, docker_env, "pull", bb).stdout
        status = "Downloaded newer image for" if n == 0 else "Image is up to date for"
        assert f"Status: {status} {bb}" in out, out
        assert "Digest: sha256:" in out, out
        assert api.pyc.ok("images", "-q").out.strip()
        dest = f"127.0.0.1:5000/apitest/push-{uuid.uuid4().hex[:8]}:v1"
        dock(cli, docker_env, "tag", bb, dest)
        out = dock(cli, docker_env, "push", dest).stdout
        assert "v1: digest: sha256:" in out, out
        # the registry has it: pyc pulls it back under its own name
        api.pyc.ok("rmi", dest)
        api.pyc.ok("pull", "-q", dest)
    res = dock(dockers[0], docker_env, "pull", "127.0.0.1:5000/fixtures/nosuch:1", ok=False)
    assert res.returncode == 1 and "not found" in res.stderr, res.stderr


def test_docker_build_then_run(api: Service, fixture_refs: dict[str, str], dockers: list[str],
                               docker_env: dict[str, str], tmp_path: Path) -> None:
    bb = fixture_refs["busybox"]
    api.pyc.ok("pull", "-q", bb)
    for n, cli in enumerate(dockers):
        ctx = _context(tmp_path, bb)
        out = dock(cli, docker_env, "build", "--no-cache", "-t", f"built{n}:x", str(ctx)).stdout
        assert "Step 1/3 : FROM" in out and "built-it" in out, out
        assert "Successfully built " in out and f"Successfully tagged built{n}:x" in out, out
        res = api.pyc.ok("run", "--rm", f"built{n}:x", "cat", "/made.txt")
        assert res.out == "hello from the context\n"
        ran = dock(cli, docker_env, "run", "--rm", f"built{n}:x", "cat", "/made.txt").stdout
        assert ran == "hello from the context\n"
    failing = _context(tmp_path, bb, {"Dockerfile": "FROM {base}\nRUN exit 3\n"})
    res = dock(dockers[0], docker_env, "build", str(failing), ok=False)
    assert res.returncode != 0 and "exit status 3" in res.stderr + res.stdout
    assert _scratch_left(api) == []


def test_save_load_prune_commit_df(api: Service, fixture_refs: dict[str, str],
                                   dockers: list[str], docker_env: dict[str, str],
                                   tmp_path: Path) -> None:
    bb = fixture_refs["busybox"]
    api.pyc.ok("pull", "-q", bb)
    cli = dockers[-1]
    archive = tmp_path / "bb.tar"
    dock(cli, docker_env, "save", "-o", str(archive), bb)
    with tarfile.open(archive) as saved:
        assert "manifest.json" in saved.getnames()
    api.pyc.ok("rmi", bb)
    out = dock(dockers[0], docker_env, "load", "-i", str(archive)).stdout
    assert out.strip() == f"Loaded image: {bb}", out
    api.pyc.ok("run", "--name", "changed", bb, "sh", "-c", "echo committed > /c.txt")
    image_id = dock(cli, docker_env, "commit", "-c", "CMD cat /c.txt", "changed",
                    "snap:1").stdout.strip()
    assert image_id.startswith("sha256:")
    assert api.pyc.ok("run", "--rm", "snap:1").out == "committed\n"
    df = dock(cli, docker_env, "system", "df").stdout.splitlines()
    assert df[0].split()[:2] == ["TYPE", "TOTAL"], df
    images_row = next(line for line in df if line.startswith("Images"))
    assert images_row.split()[1] == "2", df
    containers_row = next(line for line in df if line.startswith("Containers"))
    assert containers_row.split()[1] == "1", df
    api.pyc.ok("rm", "changed")
    # an image with no name and no container is what `image prune` removes
    rootfs = tmp_path / "rootfs.tar"
    rootfs.write_bytes(_tar({"etc/x": "x\n"}))
    dangling = api.pyc.ok("import", str(rootfs)).out.strip()
    out = dock(cli, docker_env, "image", "prune", "-f").stdout
    assert f"deleted: {dangling}" in out and "Total reclaimed space" in out, out
    assert dangling not in api.pyc.ok("images", "-a", "-q", "--no-trunc").out
    assert "snap:1" in api.pyc.ok("images", "--format", "{{.Repository}}:{{.Tag}}").out

def test_docker_py_images(api: Service, fixture_refs: dict[str, str],
                          tmp_path: Path) -> None:
    bb = fixture_refs["busybox"]
    client = docker.DockerClient(base_url=api.url)
    repo, tag = bb.rsplit(":", 1)
    image = client.images.pull(repo, tag=tag)
    assert bb in image.tags
    built, logs = client.images.build(path=str(_context(tmp_path, bb)), tag="pybuilt:1")
    assert "pybuilt:1" in built.tags
    assert any("built-it" in entry.get("stream", "") for entry in logs)
    assert api.pyc.ok("run", "--rm", "pybuilt:1", "cat", "/made.txt").out == \
        "hello from the context\n"
    with pytest.raises(docker.errors.BuildError) as err:
        client.images.build(fileobj=io.BytesIO(_tar({"Dockerfile": f"FROM {bb}\nRUN exit 4\n"})),
                            custom_context=True)
    assert "exit status 4" in str(err.value)
    dest = f"127.0.0.1:5000/apitest/py-{uuid.uuid4().hex[:8]}"
    assert built.tag(dest, "v2")
    messages = list(client.api.push(dest, tag="v2", stream=True, decode=True))
    aux = [m["aux"] for m in messages if "aux" in m]
    assert aux and aux[0]["Tag"] == "v2" and aux[0]["Digest"].startswith("sha256:"), messages
    dist = client.api.inspect_distribution(f"{dest}:v2")
    assert dist["Descriptor"]["digest"] == aux[0]["Digest"]
    assert dist["Platforms"][0]["os"] == "linux"
    rootfs = _tar({"etc/marker": "imported\n"})
    out = client.api.import_image(src=rootfs, repository="imported", tag="t1")
    assert "sha256:" in out, out
    assert client.images.get("imported:t1").attrs["Size"] > 0
    login = client.login("u", "p", registry="127.0.0.1:5000", reauth=True)
    assert login["Status"] == "Login Succeeded"


def test_bad_build_input(api: Service, fixture_refs: dict[str, str]) -> None:
    bb = fixture_refs["busybox"]
    api.pyc.ok("pull", "-q", bb)
    images_before = api.pyc.ok("images", "-q").out
    head = "POST /v1.41/build?t=bad:1{q} HTTP/1.1\r\nHost: d\r\nContent-Type: " \
           "application/x-tar\r\n{extra}\r\n"
    junk = b"this is not a tar archive at all" * 40
    status, body = _raw(api, head.format(q="", extra=f"Content-Length: {len(junk)}\r\n"), junk)
    assert status == 400 and b"not a tar archive" in body, body
    ctx = _tar({"Dockerfile": f"FROM {bb}\n"})
    status, body = _raw(api, head.format(q="&dockerfile=../../etc/passwd",
                                         extra=f"Content-Length: {len(ctx)}\r\n"), ctx)
    assert status == 400 and b"must be within the build context" in body, body
    status, body = _raw(api, head.format(q="&shmsize=1048576",
                                         extra=f"Content-Length: {len(ctx)}\r\n"), ctx)
    assert status == 400 and b"shmsize" in body, body
    # a body cut short: the client leaves before sending what it announced
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(api.sock))
    s.sendall(head.format(q="", extra=f"Content-Length: {len(ctx) + 5000}\r\n").encode() + ctx)
    s.shutdown(socket.SHUT_WR)
    s.settimeout(30)
    answer = b""
    while chunk := s.recv(65536):
        answer += chunk
    s.close()
    assert answer == b"" or b" 400 " in answer.split(b"\r\n", 1)[0], answer
    status, body = _raw(api, "GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n")
    assert status == 200  # still serving
    assert api.pyc.ok("images", "-q").out == images_before
    assert _scratch_left(api) == []
    status, body = _raw(api, "GET /images/bad:1/json HTTP/1.1\r\nHost: d\r\n\r\n")
    assert status == 404 and json.loads(body)["message"] == "No such image: bad:1"
