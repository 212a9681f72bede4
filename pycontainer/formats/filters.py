"""Docker's `--filter key=value`: parsing, validation, label matching, prune's `until`, and
the Engine API's JSON form of the same filters.

API:

    Filters = dict[str, list[str]]    # key -> values, in the order given
    parse(items) -> Filters           # the CLI's repeated --filter (docker's FilterOpt)
    validate(filters, allowed) -> None        # "invalid filter 'KEY'"
    check(items, allowed) -> Filters          # parse + validate + readable `until` values
    boolean(key, value) -> bool       # dangling=true|false|1|0, else "invalid filter 'k=v'"
    match_label(labels, spec) -> bool # label=KEY or label=KEY=VALUE
    labels_match(labels, filters) -> bool     # every `label`, and no `label!`
    until(filters, now=None) -> float | None  # prune's until= as epoch seconds (earliest)
    from_json(text) -> Filters        # {"label":{"a=b":true}} and the legacy {"label":["a=b"]}
    to_json(filters) -> str           # {"label":{"a=b":true}}; "" for no filters
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from pycontainer.errors import UsageError

Filters = dict[str, list[str]]
_TRUTH = {"true": True, "1": True, "false": False, "0": False}


def parse(items: Iterable[str]) -> Filters:
    """Docker's FilterOpt: "name=value", name trimmed and lower-cased, value trimmed; the
    first "=" splits, so `label=a=b` is label -> "a=b" and `label!=a` is "label!" -> "a"."""
    out: Filters = {}
    for item in items:
        if item == "":
            continue  # docker ignores an empty --filter
        key, eq, value = item.partition("=")
        if not eq:
            raise UsageError(f"bad format of filter (expected name=value): {item}")
        out.setdefault(key.strip().lower(), []).append(value.strip())
    return out


def validate(filters: Mapping[str, object], allowed: Collection[str]) -> None:
    """Docker's Args.Validate: every key must be one the command accepts."""
    for key in filters:
        if key not in allowed:
            raise UsageError(f"invalid filter '{key}'")


def check(items: Iterable[str], allowed: Collection[str]) -> Filters:
    """A prune's filters, checked before its prompt: known keys, readable `until` values."""
    parsed = parse(items)
    validate(parsed, allowed)
    until(parsed)
    return parsed


def boolean(key: str, value: str) -> bool:
    """A true/false filter value (dangling): Docker's error for anything else."""
    truth = _TRUTH.get(value.lower())
    if truth is None:
        raise UsageError(f"invalid filter '{key}={value}'")
    return truth


def match_label(labels: Mapping[str, str], spec: str) -> bool:
    """Docker's MatchKVList: `KEY` is present, or `KEY=VALUE` is present with that value."""
    key, eq, value = spec.partition("=")
    return key in labels and (not eq or labels[key] == value)


def labels_match(labels: Mapping[str, str], filters: Mapping[str, list[str]]) -> bool:
    """Prune's label rules: every `label=` matches and no `label!=` does."""
    if not all(match_label(labels, spec) for spec in filters.get("label", [])):
        return False
    return not any(match_label(labels, spec) for spec in filters.get("label!", []))


def until(filters: Mapping[str, list[str]], now: float | None = None) -> float | None:
    """`until=` (durations, RFC 3339, Unix seconds) as epoch seconds; the earliest wins."""
    values = filters.get("until", [])
    if not values:
        return None
    from pycontainer.formats.timestamps import get_timestamp

    def read(value: str) -> float:
        try:
            return get_timestamp(value, now)
        except UsageError as exc:
            raise UsageError(f"invalid filter 'until={value}': {exc}") from None

    return min(read(v) for v in values)


def from_json(text: str) -> Filters:
    """The Engine API's `filters` query parameter (filters.FromJSON)."""
    import json

    if not text:
        return {}
    try:
        raw = json.loads(text)
    except ValueError:
        raise UsageError(f"invalid filter: {text}") from None
    if not isinstance(raw, dict):
        raise UsageError(f"invalid filter: {text}")
    out: Filters = {}
    for key, values in raw.items():
        if isinstance(values, dict) and all(isinstance(v, bool) for v in values.values()):
            out[key] = list(values)  # {"a=b": true}: Docker reads the keys, not the bools
        elif isinstance(values, list) and all(isinstance(v, str) for v in values):
            out[key] = list(dict.fromkeys(values))  # the legacy form: a list of values
        else:
            raise UsageError(f"invalid filter: {text}")
    return out


def to_json(filters: Mapping[str, Iterable[str]]) -> str:
    """filters.ToJSON: {"key":{"value":true}}; "" when there is no filter."""
    import json

    body = {key: dict.fromkeys(values, True) for key, values in filters.items()}
    # Go's encoding/json writes map keys sorted
    return json.dumps(body, separators=(",", ":"), sort_keys=True) if body else ""


__all__ = ["Filters", "boolean", "check", "from_json", "labels_match", "match_label", "parse",
           "to_json", "until", "validate"]
