"""Output helpers shared by every command: JSON, Go-template `--format`, Docker's tables."""

from __future__ import annotations

import json
import sys
from typing import Any


def print_json(obj: Any, indent: int | None = 4) -> None:
    sys.stdout.write(json.dumps(obj, indent=indent) + "\n")


def format_one(obj: Any, fmt: str) -> str:
    """Render one object with `--format` (`json`, or a Go template)."""
    if fmt.strip() == "json":
        return json.dumps(obj)
    from pycontainer.cli import template

    return template.render(fmt, obj)
