"""Bad input is one clear line on stderr (never a traceback or raw `[Errno N]` text), exit
125, and changes nothing (issue #10, sections 5B and 6): names, mounts, signals, config
files, references, ports, env files, and a container whose records were cut short."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from helpers.runner import Pyc, Result

LONG = "a" * 300


def one_line_error(res: Result, *needles: str) -> str:
    """The single stderr line of a failed command, checked to be clean and to say `needles`."""
    assert res.rc == 125, res
    lines = [line for line in res.err.splitlines() if line.strip()]
    assert len(lines) == 1, res.err
    assert "Traceback" not in res.err and "[Errno" not in res.err, res.err
    for needle in needles:
        assert needle in lines[0], res.err
    return lines[0]


def no_containers(pyc: Pyc) -> None:
    assert pyc.ok("ps", "-aq").out == ""
    names = pyc.root / "containers" / "names"
    assert not names.exists() or os.listdir(names) == []


@pytest.fixture
def image(pyc: Pyc, fixture_refs: dict[str, str]) -> str:
    pyc.ok("pull", "-q", fixture_refs["busybox"])
    return fixture_refs["busybox"]


def test_long_and_bad_names_are_refused(pyc: Pyc, image: str) -> None:
    one_line_error(pyc("create", "--name", LONG, image), "Invalid container name",
                   "at most 200 characters")
    one_line_error(pyc("create", "--name", "a/b", image), "Invalid container name (a/b)")
    one_line_error(pyc("create", "--name", "..", image), "Invalid container name (..)")
    no_containers(pyc)
    one_line_error(pyc("volume", "create", LONG), "volume name is too long")
    one_line_error(pyc("create", "-v", f"{LONG}:/x", image), "volume name is too long")
    assert pyc.ok("volume", "ls", "-q").out == ""
    one_line_error(pyc("volume", "inspect", LONG), "No such volume")
    no_containers(pyc)
    pyc.ok("create", "--name", "short", image)
    one_line_error(pyc("rename", "short", LONG), "at most 200 characters")
    assert pyc.ok("ps", "-a", "--format", "{{.Names}}").out == "short\n"


def test_bind_source_that_cannot_be_made(pyc: Pyc, image: str, tmp_path: Path) -> None:
    one_line_error(pyc("create", "-v", "/proc/nonexistent/x:/x", image),
                   "error while creating mount source path '/proc/nonexistent/x'",
                   "no such file or directory")
    # the parent can be made, the leaf cannot (its name is too long): the parent goes again
    parent = tmp_path / "new"
    one_line_error(pyc("create", "-v", f"{parent}/{'b' * 300}:/x", image),
                   str(parent), "file name too long")
    assert not parent.exists()
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    one_line_error(pyc("create", "-v", f"{locked}/sub:/x", image), f"mkdir {locked}/sub",
                   "permission denied")
    no_containers(pyc)


def test_mount_over_root_and_bad_stop_signal(pyc: Pyc, image: str, tmp_path: Path) -> None:
    one_line_error(pyc("create", "-v", f"{tmp_path}:/", image), "invalid volume specification",
                   "destination can't be '/'")
    one_line_error(pyc("create", "--mount", f"type=bind,src={tmp_path},dst=/", image),
                   "destination can't be '/'")
    one_line_error(pyc("run", "--stop-signal", "BOGUS", image, "true"), "Invalid signal: BOGUS")
    no_containers(pyc)
    pyc.ok("create", "--stop-signal", "usr1", image)  # Docker's forms still work


@pytest.mark.parametrize("content, needle", [
    (b"\xff\xfe\x00\x01binary", "not a TOML text file"),
    (b"[engine\ncgroup_parent = \"/x", "Expected ']'"),
    (b"engine = 5\n", "engine must be a table"),
])
def test_bad_containers_conf(pyc: Pyc, image: str, content: bytes, needle: str) -> None:
    conf = Path(pyc.env["XDG_CONFIG_HOME"]) / "pycontainer" / "containers.conf"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_bytes(content)
    one_line_error(pyc("create", image), str(conf), needle)
    conf.unlink()
    no_containers(pyc)


@pytest.mark.parametrize("content, needle", [
    (b"\x00\x9f\x92\x96 garbage", "not a TOML text file"),
    (b"registry = 5\n", "registry must be an array of tables"),
    (b'[[registry]]\nlocation = "a"\nmirror = "x"\n', "mirror must be an array of tables"),
])
def test_bad_registries_conf(pyc: Pyc, fixture_refs: dict[str, str], content: bytes,
                             needle: str) -> None:
    conf = Path(pyc.env["XDG_CONFIG_HOME"]) / "pycontainer" / "registries.conf"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_bytes(content)
    one_line_error(pyc("pull", "-q", fixture_refs["busybox"]), str(conf), needle)
    assert pyc.ok("images", "-q").out == ""


def test_malformed_references_and_ports(pyc: Pyc, image: str) -> None:
    res = pyc("pull", "a b")
    one_line_error(res, "invalid reference format")
    assert res.out == ""  # not even "Using default tag"
    one_line_error(pyc("pull", "::"), "invalid reference format")
    one_line_error(pyc("run", "UPPER/case"), "must be lowercase")
    one_line_error(pyc("create", "-p", "99999:80", image), "invalid hostPort: 99999")
    one_line_error(pyc("create", "-p", "abc", image), "invalid containerPort: abc")
    no_containers(pyc)


def test_env_file_with_nul_or_bad_utf8(pyc: Pyc, image: str, tmp_path: Path) -> None:
    nul = tmp_path / "nul.env"
    nul.write_bytes(b"OK=1\nA=b\x00c\n")
    one_line_error(pyc("create", "--env-file", str(nul), image), str(nul), "line 2",
                   "NUL byte")
    binary = tmp_path / "bin.env"
    binary.write_bytes(b"A=\xff\xfe\n")
    one_line_error(pyc("create", "--env-file", str(binary), image), str(binary),
                   "invalid utf8 bytes at line 1")
    no_containers(pyc)


# --- a container whose records were cut short ------------------------------------------------


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _cid(pyc: Pyc, name: str) -> str:
    return pyc.ok("inspect", "-f", "{{.Id}}", name).out.strip()


def test_truncated_state_json(pyc: Pyc, image: str) -> None:
    pyc.ok("create", "--name", "good", image)
    pyc.ok("run", "-d", "--name", "bad", image, "sleep", "300")
    bad = _cid(pyc, "bad")
    pid = int(pyc.ok("inspect", "-f", "{{.State.Pid}}", "bad").out)
    state = pyc.root / "containers" / bad / "state.json"
    _truncate(state)

    rows = pyc.ok("ps", "-a", "--format", "{{.Names}}|{{.State}}|{{.Status}}").lines
    assert sorted(rows) == ["bad|dead|Dead (corrupt state.json)", "good|created|Created"]
    assert pyc.ok("ps", "-aq", "--filter", "status=dead").out.split() == [bad[:12]]
    for args in (("start", "bad"), ("stop", "bad"), ("inspect", "bad"), ("rm", "bad")):
        res = pyc(*args)
        assert res.rc != 0 and str(state) in res.err, (args, res)
        assert "Traceback" not in res.err and "[Errno" not in res.err, res.err
    pyc.ok("rm", "-f", "bad")
    assert not (pyc.root / "containers" / bad).exists()
    assert not (pyc.runroot / "containers" / bad).exists()
    assert not (pyc.root / "containers" / "names" / "bad").is_symlink()
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{pid}")  # its process was killed
    assert pyc.ok("ps", "-a", "--format", "{{.Names}}").out == "good\n"
    pyc.ok("create", "--name", "bad", image)  # the name is free again


def test_truncated_config_json(pyc: Pyc, image: str) -> None:
    pyc.ok("create", "--name", "good", image)
    pyc.ok("create", "--name", "bad", image)
    bad = _cid(pyc, "bad")
    _truncate(pyc.root / "containers" / bad / "config.json")
    rows = pyc.ok("ps", "-a", "--format", "{{.Names}}|{{.Status}}").lines
    assert sorted(rows) == ["bad|Dead (corrupt config.json)", "good|Created"]
    res = pyc("start", "bad")  # Docker's `start`: "Error response from daemon", status 1
    assert res.rc == 1 and "config.json" in res.err and "corrupt record" in res.err, res
    assert "Traceback" not in res.err and len(res.err.splitlines()) == 1, res.err
    pyc.ok("rm", "-f", "bad")
    assert not (pyc.root / "containers" / bad).exists()
    assert pyc.ok("ps", "-a", "--format", "{{.Names}}").out == "good\n"
