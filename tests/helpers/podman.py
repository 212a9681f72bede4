"""Rootless Podman 4.3 beside pyc, to compare Podman's CLI extensions line by line.

`Podman(base)` runs podman as the benchmarks do (runc, cgroupfs, file events, native
overlay, the local registry as plain HTTP through a private registries.conf) with its state
under `base`; `podman(*args)` returns the same `Result` as `Pyc`. `same(pyc_res, pm_res)`
compares two results as far as they can agree: the exit status and the output with ids,
sizes and ages replaced by placeholders (`shape`).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

from helpers.runner import Result

GLOBALS = ["--runtime", "runc", "--cgroup-manager", "cgroupfs", "--events-backend", "file",
           "--storage-driver", "overlay"]
#: podman's own warnings on this host, not part of any command's output
_NOISE = re.compile(r'^time=".*" level=warning msg=.*$\n?', re.M)
_SHAPES = ((re.compile(r"\b[0-9a-f]{64}\b"), "<ID>"), (re.compile(r"\b[0-9a-f]{12}\b"), "<ID>"),
           (re.compile(r"[0-9.]+ ?[kMG]?B\b"), "<SIZE>"),
           (re.compile(r"(About )?(an?|\d+) \w+ ago"), "<AGO>"), (re.compile(r" {2,}"), "  "))


class Podman:
    def __init__(self, base: Path, registry: str) -> None:
        self.base = base
        # podman wants a short runroot (socket paths); tmpdir and XDG_RUNTIME_DIR private
        self.runroot = Path(tempfile.mkdtemp(prefix="pycpm-", dir="/tmp"))
        conf = base / "registries.conf"
        base.mkdir(parents=True, exist_ok=True)
        conf.write_text(f'unqualified-search-registries = []\n[[registry]]\n'
                        f'location = "{registry}"\ninsecure = true\n')
        xdg = self.runroot / "xdg"
        xdg.mkdir(mode=0o700)
        self.env = {**os.environ, "CONTAINERS_REGISTRIES_CONF": str(conf),
                    "XDG_RUNTIME_DIR": str(xdg)}
        self.base_argv = ["podman", "--root", str(base / "root"), "--runroot",
                          str(self.runroot / "run"), "--tmpdir", str(self.runroot / "tmp"),
                          *GLOBALS]

    def __call__(self, *args: str, input: str | None = None, timeout: float = 120,
                 cwd: str | None = None) -> Result:
        proc = subprocess.run([*self.base_argv, *args], input=input, capture_output=True,
                              text=True, timeout=timeout, env=self.env, cwd=cwd,
                              stdin=None if input is not None else subprocess.DEVNULL)
        return Result(proc.returncode, proc.stdout, _NOISE.sub("", proc.stderr))

    def ok(self, *args: str, input: str | None = None, timeout: float = 120,
           cwd: str | None = None) -> Result:
        res = self(*args, input=input, timeout=timeout, cwd=cwd)
        assert res.rc == 0, f"$ podman {shlex.join(args)}: {res.rc}\n{res.out}{res.err}"
        return res

    def cleanup(self) -> None:
        for args in (("rm", "-af", "-t", "0"), ("system", "reset", "--force")):
            subprocess.run([*self.base_argv, *args], env=self.env, capture_output=True,
                           timeout=120)
        for path in (self.base, self.runroot):
            subprocess.run(["podman", "unshare", "rm", "-rf", str(path)], env=self.env,
                           capture_output=True, timeout=120)
            shutil.rmtree(path, ignore_errors=True)


def available() -> bool:
    return shutil.which("podman") is not None


def shape(text: str) -> str:
    """The output with what differs between engines by nature (ids, sizes, ages) masked."""
    for pattern, placeholder in _SHAPES:
        text = pattern.sub(placeholder, text)
    return text


def same(ours: Result, theirs: Result, stdout: bool = True) -> None:
    """Assert the same exit status and (with `stdout`) the same shaped standard output."""
    detail = (f"pyc: {ours.rc}\n{ours.out}{ours.err}--- podman: {theirs.rc}\n"
              f"{theirs.out}{theirs.err}")
    assert ours.rc == theirs.rc, detail
    if stdout:
        assert shape(ours.out) == shape(theirs.out), detail
