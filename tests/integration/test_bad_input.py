"""Bad input gives one clear line on stderr (never a traceback or raw errno text), exit 125,
and changes nothing (issue #10, sections 5B and 6)."""

from __future__ import annotations

from tests.helpers.runner import Pyc, Result


def one_line_error(res: Result, *needles: str) -> str:
    """The single stderr line of a failed command, checked to be clean and to name `needles`."""
    assert res.rc == 125, res
    lines = [line for line in res.err.splitlines() if line.strip()]
    assert len(lines) == 1, res.err
    assert "Traceback" not in res.err and "[Errno" not in res.err, res.err
    for needle in needles:
        assert needle in lines[0], res.err
    return lines[0]


def test_placeholder(pyc: Pyc) -> None:
    pyc.ok("ps", "-a")
