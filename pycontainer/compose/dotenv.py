"""`.env` files as Compose reads them: `KEY=VALUE` lines, `#` comments, optional `export `,
single quotes literal, double quotes with \\n escapes."""

from __future__ import annotations

from pathlib import Path

from pycontainer.errors import ComposeError


def parse(text: str, where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        key, eq, value = line.partition("=")
        key = key.strip()
        if not eq or not key or any(c.isspace() for c in key):
            raise ComposeError(f"failed to read {where}: line {number}: unexpected character "
                               f"in variable name {key!r}")
        out[key] = _value(value.strip())
    return out


def _value(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace("\\n", "\n").replace('\\"', '"')
    comment = value.find(" #")
    return value[:comment].rstrip() if comment >= 0 else value


def read_files(files: list[str], directory: Path) -> dict[str, str]:
    """`--env-file` files (each must exist), or `<directory>/.env` when there is one."""
    if not files:
        default = directory / ".env"
        return parse(default.read_text(), str(default)) if default.is_file() else {}
    out: dict[str, str] = {}
    for name in files:
        path = Path(name)
        try:
            text = path.read_text()
        except OSError:
            raise ComposeError(f"couldn't find env file: {path.resolve()}") from None
        out.update(parse(text, str(path)))
    return out
