"""Compose's variable interpolation: `$VAR`, `${VAR}`, `${VAR:-d}`, `${VAR-d}`, `${VAR:?e}`,
`${VAR?e}`, `${VAR:+a}`, `${VAR+a}`, and `$$` for a literal `$`; defaults may nest."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pycontainer.errors import ComposeError

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")


def interpolate(value: Any, env: Mapping[str, str], where: str = "") -> Any:
    """`value` (a YAML tree) with every string interpolated; keys are left as they are."""
    if isinstance(value, str):
        return substitute(value, env, where)
    if isinstance(value, dict):
        return {k: interpolate(v, env, f"{where}.{k}" if where else str(k))
                for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env, where) for v in value]
    return value


def substitute(text: str, env: Mapping[str, str], where: str = "") -> str:
    out, _ = _scan(text, 0, env, where, stop=None)
    return out


def _invalid(where: str, text: str) -> ComposeError:
    return ComposeError(f"invalid interpolation format for {where or 'value'}: {text!r}; "
                        "you may need to escape any $ with another $")


def _scan(text: str, i: int, env: Mapping[str, str], where: str,
          stop: str | None) -> tuple[str, int]:
    """Substitute from `i` until `stop` (a `}` closing a default) or the end."""
    out: list[str] = []
    while i < len(text):
        c = text[i]
        if stop is not None and c == stop:
            return "".join(out), i
        if c != "$":
            out.append(c)
            i += 1
            continue
        nxt = text[i + 1: i + 2]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "{":
            value, i = _braced(text, i + 2, env, where)
            out.append(value)
        else:
            m = _NAME.match(text, i + 1)
            if not m:
                raise _invalid(where, text)
            out.append(env.get(m.group(), ""))
            i = m.end()
    if stop is not None:
        raise _invalid(where, text)
    return "".join(out), i


def _braced(text: str, i: int, env: Mapping[str, str], where: str) -> tuple[str, int]:
    """`NAME[op word]}` from `i`: the value and the index after the closing brace."""
    m = _NAME.match(text, i)
    if not m:
        raise _invalid(where, text)
    name, i = m.group(), m.end()
    if text[i: i + 1] == "}":
        return env.get(name, ""), i + 1
    op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
    if op is None:
        raise _invalid(where, text)
    word, i = _scan(text, i + len(op), env, where, stop="}")
    value = env.get(name)
    unset_or_empty = not value if op.startswith(":") else value is None
    if op.endswith("-"):
        return (word if unset_or_empty else value or ""), i + 1
    if op.endswith("+"):
        return ("" if unset_or_empty else word), i + 1
    if unset_or_empty:
        prefix = f"error while interpolating {where}: " if where else ""
        raise ComposeError(f"{prefix}required variable {name} is missing a value"
                           + (f": {word}" if word else ""))
    return value or "", i + 1
