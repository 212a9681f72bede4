"""Find, read, interpolate, validate and merge a project's compose files (Compose v2's
discovery: `-f` / `COMPOSE_FILE` / compose.yaml in the working directory or a parent, the
override file beside it, `-p` / `COMPOSE_PROJECT_NAME` / `name:` / the directory's name)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pycontainer.compose import dotenv, graph
from pycontainer.compose.interpolate import interpolate
from pycontainer.compose.merge import merge
from pycontainer.compose.validate import validate
from pycontainer.errors import ComposeError

CANDIDATES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")
OVERRIDES = ("compose.override.yaml", "compose.override.yml",
             "docker-compose.override.yml", "docker-compose.override.yaml")
_VALID_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass
class Options:
    """The project flags of `pyc compose` (before the subcommand)."""

    files: list[str] = field(default_factory=list)
    project_name: str | None = None
    project_directory: str | None = None
    env_files: list[str] = field(default_factory=list)
    profiles: list[str] = field(default_factory=list)
    stdin: str | None = None  # the text of `-f -`


@dataclass
class Project:
    name: str
    working_dir: Path
    files: list[str]
    environment: dict[str, str]
    tree: dict[str, Any]  # merged, interpolated, extends resolved, active services only
    profiles: list[str]


def normalize_name(name: str) -> str:
    """compose-go's NormalizeProjectName: lower case, only [-_a-z0-9], no leading - or _."""
    return re.sub(r"[^-_a-z0-9]", "", name.lower()).lstrip("-_")


def load(opts: Options, cwd: str | None = None,
         environ: Mapping[str, str] | None = None) -> Project:
    here = Path(cwd or os.getcwd())
    environ = dict(os.environ if environ is None else environ)
    first_dir = Path(opts.project_directory).resolve() if opts.project_directory else here
    env = {**dotenv.read_files(opts.env_files, first_dir), **environ}
    files = _files(opts, env, here)
    workdir = (Path(opts.project_directory).resolve() if opts.project_directory
               else Path(files[0]).resolve().parent if files[0] != "-" else here)
    if not opts.project_directory and not opts.env_files and workdir != first_dir:
        env = {**dotenv.read_files([], workdir), **environ}
    trees = [_read(f, opts.stdin, env) for f in files]
    tree: dict[str, Any] = {}
    for t in trees:
        tree = merge(tree, t)
    tree["services"] = _resolve_extends(tree.get("services") or {}, workdir, env)
    profiles = opts.profiles or [p for p in env.get("COMPOSE_PROFILES", "").split(",") if p]
    tree["services"] = _active(tree["services"], profiles)
    graph.check(tree["services"])
    name = _project_name(opts, env, tree, workdir)
    return Project(name, workdir, [_display(f, workdir) for f in files], env, tree, profiles)


def _display(file: str, workdir: Path) -> str:
    return file if file == "-" else str(Path(file).resolve())


def _files(opts: Options, env: Mapping[str, str], here: Path) -> list[str]:
    if opts.files:
        return [f if f == "-" else str(here / f) for f in opts.files]
    if env.get("COMPOSE_FILE"):
        sep = env.get("COMPOSE_PATH_SEPARATOR", os.pathsep)
        return [str(here / f) for f in env["COMPOSE_FILE"].split(sep) if f]
    for directory in (here, *here.parents):
        found = [directory / c for c in CANDIDATES if (directory / c).is_file()]
        if found:
            extra = next((directory / o for o in OVERRIDES if (directory / o).is_file()), None)
            return [str(found[0])] + ([str(extra)] if extra else [])
    raise ComposeError("no configuration file provided: not found")


def _read(file: str, stdin: str | None, env: Mapping[str, str]) -> dict[str, Any]:
    import yaml

    label = file
    try:
        text = (stdin or "") if file == "-" else Path(file).read_text()
    except OSError as exc:
        raise ComposeError(f"open {file}: {(exc.strerror or str(exc)).lower()}") from None
    try:
        tree = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ComposeError(f"yaml: {label}:{at}: {problem}") from None
    if tree is None:
        tree = {}
    if not isinstance(tree, dict):
        raise ComposeError(f"validating {label}: top-level object must be a mapping")
    tree = interpolate(tree, env)
    validate(tree, label)
    return tree


def _project_name(opts: Options, env: Mapping[str, str], tree: dict[str, Any],
                  workdir: Path) -> str:
    explicit = opts.project_name or env.get("COMPOSE_PROJECT_NAME") or tree.get("name")
    if explicit:
        if not _VALID_NAME.match(explicit):
            raise ComposeError(f"invalid project name {explicit!r}: must consist only of "
                               "lowercase alphanumeric characters, hyphens, and underscores "
                               "as well as start with a letter or number")
        return str(explicit)
    name = normalize_name(workdir.name)
    if not name:
        raise ComposeError(f"project name {workdir.name!r} is empty once normalised: use -p")
    return name


def _active(services: dict[str, Any], profiles: list[str]) -> dict[str, Any]:
    """The services without profiles and those with an enabled one (`*` enables all)."""
    def on(service: dict[str, Any]) -> bool:
        own = service.get("profiles") or []
        return not own or "*" in profiles or any(p in profiles for p in own)
    return {name: s for name, s in services.items() if on(s)}


def _resolve_extends(services: dict[str, Any], workdir: Path,
                     env: Mapping[str, str]) -> dict[str, Any]:
    resolved: dict[str, Any] = {}
    for name in services:
        resolved[name] = _extended(name, services, workdir, env, ())
    return resolved


def _extended(name: str, services: dict[str, Any], workdir: Path, env: Mapping[str, str],
              seen: tuple[str, ...]) -> dict[str, Any]:
    service = dict(services[name] or {})
    ext = service.pop("extends", None)
    if ext is None:
        return service
    ext = {"service": ext} if isinstance(ext, str) else ext
    base_name = ext.get("service")
    key = f"{ext.get('file', '')}:{base_name}"
    if key in seen:
        raise ComposeError(f"circular reference with extends in service {name}")
    pool = services
    if ext.get("file"):
        path = str(workdir / ext["file"])
        pool = _read(path, None, env).get("services") or {}
    if base_name not in pool:
        raise ComposeError(f"cannot extend service {name!r}: service {base_name!r} not found")
    base = _extended(base_name, pool, workdir, env, (*seen, key))
    return dict(merge(base, service))
