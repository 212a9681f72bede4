"""Compose's merge rules, for several `-f` files and for `extends`
(compose-spec merge.md): mappings merge key by key; `environment`, `labels`, `extra_hosts`,
build `args`, `depends_on`, `networks` merge as mappings whatever their syntax; `volumes`
merge by mount target, `ports` and other sequences append what is new; `command`,
`entrypoint` and healthcheck `test` are replaced."""

from __future__ import annotations

from typing import Any

#: list-or-mapping keys merged as mappings
_AS_MAP = frozenset(("environment", "labels", "extra_hosts", "args", "depends_on", "networks",
                     "driver_opts"))
_REPLACED = frozenset(("command", "entrypoint", "test"))


def as_map(key: str, value: Any) -> dict[str, Any]:
    """The mapping form of a list-or-mapping key (`["A=1", "B"]` -> `{A: "1", B: None}`;
    `depends_on` and `networks` lists -> `{name: None}`)."""
    if isinstance(value, dict):
        return dict(value)
    if value is None:
        return {}
    out: dict[str, Any] = {}
    for item in value:
        text = str(item)
        if key in ("depends_on", "networks"):
            out[text] = None
            continue
        sep = "=" if "=" in text or key != "extra_hosts" else ":"
        name, eq, val = text.partition(sep)
        out[name] = val if eq else None
    return out


def merge(base: Any, over: Any, key: str = "") -> Any:
    """`over` merged onto `base` (both YAML trees) by Compose's rules."""
    if key in _AS_MAP and isinstance(base, list | dict) and isinstance(over, list | dict):
        base, over = as_map(key, base), as_map(key, over)
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = merge(out[k], v, str(k)) if k in out else v
        return out
    if isinstance(base, list) and isinstance(over, list) and key not in _REPLACED:
        if key == "volumes":
            return _merge_by_target(base, over)
        return base + [item for item in over if item not in base]
    return over


def _target(volume: Any) -> Any:
    if isinstance(volume, dict):
        return volume.get("target")
    parts = str(volume).split(":")
    return parts[1] if len(parts) > 1 else parts[0]


def _merge_by_target(base: list[Any], over: list[Any]) -> list[Any]:
    targets = {_target(v): i for i, v in enumerate(base)}
    out = list(base)
    for volume in over:
        i = targets.get(_target(volume))
        if i is None:
            out.append(volume)
        else:
            out[i] = volume
    return out
