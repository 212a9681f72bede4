"""Running `pyc` as a subprocess with its own isolated state, and cleaning up after it.

The `pyc` and `shared_pyc` fixtures (tests/integration/conftest.py) are instances of `Pyc`.
Tests may build more, e.g. one that runs pyc as another user through sudo:

    other = Pyc.create(tmp_path, prefix=["sudo", "-n", "-u", "pycnosub"])
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

#: an ordinary Debian user's PATH (/etc/login.defs ENV_PATH): no sbin directories, so nft
#: and friends are not on it; scripts/test gives the test user exactly this (plus the venv)
DEBIAN_USER_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games"

#: Unix socket paths must stay under 108 bytes, so runroots are short dirs right under /tmp.
RUNROOT_PREFIX = "/tmp/pyct-"


class Result(NamedTuple):
    rc: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        """stdout split into lines, without the trailing empty one."""
        return self.out.splitlines()


def pyc_command() -> list[str]:
    """How to start pyc: $PYC_TEST_PYC, the venv's `pyc` next to this Python, PATH's `pyc`,
    or `python -m pycontainer`.

    PYC_TEST_PYC lets the whole suite run against another build, e.g. "python3 dist/pyc.pyz".
    """
    override = os.environ.get("PYC_TEST_PYC")
    if override:
        return shlex.split(override)
    beside = Path(sys.executable).parent / "pyc"
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which("pyc")
    if found:
        return [found]
    return [sys.executable, "-m", "pycontainer"]


def _describe(argv: Sequence[str], res: Result) -> str:
    return (f"$ {shlex.join(argv)}\nexit status {res.rc}\n--- stdout ---\n{res.out}"
            f"--- stderr ---\n{res.err}")


class Pyc:
    """A pyc with its own `--root` and `--runroot`.

    `pyc(*args)` runs it and returns Result(rc, out, err) whatever the exit status;
    `pyc.ok(*args)` also asserts rc == 0 and `pyc.fail(*args, rc=125)` asserts that status.
    """

    def __init__(self, root: Path, runroot: Path, exe: Sequence[str] | None = None,
                 env: Mapping[str, str] | None = None, prefix: Sequence[str] = ()) -> None:
        self.root = root
        self.runroot = runroot
        self.exe = list(exe) if exe is not None else pyc_command()
        #: run before the pyc command, e.g. ["sudo", "-n", "-u", "pycnosub"]
        self.prefix = list(prefix)
        base = dict(os.environ if env is None else env)
        # Children that inherit this environment (a shell in a test, pyc's own helpers) find
        # the same state; the config dir is private so a developer's config cannot leak in.
        base["PYC_ROOT"] = str(root)
        base["PYC_RUNROOT"] = str(runroot)
        base.setdefault("XDG_CONFIG_HOME", str(root.parent / "config"))
        self.env: dict[str, str] = base

    @classmethod
    def create(cls, base: Path, exe: Sequence[str] | None = None,
               env: Mapping[str, str] | None = None, prefix: Sequence[str] = ()) -> Pyc:
        """A runner whose root is `base/root` and whose runroot is a fresh /tmp/pyct-XXXXXX."""
        base.mkdir(parents=True, exist_ok=True)
        root = base / "root"
        if prefix:
            # Another user must own its state: let it create the directories itself.
            runroot = Path(subprocess.run([*prefix, "mktemp", "-d", RUNROOT_PREFIX + "XXXXXX"],
                                          check=True, capture_output=True,
                                          text=True).stdout.strip())
            subprocess.run([*prefix, "mkdir", "-p", str(root)], check=True)
        else:
            runroot = Path(tempfile.mkdtemp(prefix=os.path.basename(RUNROOT_PREFIX),
                                            dir=os.path.dirname(RUNROOT_PREFIX)))
            root.mkdir(exist_ok=True)
        return cls(root, runroot, exe=exe, env=env, prefix=prefix)

    def argv(self, *args: str) -> list[str]:
        """The full argv of `pyc args...` (for Popen, e.g. to test attach or signals)."""
        return [*self.prefix, *self.exe, "--root", str(self.root), "--runroot",
                str(self.runroot), *map(str, args)]

    def __call__(self, *args: str, input: str | None = None, timeout: float = 120,
                 env: Mapping[str, str] | None = None) -> Result:
        full_env = dict(self.env)
        if env:
            full_env.update(env)
        argv = self.argv(*args)
        try:
            proc = subprocess.run(argv, input=input, capture_output=True, text=True,
                                  timeout=timeout, env=full_env,
                                  stdin=None if input is not None else subprocess.DEVNULL)
        except subprocess.TimeoutExpired as exc:
            out = _text(exc.stdout)
            err = _text(exc.stderr)
            raise AssertionError(
                f"$ {shlex.join(argv)}\ntimed out after {timeout}s\n--- stdout ---\n{out}"
                f"--- stderr ---\n{err}") from None
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def ok(self, *args: str, input: str | None = None, timeout: float = 120,
           env: Mapping[str, str] | None = None) -> Result:
        res = self(*args, input=input, timeout=timeout, env=env)
        assert res.rc == 0, _describe(self.argv(*args), res)
        return res

    def fail(self, *args: str, rc: int = 125, input: str | None = None, timeout: float = 120,
             env: Mapping[str, str] | None = None) -> Result:
        res = self(*args, input=input, timeout=timeout, env=env)
        assert res.rc == rc, f"expected exit status {rc}\n" + _describe(self.argv(*args), res)
        return res

    # --- teardown -------------------------------------------------------------------------

    def cleanup(self) -> list[str]:
        """Remove containers, stray processes and all state. Returns what went wrong."""
        problems: list[str] = []
        try:
            listed = self("ps", "-aq", timeout=60)
            ids = listed.out.split() if listed.rc == 0 else []
            if ids:
                removed = self("rm", "-f", *ids, timeout=120)
                if removed.rc != 0:
                    problems.append(f"pyc rm -f failed: {removed.err.strip()}")
        except AssertionError as exc:  # a timeout: carry on, the kill below still helps
            problems.append(str(exc).splitlines()[1])
        killed = kill_processes_mentioning([str(self.runroot), str(self.root)])
        if killed:
            problems.append(f"killed {len(killed)} leftover process(es): {killed}")
        for path in (self.root, self.runroot):
            err = self.remove_tree(path)
            if err:
                problems.append(err)
        return problems

    def remove_tree(self, path: Path) -> str | None:
        """Remove a tree that may hold files owned by subordinate ids."""
        if not os.path.lexists(path):
            return None
        if self.prefix:
            subprocess.run([*self.prefix, "rm", "-rf", str(path)], capture_output=True)
            return None if not os.path.lexists(path) else f"could not remove {path}"
        _chmod_writable(path)
        shutil.rmtree(path, ignore_errors=True)
        if not os.path.lexists(path):
            return None
        # Files owned by container ids: remove them as root of a user namespace mapping them.
        res = self("unshare", "rm", "-rf", str(path), timeout=120)
        if res.rc == 0 and not os.path.lexists(path):
            return None
        status = rm_in_userns(path)
        if os.path.lexists(path):
            return f"could not remove {path} (user namespace rm exited {status})"
        return None


def _text(data: str | bytes | None) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data


def _chmod_writable(path: Path) -> None:
    # Images contain read-only directories (e.g. 0555 /proc); rmtree needs to write to them.
    for dirpath, dirnames, _ in os.walk(path):
        for name in dirnames:
            p = os.path.join(dirpath, name)
            try:
                st = os.lstat(p)
                if st.st_uid == os.getuid() and not st.st_mode & 0o200:
                    os.chmod(p, 0o700)
            except OSError:
                pass


def rm_in_userns(path: Path) -> int:
    """rm -rf `path` inside a user namespace that maps the user's subordinate ids."""
    from pycontainer.linux import userns

    def child() -> int:
        _chmod_all(path)
        shutil.rmtree(path, ignore_errors=True)
        return 0 if not os.path.lexists(path) else 1

    return userns.run_in_userns(child, userns.default_mapping())


def _chmod_all(path: Path) -> None:
    for dirpath, dirnames, _ in os.walk(path):
        for name in dirnames:
            with contextlib.suppress(OSError):
                os.chmod(os.path.join(dirpath, name), 0o700)


def _ppids() -> dict[int, int]:
    out: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # the command name may contain spaces and parentheses: parse after the last ')'
        fields = stat[stat.rfind(b")") + 2:].split()
        out[int(entry)] = int(fields[1])
    return out


def _mentions(pid: int, needles: list[bytes]) -> bool:
    for name in ("environ", "cmdline"):
        try:
            with open(f"/proc/{pid}/{name}", "rb") as f:
                data = f.read()
        except OSError:
            continue
        if any(n in data for n in needles):
            return True
    return False


def kill_processes_mentioning(needles: list[str]) -> list[int]:
    """SIGKILL every process whose environment or command line mentions one of `needles`,
    and all their descendants (container processes in namespaces the user owns)."""
    me = os.getpid()
    wanted = [n.encode() for n in needles if n]
    killed: list[int] = []
    for _ in range(5):
        parents = _ppids()
        roots = {p for p in parents if p != me and _mentions(p, wanted)}
        if not roots:
            break
        victims = set(roots)
        grew = True
        while grew:
            grew = False
            for pid, ppid in parents.items():
                if ppid in victims and pid not in victims and pid != me:
                    victims.add(pid)
                    grew = True
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            except OSError:
                pass
        time.sleep(0.2)
    return sorted(set(killed))
