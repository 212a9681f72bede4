"""The store is private to its user: another user (pycnosub, through `sudo -n -u`) can neither
list it, nor read a container's environment or log, nor run a setuid file from an image layer.

The `pyc` fixture's --root lives under pytest's 0700 tmp dir, which hides it whatever pyc does;
these tests put the store under a 0755 dir in /tmp, as `~/.local/share` sits in a 0755 home.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.runner import Pyc

NOSUB_USER = os.environ.get("PYC_TEST_NOSUB_USER", "pycnosub")
SUDO_NOSUB = ["sudo", "-n", "-u", NOSUB_USER, "--"]
SECRET = "PASSWORD=hunter2-privacy"


def as_other(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SUDO_NOSUB, *argv], capture_output=True, text=True, timeout=60)


@pytest.fixture
def open_pyc() -> Iterator[Pyc]:
    """A pyc whose --root is reachable by other users unless pyc makes it private."""
    probe = as_other("true")
    if probe.returncode != 0:
        pytest.fail(f"cannot run commands as {NOSUB_USER}: {probe.stderr.strip()}")
    base = Path(tempfile.mkdtemp(prefix="pyct-priv-", dir="/tmp"))
    base.chmod(0o755)
    runner = Pyc.create(base)
    runner.root.chmod(0o755)
    yield runner
    runner.cleanup()
    shutil.rmtree(base, ignore_errors=True)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_another_user_cannot_list_the_store_or_read_env_and_log(
        open_pyc: Pyc, fixture_refs: dict[str, str]) -> None:
    open_pyc.ok("run", "--name", "secret", "-e", SECRET, fixture_refs["busybox"],
                "echo", "logged-line")
    cid = open_pyc.ok("inspect", "--format", "{{.Id}}", "secret").out.strip()
    config = open_pyc.root / "containers" / cid / "config.json"
    log = open_pyc.root / "containers" / cid / "userdata" / "ctr.log"
    # the records are really there, and hold the secret, for the owner
    assert "hunter2-privacy" in config.read_text()
    assert "logged-line" in log.read_text()
    for argv in (["ls", str(open_pyc.root)], ["cat", str(config)], ["cat", str(log)]):
        res = as_other(*argv)
        assert res.returncode != 0 and "Permission denied" in res.stderr, (argv, res)
        assert "hunter2" not in res.stdout and "logged-line" not in res.stdout
    assert mode(open_pyc.root) == 0o700


def _suid_tar(tmp: Path) -> Path:
    """A rootfs with /suid: a copy of id(1), setuid and owned by the container's root (the
    user), which is what `RUN cp /bin/busybox /suid && chmod 4755 /suid` makes."""
    out = tmp / "suid.tar"
    data = Path(shutil.which("id") or "/usr/bin/id").read_bytes()
    with tarfile.open(out, "w") as tar:
        info = tarfile.TarInfo("suid")
        info.size, info.mode, info.uid, info.gid = len(data), 0o4755, 0, 0
        tar.addfile(info, io.BytesIO(data))
    return out


def test_another_user_cannot_run_a_setuid_file_from_a_layer(open_pyc: Pyc,
                                                             tmp_path: Path) -> None:
    open_pyc.ok("import", str(_suid_tar(tmp_path)), "privacy/suid:1")
    found = [p for p in open_pyc.root.rglob("suid")
             if p.is_file() and p.stat().st_mode & stat.S_ISUID]
    assert found, "the setuid file is not in any layer dir"
    for path in found:
        assert path.stat().st_uid == os.getuid()  # it would run as this user
        res = as_other(str(path), "-u")
        assert res.returncode != 0, f"{NOSUB_USER} ran {path} as uid {res.stdout.strip()}"
        assert "Permission denied" in res.stderr, res


def test_an_old_0755_store_is_tightened_once_with_a_notice(
        open_pyc: Pyc, fixture_refs: dict[str, str]) -> None:
    open_pyc.ok("pull", "-q", fixture_refs["busybox"])
    open_pyc.root.chmod(0o755)  # as pyc before this fix left it
    first = open_pyc.ok("images", "-q")
    assert mode(open_pyc.root) == 0o700
    assert first.out.strip(), "the store still serves its images"
    notices = [line for line in first.err.splitlines() if "NOTICE" in line]
    assert len(notices) == 1 and str(open_pyc.root) in notices[0], first.err
    assert "0755" in notices[0] and "0700" in notices[0]
    again = open_pyc.ok("images", "-q")
    assert "NOTICE" not in again.err, again.err


def test_a_fresh_store_is_private_and_the_check_passes(open_pyc: Pyc) -> None:
    store = open_pyc.root.parent / "fresh"
    res = Pyc(store, open_pyc.runroot).ok("system", "check")
    assert mode(store) == 0o700
    assert "NOTICE" not in res.err
    rows = [line for line in res.out.splitlines() if "  store  " in line]
    assert len(rows) == 1 and rows[0].startswith("PASS"), res.out


def test_a_new_runtime_dir_is_private(open_pyc: Pyc, fixture_refs: dict[str, str]) -> None:
    runroot = open_pyc.root.parent / "run"  # not there yet: `run` makes it
    Pyc(open_pyc.root, runroot).ok("run", "--rm", fixture_refs["busybox"], "true")
    assert mode(runroot) == 0o700


def test_the_cache_dir_is_private(open_pyc: Pyc, tmp_path: Path) -> None:
    cache = tmp_path / "xdg-cache"
    open_pyc.ok("images", env={"XDG_CACHE_HOME": str(cache)})
    files = list((cache / "pycontainer").iterdir())
    assert files, "the dataclass cache was not written"
    assert mode(cache / "pycontainer") == 0o700
    assert all(mode(f) == 0o600 for f in files), [oct(mode(f)) for f in files]
    (cache / "pycontainer").chmod(0o755)
    res = open_pyc.ok("images", env={"XDG_CACHE_HOME": str(cache)})
    assert mode(cache / "pycontainer") == 0o700
    assert "NOTICE: cache" in res.err, res.err


def test_a_readable_credentials_file_is_tightened(open_pyc: Pyc, registry: str,
                                                  fixture_refs: dict[str, str],
                                                  tmp_path: Path) -> None:
    auth = tmp_path / "auth.json"
    auth.write_text(json.dumps({"auths": {registry: {"auth": "dXNlcjpwYXNz"}}}))
    auth.chmod(0o644)
    res = open_pyc("pull", "-q", fixture_refs["busybox"], env={"REGISTRY_AUTH_FILE": str(auth)})
    assert mode(auth) == 0o600, res
    assert "NOTICE: credentials file" in res.err and str(auth) in res.err
