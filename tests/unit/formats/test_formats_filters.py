"""formats.filters against Docker's api/types/filters tests and docker-cli's FilterOpt."""

from __future__ import annotations

import json

import pytest

from pycontainer.errors import UsageError
from pycontainer.formats import filters


def test_parse_groups_values_by_key() -> None:
    parsed = filters.parse(["label=a=b", "label=c", "Name = web ", "label!=x", ""])
    assert parsed == {"label": ["a=b", "c"], "name": ["web"], "label!": ["x"]}


@pytest.mark.parametrize("item", ["foo", "label"])
def test_parse_needs_a_value(item: str) -> None:
    with pytest.raises(UsageError, match=r"^bad format of filter \(expected name=value\)"):
        filters.parse([item])


def test_validate_names_the_key() -> None:
    filters.validate({"label": ["a"]}, {"label", "name"})
    with pytest.raises(UsageError) as info:
        filters.validate({"label": ["a"], "colour": ["red"]}, {"label", "name"})
    assert str(info.value) == "invalid filter 'colour'"


@pytest.mark.parametrize(("spec", "expected"), [  # MatchKVList
    ("key1", True), ("key1=value1", True), ("key1=value2", False), ("key4", False),
    ("key1=", False), ("empty=", True), ("empty", True),
])
def test_match_label(spec: str, expected: bool) -> None:
    labels = {"key1": "value1", "key2": "value2", "key3": "value3", "empty": ""}
    assert filters.match_label(labels, spec) is expected


def test_labels_match_needs_every_label_and_no_excluded_one() -> None:
    labels = {"a": "1", "b": "2"}
    assert filters.labels_match(labels, {})
    assert filters.labels_match(labels, {"label": ["a", "b=2"]})
    assert not filters.labels_match(labels, {"label": ["a", "c"]})
    assert not filters.labels_match(labels, {"label!": ["b"]})
    assert filters.labels_match(labels, {"label!": ["b=3", "c"]})


@pytest.mark.parametrize(("value", "truth"), [("true", True), ("1", True), ("TRUE", True),
                                              ("false", False), ("0", False)])
def test_boolean(value: str, truth: bool) -> None:
    assert filters.boolean("dangling", value) is truth


def test_boolean_refuses() -> None:
    with pytest.raises(UsageError, match="^invalid filter 'dangling=maybe'$"):
        filters.boolean("dangling", "maybe")


def test_until_is_the_earliest_and_checked() -> None:
    now = 1_700_000_000.0
    assert filters.until({}, now) is None
    assert filters.until({"until": ["1h", "10m"]}, now) == now - 3600
    assert filters.until({"until": ["2023-11-14T22:13:20Z"]}, now) == now
    assert filters.check(["until=24h", "label=a"], {"until", "label"}) == {
        "until": ["24h"], "label": ["a"]}
    with pytest.raises(UsageError, match="failed to parse value as time or duration"):
        filters.check(["until=soon"], {"until"})
    with pytest.raises(UsageError, match="invalid filter 'name'"):
        filters.check(["name=x"], {"until"})


@pytest.mark.parametrize(("text", "expected"), [
    ('{"key": ["value"]}', {"key": ["value"]}),
    ('{"key": {"value": true}}', {"key": ["value"]}),
    ('{"key": ["value1", "value2"]}', {"key": ["value1", "value2"]}),
    ('{"key": {"value1": true, "value2": true}}', {"key": ["value1", "value2"]}),
    ('{"key1": ["value1"], "key2": ["value2"]}', {"key1": ["value1"], "key2": ["value2"]}),
    ('{"label": {"a=b": true}}', {"label": ["a=b"]}),
    ("", {}),
])
def test_from_json(text: str, expected: dict[str, list[str]]) -> None:
    assert {k: sorted(v) for k, v in filters.from_json(text).items()} == expected


@pytest.mark.parametrize("text", ["anything", "['a','list']", "{'key': 'value'}",
                                  '{"key": "value"}', "[]"])
def test_from_json_refuses(text: str) -> None:
    with pytest.raises(UsageError, match="invalid filter"):
        filters.from_json(text)


def test_to_json() -> None:
    parsed = filters.parse(["created=today", "image.name=ubuntu*", "image.name=*untu"])
    text = filters.to_json(parsed)
    assert text == '{"created":{"today":true},"image.name":{"*untu":true,"ubuntu*":true}}'
    assert filters.from_json(text) == {"created": ["today"], "image.name": ["*untu", "ubuntu*"]}
    assert json.loads(text)
    assert filters.to_json({}) == ""
