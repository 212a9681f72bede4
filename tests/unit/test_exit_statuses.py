"""One errno -> exit status table: the runtimes' errors (CLI), the supervisor's exit record
and the container's state all say the same, and say what Docker says."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pycontainer import errors
from pycontainer.runtime.base import ContainerError
from pycontainer.supervisor import main, protocol

# (stage, errno) -> Docker's status: 127 not found, 126 cannot invoke, 125 engine error
TABLE = [
    ("exec", 2, 127),    # ENOENT
    ("exec", 20, 127),   # ENOTDIR: a path component of the command is a file
    ("exec", 13, 126),   # EACCES
    ("exec", 1, 126),    # EPERM
    ("exec", 8, 126),    # ENOEXEC
    ("exec", 21, 126),   # EISDIR
    ("exec", 7, 125),    # E2BIG: pyc could not run it, the command is fine
    ("exec", 12, 125),   # ENOMEM
    ("exec", 0, 125),
    ("rootfs", 2, 125),  # a missing file while setting up is pyc's failure
    ("cgroup", 13, 125),
]


@pytest.mark.parametrize(("stage", "errno", "status"), TABLE)
def test_cli_status(stage: str, errno: int, status: int) -> None:
    exc = ContainerError(stage, errno, "m").to_exception("cmd")
    assert exc.exit_code == status


@pytest.mark.parametrize(("stage", "errno", "status"), TABLE)
def test_supervisor_exit_record_agrees(stage: str, errno: int, status: int,
                                       tmp_path: Path) -> None:
    sup = main.Supervisor.__new__(main.Supervisor)
    sup.cfg = protocol.SupervisorConfig(run_dir=str(tmp_path))
    sup.sync_fd, sup.pid, sup.helpers = -1, 0, []
    sup._wait_all = lambda timeout: None  # type: ignore[method-assign]
    assert sup._failed({"stage": stage, "errno": errno, "msg": "boom"}) == 0
    record = json.loads(Path(protocol.exit_file(str(tmp_path))).read_text())
    # Docker's State.ExitCode: 126/127 as the CLI's status, its own failures as 128
    assert record["exitCode"] == (128 if status == 125 else status)
    assert record["exitCode"] == errors.recorded_status(status)
    assert record["error"] == "boom"


def test_the_supervisor_needs_nothing_but_errors_for_it() -> None:
    # the table lives in a module that imports nothing (the supervisor stays small)
    source = Path(errors.__file__).read_text()
    assert "\nimport " not in source and "\nfrom pycontainer" not in source
    assert os.path.basename(errors.__file__) == "errors.py"
