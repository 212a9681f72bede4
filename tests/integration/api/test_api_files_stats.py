"""A container's files and resources over the API with the real clients: `docker cp` both
ways, `diff`, `export`, `stats`, `container prune`, `update`; docker-py's archive, stats and
prune. Containers are made with `pyc run`; bad archive input changes nothing."""

from __future__ import annotations

import base64
import io
import json
import os
import socket
import subprocess
import tarfile
from pathlib import Path

import docker
import pytest

from .conftest import Service


def dock(cli: str, env: dict[str, str], *args: str, ok: bool = True,
         input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    res = subprocess.run([cli, *args], env=env, capture_output=True, timeout=120, input=input)
    if ok:
        assert res.returncode == 0, (cli, args, res.stdout, res.stderr)
    return res


@pytest.fixture
def box(api: Service, fixture_refs: dict[str, str]) -> str:
    bb = fixture_refs["busybox"]
    api.pyc.ok("pull", "-q", bb)
    return api.pyc.ok("run", "-d", "--name", "box", bb, "sh", "-c",
                      "mkdir -p /srv/d/sub && echo one > /srv/d/a && echo two > "
                      "/srv/d/sub/b && rm /etc/group && exec sleep 300").out.strip()


def request(api: Service, method: str, path: str,
            body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """One request straight on the socket (no client's own checks); a chunked reply is
    returned raw."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(str(api.sock))
        s.sendall(f"{method} {path} HTTP/1.1\r\nHost: d\r\nContent-Length: {len(body)}\r\n"
                  "Connection: close\r\n\r\n".encode() + body)
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    head, _, payload = reply.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
    return int(lines[0].split()[1]), headers, payload


def test_docker_cp_both_ways(api: Service, box: str, dockers: list[str],
                             docker_env: dict[str, str], tmp_path: Path) -> None:
    for n, cli in enumerate(dockers):
        out = tmp_path / f"out{n}"
        out.mkdir()
        dock(cli, docker_env, "cp", "box:/srv/d/a", str(out / "a.txt"))
        assert (out / "a.txt").read_text() == "one\n"
        dock(cli, docker_env, "cp", "box:/srv/d", str(out))
        assert (out / "d" / "sub" / "b").read_text() == "two\n"
        stream = dock(cli, docker_env, "cp", "box:/srv/d/sub", "-").stdout
        with tarfile.open(fileobj=io.BytesIO(stream)) as tar:
            assert sorted(tar.getnames()) == ["sub", "sub/b"]
        src = tmp_path / f"in{n}"
        (src / "deep").mkdir(parents=True)
        (src / "deep" / "f").write_text(f"from host {n}\n")
        (tmp_path / f"file{n}").write_text("single\n")
        dock(cli, docker_env, "cp", str(tmp_path / f"file{n}"), "box:/srv/d/")
        dock(cli, docker_env, "cp", str(src), f"box:/srv/copy{n}")  # a new directory
        dock(cli, docker_env, "cp", str(src), "box:/srv/d")  # into an existing one
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            info = tarfile.TarInfo("piped.txt")
            info.size = 4
            tar.addfile(info, io.BytesIO(b"tar\n"))
        dock(cli, docker_env, "cp", "-", "box:/srv", input=buf.getvalue())
        seen = api.pyc.ok("exec", "box", "sh", "-c",
                          f"cat /srv/d/file{n} /srv/copy{n}/deep/f /srv/d/in{n}/deep/f "
                          f"/srv/piped.txt; stat -c %u /srv/d/file{n}").out
        assert seen == f"single\nfrom host {n}\nfrom host {n}\ntar\n0\n", seen
        missing = dock(cli, docker_env, "cp", "box:/nonexistent", str(out), ok=False)
        # 20.10 words the HEAD's 404 itself; newer CLIs show the GET's message
        assert missing.returncode == 1 and (b"No such container:path: box:/nonexistent"
                                            in missing.stderr or b"Could not find the file "
                                            b"/nonexistent in container box" in missing.stderr)


def test_archive_stat_header_and_bad_input(api: Service, box: str, tmp_path: Path) -> None:
    status, headers, _ = request(api, "HEAD", "/containers/box/archive?path=/srv/d")
    assert status == 200
    stat = json.loads(base64.b64decode(headers["x-docker-container-path-stat"]))
    assert stat["name"] == "d" and stat["mode"] & (1 << 31) and stat["mode"] & 0o777 == 0o755
    status, headers, _ = request(api, "HEAD", "/containers/box/archive?path=/bin/sh")
    stat = json.loads(base64.b64decode(headers["x-docker-container-path-stat"]))
    assert stat["mode"] & (1 << 27) and stat["linkTarget"].startswith("/bin/"), stat
    status, _, _ = request(api, "HEAD", "/containers/box/archive?path=/nope")
    assert status == 404
    # a path climbing out of the root: refused, never the host's file
    marker = tmp_path / "host-secret"
    marker.write_text("host only\n")
    climb = "/.." * 12 + str(marker)
    status, _, body = request(api, "GET", f"/containers/box/archive?path={climb}")
    assert status == 400 and b"host only" not in body, (status, body)
    # a body that is not a tar, and a tar whose member escapes: 400, nothing written
    status, _, body = request(api, "PUT", "/containers/box/archive?path=/srv",
                              b"this is not a tar archive" * 40)
    assert status == 400 and b"not a tar" in body, body
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name in ("ok-first", "../../../escaped"):
            info = tarfile.TarInfo(name)
            info.size = 2
            tar.addfile(info, io.BytesIO(b"x\n"))
    status, _, body = request(api, "PUT", "/containers/box/archive?path=/srv/d/sub",
                              buf.getvalue())
    assert status == 400 and b"outside" in body, body
    left = api.pyc.ok("exec", "box", "sh", "-c",
                      "ls /srv/d/sub; ls / /srv | grep -c escaped || true").out.split()
    assert left == ["b", "0"], left
    status, _, _ = request(api, "PUT", "/containers/box/archive?path=/srv/d/a", buf.getvalue())
    assert status == 400  # the target is a file, not a directory
    status, _, _ = request(api, "PUT", "/containers/box/archive?path=/nodir", b"")
    assert status in (400, 404)


def test_docker_py_archive(api: Service, box: str) -> None:
    client = docker.DockerClient(base_url=api.url)
    c = client.containers.get("box")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("py/hello.txt")
        info.size = 6
        tar.addfile(info, io.BytesIO(b"hello\n"))
    assert c.put_archive("/srv", buf.getvalue()) is True
    bits, stat = c.get_archive("/srv/py/hello.txt")
    assert stat["name"] == "hello.txt" and stat["size"] == 6
    with tarfile.open(fileobj=io.BytesIO(b"".join(bits))) as tar:
        member = tar.extractfile("hello.txt")
        assert member is not None and member.read() == b"hello\n"
    with pytest.raises(docker.errors.NotFound):
        c.get_archive("/srv/none")


def test_docker_diff_and_export(api: Service, box: str, dockers: list[str],
                                docker_env: dict[str, str]) -> None:
    for cli in dockers:
        lines = dock(cli, docker_env, "diff", "box").stdout.decode().splitlines()
        assert "A /srv/d/a" in lines and "D /etc/group" in lines, lines
        assert "C /etc" in lines, lines
        exported = dock(cli, docker_env, "export", "box").stdout
        with tarfile.open(fileobj=io.BytesIO(exported)) as tar:
            names = set(tar.getnames())
        assert "srv/d/sub/b" in names and "bin/sh" in names and "etc/group" not in names
    client = docker.DockerClient(base_url=api.url)
    kinds = {d["Path"]: d["Kind"] for d in client.containers.get("box").diff()}
    assert kinds["/srv/d/a"] == 1 and kinds["/etc/group"] == 2 and kinds["/etc"] == 0


def test_docker_stats_no_stream(api: Service, box: str, dockers: list[str],
                                docker_env: dict[str, str]) -> None:
    for cli in dockers:
        out = dock(cli, docker_env, "stats", "--no-stream", "--format",
                   "{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.MemPerc}}", "box").stdout.decode()
        name, cpu, mem, memperc = out.strip().split("|")
        assert name == "box"
        float(cpu.rstrip("%"))
        float(memperc.rstrip("%"))
        usage, limit = (part.strip() for part in mem.split("/"))
        assert usage[0].isdigit() and limit[0].isdigit() and not limit.startswith("0B"), mem


def test_docker_py_stats(api: Service, box: str) -> None:
    client = docker.DockerClient(base_url=api.url)
    c = client.containers.get("box")
    one = c.stats(stream=False)
    assert one["name"] == "/box" and one["id"] == box
    assert one["precpu_stats"]["cpu_usage"]["total_usage"] > 0  # two samples were taken
    assert one["cpu_stats"]["online_cpus"] == os.cpu_count()
    assert one["cpu_stats"]["system_cpu_usage"] > one["precpu_stats"]["system_cpu_usage"]
    assert one["memory_stats"]["usage"] > 0 and one["memory_stats"]["limit"] > 0
    assert "inactive_file" in one["memory_stats"]["stats"] \
        or "total_inactive_file" in one["memory_stats"]["stats"]
    assert one["pids_stats"]["current"] >= 1
    assert isinstance(one["blkio_stats"]["io_service_bytes_recursive"], list)
    assert "networks" in one
    stream = c.stats(stream=True, decode=True)
    first = next(stream)
    second = next(stream)
    assert second["precpu_stats"]["cpu_usage"] == first["cpu_stats"]["cpu_usage"]
    assert second["preread"] == first["read"]
    stream.close()
    shot = c.stats(stream=False, one_shot=True)
    assert shot["preread"] == "0001-01-01T00:00:00Z" and shot["read"] != shot["preread"]


def test_container_prune_and_update(api: Service, box: str, dockers: list[str],
                                    docker_env: dict[str, str],
                                    fixture_refs: dict[str, str]) -> None:
    bb = fixture_refs["busybox"]
    done = api.pyc.ok("run", "--name", "done1", bb, "true") and \
        api.pyc.ok("ps", "-aq", "--no-trunc", "--filter", "name=done1").out.strip()
    out = dock(dockers[0], docker_env, "container", "prune", "-f").stdout.decode()
    assert done in out and "Total reclaimed space" in out, out
    assert api.pyc.ok("ps", "-aq").out.split() == [box[:12]]
    api.pyc.ok("run", "--name", "done2", "--label", "keep=1", bb, "true")
    api.pyc.ok("run", "--name", "done3", bb, "true")
    client = docker.DockerClient(base_url=api.url)
    report = client.containers.prune(filters={"label!": "keep=1"})
    gone = api.pyc.ok("ps", "-a", "--format", "{{.Names}}").out.split()
    assert sorted(gone) == ["box", "done2"] and len(report["ContainersDeleted"]) == 1
    for n, cli in enumerate(dockers):
        size = f"{64 + n}m"
        dock(cli, docker_env, "update", "--memory", size, "--memory-swap", "-1", "box")
        limit = dock(cli, docker_env, "inspect", "-f", "{{.HostConfig.Memory}}",
                     "box").stdout.decode().strip()
        assert limit == str((64 + n) << 20)
        assert api.pyc.ok("inspect", "-f", "{{.HostConfig.Memory}}", "box").out.strip() \
            == limit
    bad = dock(dockers[0], docker_env, "update", "--blkio-weight", "300", "box", ok=False)
    assert bad.returncode == 1 and b"BlkioWeight" in bad.stderr, bad.stderr


def _threads_and_children(pid: int) -> tuple[int, list[int]]:
    threads = len(os.listdir(f"/proc/{pid}/task"))
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry))
    return threads, children


def _leave_mid_stream(api: Service, path: str, want: int) -> None:
    """Start a streaming GET, read `want` bytes of its body, hang up."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(str(api.sock))
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: d\r\n\r\n".encode())
        got = b""
        while len(got.partition(b"\r\n\r\n")[2]) < want:
            chunk = s.recv(65536)
            assert chunk, got
            got += chunk
        assert got.startswith(b"HTTP/1.1 200"), got[:200]


def test_clients_leaving_streams_leave_nothing(api: Service, box: str) -> None:
    import time

    pid = api.proc.pid
    request(api, "GET", "/_ping")
    base_threads, base_children = _threads_and_children(pid)
    _leave_mid_stream(api, "/containers/box/stats", 200)  # streams until the client leaves
    _leave_mid_stream(api, "/containers/box/export", 20000)
    _leave_mid_stream(api, "/containers/box/archive?path=/bin", 20000)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        now = _threads_and_children(pid)
        if now[0] <= base_threads and now[1] == base_children:
            break
        time.sleep(0.2)
    assert now[0] <= base_threads and now[1] == base_children, (base_threads, now)
    status, _, _ = request(api, "GET", "/containers/box/json")
    assert status == 200  # the service still serves
