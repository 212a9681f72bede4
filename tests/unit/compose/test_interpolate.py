"""Compose's variable interpolation."""

from __future__ import annotations

import pytest

from pycontainer.compose.interpolate import interpolate, substitute
from pycontainer.errors import ComposeError

ENV = {"SET": "v", "EMPTY": ""}


@pytest.mark.parametrize(("text", "want"), [
    ("${SET}", "v"), ("$SET/x", "v/x"), ("${UNSET}", ""), ("a$$b", "a$b"), ("$${SET}", "${SET}"),
    ("${UNSET:-d}", "d"), ("${EMPTY:-d}", "d"), ("${EMPTY-d}", ""), ("${UNSET-d}", "d"),
    ("${SET:-d}", "v"), ("${SET:+alt}", "alt"), ("${EMPTY:+alt}", ""), ("${EMPTY+alt}", "alt"),
    ("${UNSET:-${SET}x}", "vx"), ("pre-${SET}-post", "pre-v-post"),
])
def test_substitution(text: str, want: str) -> None:
    assert substitute(text, ENV) == want


@pytest.mark.parametrize("text", ["${UNSET:?need it}", "${EMPTY:?need it}", "${UNSET?need it}"])
def test_required_variable_names_itself(text: str) -> None:
    with pytest.raises(ComposeError, match=r"required variable (UNSET|EMPTY) is missing a "
                                           r"value: need it"):
        substitute(text, ENV, "services.web.image")


def test_required_but_empty_is_fine_without_the_colon() -> None:
    assert substitute("${EMPTY?x}", ENV) == ""


@pytest.mark.parametrize("text", ["${", "${SET", "$-", "${SET:x}", "${1}"])
def test_invalid_format_names_the_path(text: str) -> None:
    with pytest.raises(ComposeError, match="invalid interpolation format for services.a.image"):
        substitute(text, ENV, "services.a.image")


def test_only_values_are_interpolated_in_a_tree() -> None:
    tree = {"services": {"$SET": {"image": "${SET}", "ports": ["${SET}:1"], "tty": True}}}
    assert interpolate(tree, ENV) == {"services": {"$SET": {"image": "v", "ports": ["v:1"],
                                                            "tty": True}}}
