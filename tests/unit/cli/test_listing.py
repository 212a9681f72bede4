"""Podman's `--sort` and `--noheading` for `ps` and `images` (cli/listing.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pycontainer.cli import listing
from pycontainer.errors import UsageError


def test_noheading_drops_only_a_tables_title_line() -> None:
    table = "NAMES   IMAGE\na       busybox\nb       busybox\n"
    assert listing.without_header(table, None) == "a       busybox\nb       busybox\n"
    assert listing.without_header(table, "table {{.Names}}") == (
        "a       busybox\nb       busybox\n")
    assert listing.without_header("a\nb\n", "{{.Names}}") == "a\nb\n"  # no title to drop
    assert listing.without_header('{"a":1}\n', "json") == '{"a":1}\n'
    assert listing.without_header("NAMES\n", None) == ""


def test_ps_sort_orders_ascending_and_names_the_valid_keys() -> None:
    entries = [SimpleNamespace(name=n, created=c, command="x", id=n, image="i", size_rw=None,
                               state="exited") for n, c in (("b", "2"), ("a", "3"), ("c", "1"))]
    assert [e.name for e in listing.sort_ps(entries, "names")] == ["a", "b", "c"]
    assert [e.name for e in listing.sort_ps(entries, "created")] == ["c", "b", "a"]
    assert listing.sort_ps(entries, None) is entries
    with pytest.raises(UsageError, match='"bogus" is not a valid value.  Choose from: "command'):
        listing.sort_ps(entries, "bogus")


def test_images_sort_created_is_newest_first_the_rest_ascending() -> None:
    rows = [SimpleNamespace(created=c, id=i, repository=r, size=s, tag=t)
            for c, i, r, s, t in (("1", "b", "z", 3, "2"), ("2", "a", "y", 1, "1"))]
    assert [r.id for r in listing.sort_images(rows, "created")] == ["a", "b"]
    assert [r.id for r in listing.sort_images(rows, "repository")] == ["a", "b"]
    assert [r.id for r in listing.sort_images(rows, "size")] == ["a", "b"]
    assert [r.id for r in listing.sort_images(rows, "id")] == ["a", "b"]
    with pytest.raises(UsageError, match="not a valid field for sorting"):
        listing.sort_images(rows, "names")
