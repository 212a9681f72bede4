"""dist/pyc.pyz: one file that runs with a bare `python3 -S` (no site-packages at all).

The harness builds the zipapp (PYC_TEST_ZIPAPP); without it the test builds one itself.
Each test copies it into an empty directory and gives it a private HOME, so the per-user
extraction cache starts empty and nothing from the venv or the checkout can be imported.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.runner import DEBIAN_USER_PATH, Pyc

REPO = Path(__file__).resolve().parents[2]
SYSTEM_PYTHON = "/usr/bin/python3"


@pytest.fixture(scope="session")
def zipapp_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    built = os.environ.get("PYC_TEST_ZIPAPP")
    if built and Path(built).is_file():
        return Path(built)
    out = tmp_path_factory.mktemp("zipapp") / "pyc.pyz"
    subprocess.run([sys.executable, str(REPO / "packaging" / "zipapp" / "build.py"),
                    "--out", str(out)], check=True, capture_output=True, timeout=600)
    return out


class Zipapp:
    def __init__(self, pyz: Path, home: Path, pyc: Pyc) -> None:
        self.pyz, self.home, self.pyc = pyz, home, pyc
        # nothing inherited: no PYTHONPATH, no venv on PATH, a fresh HOME for the cache
        self.env = {"PATH": DEBIAN_USER_PATH, "HOME": str(home),
                    "LANG": "C.UTF-8"}

    @property
    def cache(self) -> Path:
        return self.home / ".cache" / "pycontainer" / "zipapp"

    def run(self, *args: str, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        full = {**self.env, **(env or {})}
        argv = [SYSTEM_PYTHON, "-S", str(self.pyz), "--root", str(self.pyc.root),
                "--runroot", str(self.pyc.runroot), *args]
        return subprocess.run(argv, env=full, cwd=self.pyz.parent, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def _copy_alone(zipapp_file: Path, base: Path) -> tuple[Path, Path]:
    """The zipapp alone in an empty directory, and an empty HOME."""
    if not os.path.exists(SYSTEM_PYTHON):
        pytest.fail(f"{SYSTEM_PYTHON} is missing")
    (base / "empty").mkdir()
    (base / "home").mkdir()
    pyz = base / "empty" / "pyc.pyz"
    shutil.copy2(zipapp_file, pyz)
    return pyz, base / "home"


@pytest.fixture(scope="module")
def _shared_copy(zipapp_file: Path, tmp_path_factory: pytest.TempPathFactory,
                 ) -> tuple[Path, Path]:
    # extracting and byte-compiling takes seconds: tests that do not examine it share one
    return _copy_alone(zipapp_file, tmp_path_factory.mktemp("zipapp-shared"))


@pytest.fixture
def zipapp(_shared_copy: tuple[Path, Path], pyc: Pyc) -> Zipapp:
    return Zipapp(*_shared_copy, pyc)


@pytest.fixture
def fresh_zipapp(zipapp_file: Path, tmp_path: Path, pyc: Pyc) -> Zipapp:
    """A zipapp with an empty cache, for tests of the extraction itself."""
    return Zipapp(*_copy_alone(zipapp_file, tmp_path), pyc)


def test_system_python_cannot_import_the_dependencies_by_itself() -> None:
    # the premise of the other tests: a site-less interpreter has none of pyc's dependencies
    res = subprocess.run([SYSTEM_PYTHON, "-S", "-c", "import typer"], capture_output=True,
                         env={"PATH": "/usr/bin:/bin"})
    assert res.returncode != 0


def test_zipapp_info_as_json_without_site_packages(zipapp: Zipapp) -> None:
    res = zipapp.run("info", "--format", "json")
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["store"]["graphRoot"] == str(zipapp.pyc.root)
    assert report["host"]["rootless"] is True
    assert report["version"]["PythonVersion"].startswith("3.")


def test_zipapp_version(zipapp: Zipapp) -> None:
    res = zipapp.run("version", "--format", "json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["Client"]["Version"]
    plain = zipapp.run("version")
    assert plain.returncode == 0 and "Version:" in plain.stdout


def test_zipapp_extracts_once_into_the_user_cache(fresh_zipapp: Zipapp) -> None:
    zipapp = fresh_zipapp
    assert zipapp.run("version").returncode == 0
    trees = list(zipapp.cache.iterdir())
    assert len(trees) == 1, trees
    tree = trees[0]
    assert (tree / "pycontainer" / "__init__.py").is_file()
    assert (tree / "typer").is_dir()
    assert not (tree / "_native").exists()
    assert re.fullmatch(r"[0-9a-f]{32}-cp3\d+", tree.name), tree.name
    marker = (tree / "pycontainer" / "__init__.py").stat().st_mtime_ns
    assert zipapp.run("version").returncode == 0
    assert list(zipapp.cache.iterdir()) == [tree]
    assert (tree / "pycontainer" / "__init__.py").stat().st_mtime_ns == marker
    # no half-finished extraction left behind
    assert not [p for p in zipapp.cache.iterdir() if p.name.startswith(".extract-")]


def test_zipapp_falls_back_when_the_home_cache_is_unwritable(zipapp: Zipapp,
                                                             tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    res = zipapp.run("version", env={"XDG_CACHE_HOME": str(locked), "TMPDIR": str(tmpdir)})
    assert res.returncode == 0, res.stderr
    assert list(locked.iterdir()) == []
    assert list(tmpdir.glob(f"pycontainer-zipapp-{os.getuid()}/*-cp*"))


def test_zipapp_without_any_writable_cache_says_so(zipapp: Zipapp, tmp_path: Path) -> None:
    # typer needs pydantic_core, a compiled module that cannot be imported from a zip
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    res = zipapp.run("version", env={"XDG_CACHE_HOME": str(locked), "TMPDIR": str(locked)})
    assert res.returncode == 125, res.stdout + res.stderr
    assert "could not extract itself" in res.stderr
    assert "Traceback" not in res.stderr


def test_supervisor_style_reexec_works_from_the_extracted_zipapp(zipapp: Zipapp) -> None:
    """pycontainer.selfexec.python_argv must give a working `python -S` command line."""
    assert zipapp.run("version").returncode == 0
    (tree,) = list(zipapp.cache.iterdir())  # the shared HOME only ever saw this build
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from pycontainer import selfexec; import json;"
        "print(json.dumps(selfexec.python_argv('pycontainer', 'version', '--format', 'json')))"
    )
    argv = json.loads(subprocess.run([SYSTEM_PYTHON, "-S", "-c", probe, str(tree)],
                                     check=True, capture_output=True, text=True,
                                     env=zipapp.env).stdout)
    assert argv[:2] == [SYSTEM_PYTHON, "-S"]
    assert str(tree) in argv[3]
    res = subprocess.run(argv, capture_output=True, text=True, env=zipapp.env,
                         cwd=zipapp.pyz.parent, timeout=60)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["Client"]["Version"]


def test_zipapp_runs_a_container(zipapp: Zipapp, fixture_refs: dict[str, str]) -> None:
    """The full path: pull, then run, which starts the supervisor from the extracted tree."""
    pulled = zipapp.run("pull", fixture_refs["busybox"], timeout=300)
    assert pulled.returncode == 0, pulled.stderr
    res = zipapp.run("run", "--rm", fixture_refs["busybox"], "echo", "hello from the zipapp",
                     timeout=180)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "hello from the zipapp\n"
