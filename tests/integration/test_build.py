"""pyc build as the unprivileged user, against the real registry, runtime and network.

Every acceptance point of issue 6 is a test here; build contexts are written per test into
tmp_path. Most tests share one pyc state (`shared_pyc`: the base images are pulled once) and
use unique tags; the ones that check what a build leaves behind use their own state.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import secrets
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest
from helpers.runner import Pyc


def write_context(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def tag() -> str:
    return f"pycbuild-{secrets.token_hex(4)}"


def run_in(pyc: Pyc, image: str, script: str) -> str:
    return pyc.ok("run", "--rm", "--entrypoint", "sh", image, "-c", script).out


def step_lines(out: str) -> list[str]:
    return [ln for ln in out.splitlines() if "STEP " in ln or ln.startswith("-->")]


def layer_members(pyc: Pyc, image: str, index: int = -1) -> list[str]:
    """Names in one layer tar of `image` (a tag made by `tag()`), read from the store."""
    images = Path(pyc.root) / "images"
    entries = json.loads((images / "index.json").read_text())["images"].values()
    entry = next(e for e in entries if f"docker.io/library/{image}:latest" in e["names"])
    blob = entry["layers"][index]["digest"].split(":")[1]
    data = gzip.decompress((images / "blobs" / "sha256" / blob).read_bytes())
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        return t.getnames()


# -- the multi-stage Debian build -------------------------------------------------------------

DEBIAN_APP = """\
ARG BASE=debian-placeholder
FROM ${BASE} AS builder
RUN apt-get update && apt-get install -y --no-install-recommends jq
COPY src/ /src/
RUN jq -r .greeting /src/data.json > /greeting.txt

FROM {busybox} AS final
COPY --from=builder /greeting.txt /opt/app/greeting.txt
WORKDIR /opt/app
ENV GREETING_FILE=/opt/app/greeting.txt
USER 1000
ENTRYPOINT ["cat"]
CMD ["/opt/app/greeting.txt"]
"""


@pytest.fixture(scope="module")
def debian_app(shared_pyc: Pyc, fixture_refs: dict[str, str],
               tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, str]:
    ctx = write_context(tmp_path_factory.mktemp("debian-app"), {
        "Dockerfile": DEBIAN_APP.replace("{busybox}", fixture_refs["busybox"]),
        "src/data.json": '{"greeting": "hello from the builder"}\n',
        "src/other.txt": "unchanged\n",
    })
    name = tag()
    res = shared_pyc("build", "-t", name, "--build-arg", f"BASE={fixture_refs['debian']}",
                     str(ctx), timeout=600)
    assert res.rc == 0, res.out + res.err
    return name, ctx, res.out


def test_multistage_debian_build_with_apt_runs_and_has_history(
        shared_pyc: Pyc, debian_app: tuple[str, Path, str]) -> None:
    name, _, out = debian_app
    assert "[1/2] STEP 2/4: RUN apt-get update" in out
    assert "Setting up jq" in out  # the command's own output, live
    assert f"COMMIT {name}" in out
    assert shared_pyc.ok("run", "--rm", name).out == "hello from the builder\n"
    seen = run_in(shared_pyc, name, 'id -u; pwd; echo "$GREETING_FILE"')
    assert seen.split() == ["1000", "/opt/app", "/opt/app/greeting.txt"]
    history = shared_pyc.ok("history", "--no-trunc", "--format", "{{.CreatedBy}}", name).out
    rows = history.splitlines()
    assert rows[:6] == [
        '/bin/sh -c #(nop)  CMD ["/opt/app/greeting.txt"]',
        '/bin/sh -c #(nop)  ENTRYPOINT ["cat"]',
        "/bin/sh -c #(nop)  USER 1000",
        "/bin/sh -c #(nop)  ENV GREETING_FILE=/opt/app/greeting.txt",
        "/bin/sh -c #(nop) WORKDIR /opt/app",
        "/bin/sh -c #(nop) COPY --from=builder /greeting.txt in /opt/app/greeting.txt",
    ]
    assert len(rows) == 6 + 3  # and busybox's 3
    # the builder stage's layers are not in the final image
    assert "jq" not in history


def test_rebuild_unchanged_uses_the_cache_and_gives_the_same_id(
        shared_pyc: Pyc, debian_app: tuple[str, Path, str], fixture_refs: dict[str, str]
) -> None:
    name, ctx, first = debian_app
    first_id = first.strip().splitlines()[-1]
    again = shared_pyc.ok("build", "-t", name, "--build-arg", f"BASE={fixture_refs['debian']}",
                          str(ctx))
    assert again.out.strip().splitlines()[-1] == first_id
    assert again.out.count("--> Using cache") == 3 + 6  # every step after the two FROMs
    assert "Setting up" not in again.out


def test_a_changed_file_reruns_exactly_that_copy_and_later_steps(
        shared_pyc: Pyc, fixture_refs: dict[str, str], tmp_path: Path) -> None:
    ctx = write_context(tmp_path / "ctx", {
        "Dockerfile": f"FROM {fixture_refs['busybox']}\nRUN echo one > /one\n"
                      "COPY a.txt /a.txt\nRUN cat /a.txt > /copy\nCOPY b.txt /b.txt\n"
                      'CMD ["cat", "/copy"]\n',
        "a.txt": "first\n", "b.txt": "bee\n"})
    name = tag()
    shared_pyc.ok("build", "-t", name, str(ctx))
    with open(ctx / "a.txt", "a") as f:
        f.write("second\n")
    out = shared_pyc.ok("build", "-t", name, str(ctx)).out
    lines = step_lines(out)
    cached = [lines[i - 1] for i, ln in enumerate(lines) if ln.startswith("--> Using cache")]
    assert cached == ["STEP 2/6: RUN echo one > /one"]
    assert shared_pyc.ok("run", "--rm", name).out == "first\nsecond\n"


# -- Dockerfile features ------------------------------------------------------------------------


def test_heredoc_run_arg_before_from_default_expansion_and_build_arg(
        shared_pyc: Pyc, fixture_refs: dict[str, str], tmp_path: Path) -> None:
    registry, _, rest = fixture_refs["busybox"].partition("/")
    dockerfile = (
        f"ARG REGISTRY={registry}\n"
        f"FROM ${{REGISTRY}}/{rest}\n"
        "ARG FLAVOUR\n"
        "ARG COLOUR=blue\n"
        "ENV SHOWN=${FLAVOUR:-vanilla}\n"
        "RUN <<EOF\n"
        "set -e\n"
        "echo \"flavour=$SHOWN colour=$COLOUR\" > /facts\n"
        "echo heredoc-ran >> /facts\n"
        "EOF\n"
        "RUN <<EOF\n"
        "#!/bin/sh -e\n"
        "echo shebang-ran >> /facts\n"
        "EOF\n"
    )
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": dockerfile})
    plain, custom = tag(), tag()
    shared_pyc.ok("build", "-t", plain, str(ctx))
    shared_pyc.ok("build", "-t", custom, "--build-arg", "FLAVOUR=mint", "--build-arg",
                  "COLOUR=red", str(ctx))
    ran = "heredoc-ran\nshebang-ran\n"
    assert run_in(shared_pyc, plain, "cat /facts") == "flavour=vanilla colour=blue\n" + ran
    assert run_in(shared_pyc, custom, "cat /facts") == "flavour=mint colour=red\n" + ran


def test_dockerignore_with_an_exception(shared_pyc: Pyc, fixture_refs: dict[str, str],
                                        tmp_path: Path) -> None:
    ctx = write_context(tmp_path / "ctx", {
        "Dockerfile": f"FROM {fixture_refs['busybox']}\nCOPY . /ctx/\n",
        ".dockerignore": "*.log\n!keep.log\nsecret/\n",
        "app.txt": "app\n", "debug.log": "x\n", "keep.log": "kept\n",
        "secret/key": "k\n", "sub/inner.log": "nested logs are not matched by *.log\n"})
    name = tag()
    shared_pyc.ok("build", "-t", name, str(ctx))
    listing = run_in(shared_pyc, name, "cd /ctx && find . -type f | sort").split()
    assert listing == ["./.dockerignore", "./Dockerfile", "./app.txt", "./keep.log",
                       "./sub/inner.log"]


def test_target_builds_only_the_stages_it_needs(shared_pyc: Pyc, fixture_refs: dict[str, str],
                                                tmp_path: Path) -> None:
    bb = fixture_refs["busybox"]
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": (
        f"FROM {bb} AS base\nRUN echo base > /base\n"
        f"FROM {bb} AS unrelated\nRUN echo UNRELATED-RAN && exit 1\n"
        f"FROM base AS test\nRUN echo test > /test\n"
        f"FROM {bb} AS release\nCOPY --from=base /base /base\n")})
    name = tag()
    out = shared_pyc.ok("build", "--target", "test", "-t", name, str(ctx)).out
    assert "UNRELATED-RAN" not in out
    assert run_in(shared_pyc, name, "cat /base /test") == "base\ntest\n"
    shared_pyc.fail("build", "--target", "nope", str(ctx), rc=125)


def test_add_extracts_a_local_tar_and_copy_chown_sets_ownership(
        shared_pyc: Pyc, fixture_refs: dict[str, str], tmp_path: Path) -> None:
    ctx = write_context(tmp_path / "ctx", {
        "Dockerfile": f"FROM {fixture_refs['busybox']}\nADD bundle.tar.gz /opt/\n"
                      "COPY --chown=1000:1000 owned/ /srv/owned/\n"
                      "COPY --chmod=0750 run.sh /usr/local/bin/\n",
        "owned/f.txt": "mine\n", "run.sh": "#!/bin/sh\necho hi\n"})
    with tarfile.open(ctx / "bundle.tar.gz", "w:gz") as t:
        for rel, data in (("bundle/readme", b"from the tar\n"), ("bundle/sub/x", b"x\n")):
            info = tarfile.TarInfo(rel)
            info.size, info.uid, info.gid = len(data), 33, 33
            t.addfile(info, io.BytesIO(data))
    name = tag()
    shared_pyc.ok("build", "-t", name, str(ctx))
    out = run_in(shared_pyc, name, "cat /opt/bundle/readme; stat -c '%u:%g %n' "
                 "/opt/bundle/sub/x /srv/owned /srv/owned/f.txt; stat -c '%a' "
                 "/usr/local/bin/run.sh").splitlines()
    assert out == ["from the tar", "33:33 /opt/bundle/sub/x", "1000:1000 /srv/owned",
                   "1000:1000 /srv/owned/f.txt", "750"]


def test_cache_mount_persists_between_builds(shared_pyc: Pyc, fixture_refs: dict[str, str],
                                             tmp_path: Path) -> None:
    cache_id = secrets.token_hex(6)
    df = (f"FROM {fixture_refs['busybox']}\nARG N\n"
          f"RUN --mount=type=cache,id={cache_id},target=/cache,sharing=locked "
          "ls /cache > /seen; echo run-$N > /cache/run-$N\n")
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": df})
    first, second = tag(), tag()
    shared_pyc.ok("build", "-t", first, "--build-arg", "N=1", str(ctx))
    shared_pyc.ok("build", "-t", second, "--build-arg", "N=2", str(ctx))
    assert run_in(shared_pyc, first, "cat /seen; ls /cache | wc -l") == "0\n"
    assert run_in(shared_pyc, second, "cat /seen") == "run-1\n"


WHITEOUT_DOCKERFILE = """\
FROM {busybox}
RUN mkdir -p /opt/dir/sub && touch /opt/dir/old /opt/dir/sub/deep /etc/doomed
RUN rm /etc/doomed && rm -rf /opt/dir && mkdir /opt/dir && touch /opt/dir/new
"""
WHITEOUT_CHECK = "ls -A /opt/dir; test -e /etc/doomed && echo STILL-THERE || true"


@pytest.fixture(scope="module")
def whiteout_image(shared_pyc: Pyc, fixture_refs: dict[str, str],
                   tmp_path_factory: pytest.TempPathFactory) -> str:
    ctx = write_context(tmp_path_factory.mktemp("whiteout"), {
        "Dockerfile": WHITEOUT_DOCKERFILE.format(busybox=fixture_refs["busybox"])})
    name = tag()
    shared_pyc.ok("build", "-t", name, str(ctx))
    return name


def test_deleted_file_and_replaced_directory_are_gone_in_the_final_image(
        shared_pyc: Pyc, whiteout_image: str, tmp_path: Path) -> None:
    members = layer_members(shared_pyc, whiteout_image)
    assert "etc/.wh.doomed" in members
    assert "opt/dir/.wh..wh..opq" in members
    # seen from a container of a build on top of it
    ctx = write_context(tmp_path / "ctx", {
        "Dockerfile": f"FROM {whiteout_image}\nRUN ({WHITEOUT_CHECK}) > /seen\n"})
    child = tag()
    shared_pyc.ok("build", "-t", child, str(ctx))
    assert run_in(shared_pyc, child, "cat /seen") == "new\n"


def test_replaced_directory_is_gone_under_pyc_run(shared_pyc: Pyc, whiteout_image: str) -> None:
    assert run_in(shared_pyc, whiteout_image, WHITEOUT_CHECK) == "new\n"


def test_copy_from_an_image_and_bind_mount_from_a_stage(
        shared_pyc: Pyc, fixture_refs: dict[str, str], tmp_path: Path) -> None:
    bb = fixture_refs["busybox"]
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": (
        f"FROM {bb} AS tools\nRUN echo tool-data > /data.txt\n"
        f"FROM {bb}\nCOPY --from={bb} /www/index.html /copied.html\n"
        "RUN --mount=type=bind,from=tools,target=/mnt/tools cp /mnt/tools/data.txt /data\n")})
    name = tag()
    shared_pyc.ok("build", "-t", name, str(ctx))
    assert run_in(shared_pyc, name, "cat /copied.html /data") == \
        "hello from pyc fixture\ntool-data\n"


# -- failures leave nothing behind ------------------------------------------------------------


def _state(pyc: Pyc) -> tuple[str, str, list[str]]:
    build_dir = Path(pyc.root) / "build"
    leftovers = sorted(p.name for p in build_dir.iterdir()) if build_dir.exists() else []
    return pyc.ok("images", "-q").out, pyc.ok("ps", "-aq").out, leftovers


def test_syntax_error_names_the_line_and_builds_nothing(pyc: Pyc, fixture_refs: dict[str, str],
                                                        tmp_path: Path) -> None:
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": (
        f"FROM {fixture_refs['busybox']}\nRUN echo fine\nCOPY only-one-arg\n")})
    before = _state(pyc)
    res = pyc.fail("build", "-t", "broken", str(ctx), rc=125)
    assert "Dockerfile:3" in res.err
    assert "STEP" not in res.out
    assert _state(pyc) == before


def test_failing_run_exits_with_its_status_and_leaves_nothing(
        pyc: Pyc, fixture_refs: dict[str, str], tmp_path: Path) -> None:
    pyc.ok("pull", "-q", fixture_refs["busybox"])
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": (
        f"FROM {fixture_refs['busybox']}\nRUN echo before > /before\nRUN exit 3\n"
        "CMD [\"sh\"]\n")})
    before = _state(pyc)
    res = pyc.fail("build", "-t", "failing", str(ctx), rc=3)
    assert 'error building at STEP "RUN exit 3": exit status 3' in res.err
    assert _state(pyc) == before
    pyc.fail("image", "inspect", "failing", rc=125)


def test_unsupported_flags_fail_with_125_naming_them(pyc: Pyc, tmp_path: Path) -> None:
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": "FROM scratch\n"})
    res = pyc.fail("build", "--secret", "id=x,src=/etc/hostname", "--squash", str(ctx), rc=125)
    assert "--secret" in res.err and "--squash" in res.err


# -- contexts, output options ------------------------------------------------------------------


def test_context_from_stdin_tar_dockerfile_outside_and_from_stdin(
        shared_pyc: Pyc, fixture_refs: dict[str, str], tmp_path: Path) -> None:
    df = f"FROM {fixture_refs['busybox']}\nCOPY msg /msg\nCMD [\"cat\", \"/msg\"]\n"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for rel, data in (("Dockerfile", df.encode()), ("msg", b"from a tar\n")):
            info = tarfile.TarInfo(rel)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    from_tar = tag()
    argv = shared_pyc.argv("build", "-q", "-t", from_tar, "-")
    res = subprocess.run(argv, input=buf.getvalue(), capture_output=True,
                         env=shared_pyc.env, timeout=300)
    assert res.returncode == 0, res.stderr
    assert shared_pyc.ok("run", "--rm", from_tar).out == "from a tar\n"

    ctx = write_context(tmp_path / "ctx", {"msg": "outside dockerfile\n"})
    outside = write_context(tmp_path / "elsewhere", {"Build.df": df})
    name = tag()
    shared_pyc.ok("build", "-f", str(outside / "Build.df"), "-t", name, str(ctx))
    assert shared_pyc.ok("run", "--rm", name).out == "outside dockerfile\n"
    piped = tag()
    shared_pyc.ok("build", "-f", "-", "-t", piped, str(ctx), input=df)
    assert shared_pyc.ok("run", "--rm", piped).out == "outside dockerfile\n"


def test_quiet_iidfile_labels_and_untagged(shared_pyc: Pyc, fixture_refs: dict[str, str],
                                           tmp_path: Path) -> None:
    ctx = write_context(tmp_path / "ctx", {
        "Dockerfile": f"FROM {fixture_refs['busybox']}\nLABEL from=dockerfile\n"})
    iid = tmp_path / "iid"
    name = tag()
    res = shared_pyc.ok("build", "-q", "--pull", "--iidfile", str(iid), "--label", "extra=yes",
                        "-t", name, "-t", name + ":second", str(ctx))
    lines = res.out.split()  # Docker's -q: sha256:<64 hex>, alone
    assert len(lines) == 1 and lines[0].startswith("sha256:") and len(lines[0]) == 71
    assert iid.read_text() == lines[0]
    info = json.loads(shared_pyc.ok("image", "inspect", name + ":second").out)[0]
    assert info["Id"] == lines[0]
    assert info["Config"]["Labels"] == {"from": "dockerfile", "extra": "yes"}


def test_network_none_has_only_loopback(shared_pyc: Pyc, fixture_refs: dict[str, str],
                                        tmp_path: Path) -> None:
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": (
        f"FROM {fixture_refs['busybox']}\n"
        "RUN --network=none ls /sys/class/net > /none-net\n"
        "RUN ls /sys/class/net > /default-net\n")})
    name = tag()
    shared_pyc.ok("build", "--no-cache", "-t", name, str(ctx))
    assert run_in(shared_pyc, name, "cat /none-net") == "lo\n"
    assert "tap0" in run_in(shared_pyc, name, "cat /default-net")


def test_reproducible_with_source_date_epoch(shared_pyc: Pyc, fixture_refs: dict[str, str],
                                             tmp_path: Path) -> None:
    ctx = write_context(tmp_path / "ctx", {
        "Dockerfile": f"FROM {fixture_refs['busybox']}\nCOPY f /f\nRUN echo x > /x\n"
                      'CMD ["sh"]\n', "f": "data\n"})
    env = {"SOURCE_DATE_EPOCH": "1700000000"}
    ids = [shared_pyc.ok("build", "-q", "--no-cache", str(ctx), env=env).out.strip()
           for _ in range(2)]
    assert ids[0] == ids[1]


# -- interoperability ------------------------------------------------------------------------------


def test_built_image_pushed_runs_under_podman(
        shared_pyc: Pyc, debian_app: tuple[str, Path, str], registry: str,
        tmp_path: Path) -> None:
    assert shutil.which("podman"), "podman is needed for the interoperability test"
    name, _, _ = debian_app
    target = f"{registry}/pyctest/build-{secrets.token_hex(4)}:v1"
    shared_pyc.ok("tag", name, target)
    shared_pyc.ok("push", target)
    state = Path(tempfile.mkdtemp(prefix="podb-", dir="/tmp"))  # runroot: 50 chars at most
    (state / "xdg").mkdir(mode=0o700)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(state / "xdg")}
    podman = ["podman", "--root", str(state / "root"), "--runroot", str(state / "run"),
              "--runtime", "runc", "--cgroup-manager", "cgroupfs", "--events-backend", "file"]
    try:
        pulled = subprocess.run([*podman, "pull", "-q", "--tls-verify=false", target],
                                capture_output=True, text=True, env=env, timeout=300)
        assert pulled.returncode == 0, pulled.stderr
        ran = subprocess.run([*podman, "run", "--rm", target], capture_output=True,
                             text=True, env=env, timeout=300)
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout == "hello from the builder\n"
    finally:
        subprocess.run([*podman, "system", "reset", "--force"], capture_output=True, env=env,
                       timeout=300)
        subprocess.run(["podman", "unshare", "rm", "-rf", str(state)], capture_output=True,
                       env=env, timeout=300)


def test_add_url_with_checksum_and_image_build_alias(
        shared_pyc: Pyc, fixture_refs: dict[str, str], tmp_path: Path) -> None:
    import functools
    import hashlib
    import http.server
    import threading

    served = tmp_path / "www"
    served.mkdir()
    (served / "tool.txt").write_text("downloaded\n")
    digest = "sha256:" + hashlib.sha256(b"downloaded\n").hexdigest()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/tool.txt"
    try:
        good = write_context(tmp_path / "good", {"Dockerfile": (
            f"FROM {fixture_refs['busybox']}\nADD --checksum={digest} {url} /downloads/\n")})
        name = tag()
        shared_pyc.ok("image", "build", "--platform", "linux/amd64", "-t", name, str(good))
        assert run_in(shared_pyc, name, "cat /downloads/tool.txt; stat -c %a "
                      "/downloads/tool.txt") == "downloaded\n600\n"
        bad = write_context(tmp_path / "bad", {"Dockerfile": (
            f"FROM {fixture_refs['busybox']}\nADD --checksum=sha256:{'0' * 64} {url} /d/\n")})
        res = shared_pyc.fail("build", str(bad), rc=125)
        assert "digest mismatch" in res.err
    finally:
        server.shutdown()


def test_a_build_stopped_mid_run_leaves_nothing(pyc: Pyc, fixture_refs: dict[str, str],
                                                tmp_path: Path) -> None:
    import signal
    import time

    pyc.ok("pull", "-q", fixture_refs["busybox"])
    marker = f"marker-{secrets.token_hex(6)}"
    ctx = write_context(tmp_path / "ctx", {"Dockerfile": (
        f"FROM {fixture_refs['busybox']}\nRUN echo started && sleep 60 && echo {marker}\n")})
    before = _state(pyc)
    proc = subprocess.Popen(pyc.argv("build", "-t", "stopped", str(ctx)), env=pyc.env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while "started" not in proc.stdout.readline() and time.monotonic() < deadline:
        pass
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 130
    assert _state(pyc) == before
    ps = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True)
    assert ps.stdout.strip() == ""
