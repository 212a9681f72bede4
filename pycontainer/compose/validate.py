"""Check one compose file's tree against `schema`: Compose's messages, naming the file, the
path (`services.web.ports`) and the key; the first problem is the error."""

from __future__ import annotations

from typing import Any

from pycontainer.compose import schema
from pycontainer.compose.schema import Alt, ListOf, MapOf
from pycontainer.errors import ComposeError

_KINDS = {
    "string": "a string", "boolean": "a boolean", "integer": "an integer",
    "number": "a number", "null": "null", "string_or_number": "a string or number",
    "integer_or_string": "an integer or string", "scalar_or_null": "a string, number, "
    "boolean or null", "any": "anything",
}


def validate(tree: Any, file: str) -> None:
    """Raise ComposeError for the first key or value of `tree` the specification refuses."""
    if not isinstance(tree, dict):
        raise ComposeError(f"validating {file}: top-level object must be a mapping")
    for key in tree:
        if key in schema.TOP_UNSUPPORTED:
            raise ComposeError(f"validating {file}: {key!r} is not supported by pyc")
    for name, service in (tree.get("services") or {}).items():
        if isinstance(service, dict):
            for key in service:
                if key in schema.UNSUPPORTED:
                    raise ComposeError(f"validating {file}: services.{name}: {key!r} is not "
                                       "supported by pyc")
    problem = check(tree, schema.TOP, "")
    if problem:
        raise ComposeError(f"validating {file}: {problem}")


def _scalar(value: Any, kind: str) -> bool:
    if kind == "any":
        return True
    if kind == "null":
        return value is None
    if isinstance(value, bool):
        return kind in ("boolean", "scalar_or_null")
    if kind == "boolean":
        return False
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int)
    if kind == "number":
        return isinstance(value, int | float)
    if kind in ("string_or_number", "integer_or_string"):
        return isinstance(value, str | int | float if kind == "string_or_number" else str | int)
    if kind == "scalar_or_null":
        return value is None or isinstance(value, str | int | float)
    raise AssertionError(f"unknown schema kind {kind}")


def describe(spec: Any) -> str:
    if isinstance(spec, str):
        return _KINDS[spec]
    if isinstance(spec, dict | MapOf):
        return "a mapping"
    if isinstance(spec, ListOf):
        return "a list"
    return " or ".join(describe(f) for f in spec.forms)


def _shape_matches(value: Any, spec: Any) -> bool:
    """Whether `value` has the outer shape of `spec` (for picking one form of an Alt)."""
    if isinstance(spec, str):
        return _scalar(value, spec)
    if isinstance(spec, dict | MapOf):
        return isinstance(value, dict)
    if isinstance(spec, ListOf):
        return isinstance(value, list)
    return any(_shape_matches(value, f) for f in spec.forms)


def check(value: Any, spec: Any, path: str) -> str | None:
    """The first problem of `value` at `path` against `spec`, or None."""
    if isinstance(spec, Alt):
        form = next((f for f in spec.forms if _shape_matches(value, f)), None)
        return (f"{path} must be {describe(spec)}" if form is None
                else check(value, form, path))
    if not _shape_matches(value, spec):
        return f"{path} must be {describe(spec)}"
    if isinstance(spec, ListOf):
        for item in value:
            problem = check(item, spec.item, path)
            if problem:
                return problem
    elif isinstance(spec, MapOf):
        for key, item in value.items():
            if not _extension(key):
                problem = check(item, spec.value, _join(path, key))
                if problem:
                    return problem
    elif isinstance(spec, dict):
        return _check_object(value, spec, path)
    return None


def _check_object(value: dict[Any, Any], spec: dict[str, Any], path: str) -> str | None:
    for key, item in value.items():
        if _extension(key):
            continue
        if key not in spec:
            where = path or "(root)"
            return f"{where} additional property {key} is not allowed"
        problem = check(item, spec[key], _join(path, key))
        if problem:
            return problem
    return None


def _extension(key: Any) -> bool:
    return isinstance(key, str) and key.startswith("x-")


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)
