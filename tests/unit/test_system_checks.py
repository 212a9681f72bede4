"""`pyc system check` rows for programs only one feature needs."""

from __future__ import annotations

from pycontainer.ops import system


def test_missing_optional_program_warns_naming_feature_and_fix() -> None:
    check = system.check_optional_program("pyc-no-such-program", "pyc-pkg", "the feature")
    assert check.status == system.WARN
    assert "the feature" in check.detail
    assert check.fix == "sudo apt-get install pyc-pkg"


def test_optional_program_found_through_an_alternative() -> None:
    check = system.check_optional_program("pyc-no-such-program", "pkg", "x", ("sh",))
    assert check.status == system.PASS
    assert check.detail.endswith("sh (x)")
