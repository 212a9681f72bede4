"""The model as text: YAML as Go's yaml.v3 writes it (sequences indented under their key,
strings that would read as something else double-quoted), or JSON indented by two."""

from __future__ import annotations

import json
from typing import Any


def to_json(model: dict[str, Any]) -> str:
    return json.dumps(model, indent=2) + "\n"


def to_yaml(model: dict[str, Any]) -> str:
    import yaml

    class Dumper(yaml.SafeDumper):
        def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
            return super().increase_indent(flow, False)

    def text(dumper: yaml.SafeDumper, data: str) -> Any:
        tag = dumper.resolve(yaml.ScalarNode, data, (True, False))
        style = '"' if tag != "tag:yaml.org,2002:str" or not data else None
        if "\n" in data:
            style = "|"
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)

    Dumper.add_representer(str, text)
    return str(yaml.dump(model, Dumper=Dumper, sort_keys=False, default_flow_style=False,
                         allow_unicode=True, width=1 << 16))
