"""Fixtures for integration tests: real pyc processes, the local registry, fixture images.

API (other tests are written against exactly this):

    registry        (session)  "127.0.0.1:5000", from PYC_TEST_REGISTRY
    fixture_refs    (session)  {"busybox": "127.0.0.1:5000/fixtures/busybox:latest",
                                "debian":  "127.0.0.1:5000/fixtures/debian:bookworm"}
    fixture_info    (session)  all of fixtures.json: refs, manifest digests, OCI layout dirs and
                               what the busybox image holds ("busybox": mkimage.BUSYBOX_FACTS)
    pyc             (function) a pyc with its own --root <tmp>/root, --runroot /tmp/pyct-XXXXXX:
                                 pyc(*args, input=None, timeout=120, env=None)
                                     -> Result(rc, out, err)   (text; out.lines too)
                                 pyc.ok(*args, ...)  asserts rc == 0, returns the Result
                                 pyc.fail(*args, rc=125, ...) asserts that exit status
                                 pyc.argv(*args) full argv for Popen; pyc.env its environment
                                 pyc.root, pyc.runroot
                               teardown: pyc rm -f every container, kill processes mentioning
                               the state dirs, remove the state (also files owned by subuids)
    shared_pyc      (session)  the same, one state for the whole session: pull once, reuse
    nosub_pyc       (function) a pyc run as PYC_TEST_NOSUB_USER (no subordinate ids, no /dev/fuse)
                               through `sudo -n -u`; runs the same pyc executable

Prerequisites: under the harness (PYC_TEST_HOST_READY=1) a missing prerequisite FAILS the
test, so a green run means everything really ran; without it the test is skipped.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest
from helpers import registry as reg
from helpers.runner import Pyc, pyc_command

HOST_READY = os.environ.get("PYC_TEST_HOST_READY") == "1"
DEFAULT_REGISTRY = "127.0.0.1:5000"
DEFAULT_FIXTURES = "/var/lib/pyc-test/fixtures.json"
PREPARE_HINT = "prepare the host with `sudo scripts/test --prepare`"


def missing(reason: str) -> NoReturn:
    """A prerequisite is missing: fail under the harness, skip elsewhere."""
    if HOST_READY:
        pytest.fail(f"prerequisite missing (PYC_TEST_HOST_READY=1): {reason}", pytrace=False)
    pytest.skip(f"{reason}; {PREPARE_HINT}")


def _has_subids(uid: int) -> bool:
    name = pwd.getpwuid(uid).pw_name
    for path in ("/etc/subuid", "/etc/subgid"):
        try:
            lines = Path(path).read_text().splitlines()
        except OSError:
            return False
        if not any(line.split(":")[0] in (name, str(uid)) for line in lines):
            return False
    return True


@pytest.fixture(scope="session")
def _host_prerequisites() -> None:
    uid = os.getuid()
    if uid == 0:
        missing("integration tests run as an unprivileged user, not root")
    if not _has_subids(uid):
        missing(f"user {pwd.getpwuid(uid).pw_name} has no range in /etc/subuid and /etc/subgid")


@pytest.fixture(autouse=True)
def _integration_prerequisites(_host_prerequisites: None) -> None:
    """Every integration test needs an unprivileged user with subordinate ids."""


@pytest.fixture(scope="session")
def fixture_info(_host_prerequisites: None) -> dict[str, Any]:
    path = Path(os.environ.get("PYC_TEST_FIXTURES", DEFAULT_FIXTURES))
    try:
        info: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        missing(f"cannot read the fixture list {path}: {exc}")
    return info


@pytest.fixture(scope="session")
def registry(_host_prerequisites: None) -> str:
    addr = os.environ.get("PYC_TEST_REGISTRY", DEFAULT_REGISTRY)
    if not reg.is_up(addr, timeout=5):
        missing(f"no registry answers at http://{addr}/v2/")
    return addr


@pytest.fixture(scope="session")
def fixture_refs(registry: str, fixture_info: dict[str, Any]) -> dict[str, str]:
    refs: dict[str, str] = {}
    for name, ref in fixture_info["refs"].items():
        # fixtures.json names the harness's registry; follow PYC_TEST_REGISTRY if it differs
        host, repo, tag = reg.split_ref(ref)
        found = reg.manifest(registry, repo, tag)
        if found is None:
            missing(f"the registry {registry} has no {repo}:{tag}")
        refs[name] = f"{registry}/{repo}:{tag}"
    return refs


def _finish(runner: Pyc) -> None:
    problems = runner.cleanup()
    # Leftover state is reported, not fatal: the test's own outcome is what matters, and a
    # failing teardown would hide it. Leaked processes are a real bug, though.
    leaked = [p for p in problems if p.startswith("killed")]
    if leaked:
        pytest.fail(f"pyc left processes behind after the test: {leaked[0]}", pytrace=False)


@pytest.fixture
def pyc(tmp_path: Path) -> Iterator[Pyc]:
    runner = Pyc.create(tmp_path / "pyc")
    yield runner
    _finish(runner)


@pytest.fixture(scope="session")
def shared_pyc(_host_prerequisites: None) -> Iterator[Pyc]:
    base = Path(tempfile.mkdtemp(prefix="pyc-shared-"))
    runner = Pyc.create(base)
    yield runner
    runner.cleanup()
    shutil.rmtree(base, ignore_errors=True)


NOSUB_USER = os.environ.get("PYC_TEST_NOSUB_USER", "pycnosub")


@pytest.fixture
def nosub_pyc(tmp_path: Path) -> Iterator[Pyc]:
    """pyc run as the user without subordinate ids (sudo rule installed by scripts/test)."""
    prefix = ["sudo", "-n", "-u", NOSUB_USER, "--"]
    probe = subprocess.run([*prefix, "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        missing(f"cannot run commands as {NOSUB_USER} with `sudo -n`: {probe.stderr.strip()}")
    exe = pyc_command()
    # sudo resets PATH and the environment, so the command must be absolute and the state
    # dirs must live where that user can write (its own /tmp dirs).
    if not os.path.isabs(exe[0]):
        exe[0] = shutil.which(exe[0]) or exe[0]
    base = Path(subprocess.run([*prefix, "mktemp", "-d", "/tmp/pyct-home-XXXXXX"], check=True,
                               capture_output=True, text=True).stdout.strip())
    runner = Pyc.create(base, exe=exe, prefix=prefix)
    yield runner
    runner.cleanup()
    subprocess.run([*prefix, "rm", "-rf", str(base)], capture_output=True)
