"""`pyc system df|prune` helpers: Docker's confirmation text and size columns."""

from __future__ import annotations

import pytest

from pycontainer.cli import system
from pycontainer.errors import UsageError
from pycontainer.ops import sysmaint


def test_prune_warning_default() -> None:
    assert system.prune_warning(False, False, []) == (
        "WARNING! This will remove:\n"
        "  - all stopped containers\n"
        "  - all networks not used by at least one container\n"
        "  - all dangling images\n"
        "  - unused build cache\n\n"
        "Are you sure you want to continue?")


def test_prune_warning_all_volumes_filters() -> None:
    text = system.prune_warning(True, True, ["until=10m", "label=b", "label!=a"])
    assert "  - all anonymous volumes not used by at least one container\n" in text
    assert "  - all images without at least one container associated to them\n" in text
    assert "  - all build cache\n" in text
    assert text.endswith("\n\n  Items to be pruned will be filtered with:\n"
                         "  - label!=a\n  - label=b\n  - until=10m\n\n"
                         "Are you sure you want to continue?")


def test_reclaimable_column() -> None:
    assert system._reclaimable(2_631_000_000, 2_498_000_000) == "2.498GB (94%)"
    assert system._reclaimable(0, 0) == "0B"
    assert system._reclaimable(158, 158, percent=False) == "158B"


def test_prune_filter_checks() -> None:
    assert sysmaint.check_prune_filters(False, ["until=1h", "label=a"]) == {
        "until": ["1h"], "label": ["a"]}
    with pytest.raises(UsageError, match='"until" filter is not supported with "--volumes"'):
        sysmaint.check_prune_filters(True, ["until=1h"])
    with pytest.raises(UsageError):
        sysmaint.check_prune_filters(False, ["dangling=true"])
    with pytest.raises(UsageError):
        sysmaint.check_prune_filters(False, ["until=yesterday"])
