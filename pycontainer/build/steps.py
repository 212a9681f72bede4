"""Turning one expanded RUN / COPY / ADD into what the backend executes, plus the text that
both keys the cache and goes into `history` (CREATED BY)."""

from __future__ import annotations

import hashlib
import os
import posixpath
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pycontainer.build import imageconfig as ic
from pycontainer.build.backend import Backend, RunRequest, State
from pycontainer.build.copier import FsOp, url_name
from pycontainer.build.dockerfile import Instruction, Mount, parse_mount
from pycontainer.build.stages import PROXY_ARGS
from pycontainer.errors import BuildError

if TYPE_CHECKING:
    from pycontainer.build.builder import BuildRequest
    from pycontainer.oci.imagespec import ImageConfig


@dataclass
class StepContext:
    """A stage being built: its current state and the ARGs in scope."""

    state: State
    meta: dict[str, str]
    stage_args: dict[str, str] = field(default_factory=dict)
    req: BuildRequest | None = None
    cmd_set: bool = False

    def expand_env(self) -> dict[str, str]:
        """Variables for substitution: stage ARGs, overridden by ENV (as in Docker)."""
        return {**self.stage_args, **ic.env_dict(self.state.config)}

    def declare_args(self, inst: Instruction, meta: dict[str, str]) -> None:
        build_args: dict[str, str] = self.req.build_args if self.req else {}
        for key, default in inst.pairs:
            if key in build_args:
                self.stage_args[key] = build_args[key]
            elif default is not None:
                self.stage_args[key] = default
            elif key in meta:
                self.stage_args[key] = meta[key]


# -- RUN -----------------------------------------------------------------------------------------

def _heredoc_command(inst: Instruction, shell: list[str]) -> list[str]:
    cmd = inst.args[0] if inst.args else ""
    if len(inst.heredocs) == 1 and cmd.strip() == f"<<{inst.heredocs[0].name}" or (
            len(inst.heredocs) == 1 and cmd.strip().startswith("<<")
            and cmd.strip().lstrip("<-").strip("'\"") == inst.heredocs[0].name):
        return _script(inst.heredocs[0].content, shell)  # the heredoc is the script
    text = cmd + "\n" + "".join(d.content + d.name + "\n" for d in inst.heredocs)
    return [*shell, text]


#: runs a `#!` heredoc with its interpreter: the script goes to /dev/shm (a tmpfs, so never
#: part of the layer; mounted noexec, hence the interpreter is given the file)
_SHEBANG_RUNNER = 'printf "%s" "$1" > /dev/shm/.pyc-heredoc; shift; exec "$@" /dev/shm/.pyc-heredoc'


def _script(content: str, shell: list[str]) -> list[str]:
    if content.startswith("#!"):
        interpreter = content.splitlines()[0][2:].split()
        return ["/bin/sh", "-c", _SHEBANG_RUNNER, "sh", content, *interpreter]
    return [*shell, content]


def run_args(inst: Instruction, config: ImageConfig) -> list[str]:
    if inst.json_form:
        return list(inst.args)
    shell = ic.shell_of(config)
    if inst.heredocs:
        return _heredoc_command(inst, shell)
    return [*shell, inst.args[0] if inst.args else ""]


def _mounts(inst: Instruction) -> list[Mount]:
    out = []
    for spec in inst.flag_all("mount"):
        try:
            mount = parse_mount(spec)
        except ValueError as exc:
            raise BuildError(f"Dockerfile:{inst.line}: {exc}") from None
        if mount.type in ("secret", "ssh"):
            raise BuildError(f"Dockerfile:{inst.line}: RUN --mount=type={mount.type} is not "
                             "supported by pyc build")
        out.append(mount)
    return out


def run_request(ctx: StepContext, inst: Instruction, req: BuildRequest) -> tuple[RunRequest,
                                                                               str]:
    args = run_args(inst, ctx.state.config)
    config_env = list(ic.inner(ctx.state.config).get("Env") or [])
    declared = {k: v for k, v in ctx.stage_args.items() if k not in ic.env_dict(
        ctx.state.config)}
    proxies = {k: v for k, v in req.build_args.items() if k in PROXY_ARGS}
    env = config_env + [f"{k}={v}" for k, v in {**proxies, **declared}.items()]
    shown = [f"{k}={v}" for k, v in declared.items() if k not in PROXY_ARGS]
    prefix = f"|{len(shown)} {' '.join(shown)} " if shown else ""
    text = "RUN " + prefix + (ic.go_list(args) if inst.json_form else " ".join(args))
    network = inst.flag("network") or req.network
    if network not in ("default", "none", "host"):
        raise BuildError(f"Dockerfile:{inst.line}: unsupported network mode {network!r}")
    c = ic.inner(ctx.state.config)
    run = RunRequest(args=args, env=env, user=c.get("User") or "",
                     workdir=c.get("WorkingDir") or "/", network=network,
                     mounts=_mounts(inst), context_dir=req.context_dir, quiet=req.quiet)
    return run, text


# -- COPY / ADD -----------------------------------------------------------------------------------

def _is_url(src: str) -> bool:
    return src.startswith(("http://", "https://"))


def _dest(inst: Instruction, config: ImageConfig) -> str:
    dest = inst.args[-1]
    as_dir = dest.endswith("/") or dest in (".", "..") or dest.endswith(("/.", "/.."))
    if not dest.startswith("/"):
        dest = posixpath.join(ic.inner(config).get("WorkingDir") or "/", dest)
    dest = posixpath.normpath(dest)
    return dest.rstrip("/") + "/" if as_dir else dest


def _heredoc_source(inst: Instruction, backend: Backend) -> tuple[str, list[str]]:
    blob = "".join(d.name + "\0" + d.content for d in inst.heredocs).encode()
    root = os.path.join(backend.scratch_dir(), "heredoc-" + hashlib.sha256(blob).hexdigest())
    os.makedirs(root, exist_ok=True)
    for doc in inst.heredocs:
        with open(os.path.join(root, doc.name), "w") as f:
            f.write(doc.content)
        os.chmod(os.path.join(root, doc.name), 0o644)
    return root, [d.name for d in inst.heredocs]


def fs_op(ctx: StepContext, inst: Instruction, req: BuildRequest, backend: Backend,
          source: State | None) -> tuple[FsOp, str]:
    """The file operation of a COPY / ADD, and its CREATED BY text."""
    if len(inst.args) < 2:
        raise BuildError(f"Dockerfile:{inst.line}: {inst.keyword} requires at least two "
                         "arguments")
    for flag in inst.flags:
        if flag not in ("from", "chown", "chmod", "link", "checksum", "keep-git-dir"):
            raise BuildError(f"Dockerfile:{inst.line}: {inst.keyword} --{flag} is not "
                             "supported by pyc build")
    sources = inst.args[:-1]
    op = FsOp("copy", _dest(inst, ctx.state.config), sources=list(sources),
              src_root=req.context_dir, ignore=req.ignore_text,
              dockerfile=req.dockerfile_name, chown=inst.flag("chown"),
              chmod=inst.flag("chmod"), extract=inst.keyword == "ADD")
    if inst.heredocs:
        op.src_root, op.sources, op.ignore = *_heredoc_source(inst, backend), ""
    elif inst.keyword == "ADD" and any(_is_url(s) for s in sources):
        _url_source(op, inst, backend)
    elif source is not None:
        op.from_context, op.src_root, op.ignore = False, "", ""
    flags = " ".join(f"--{k}={v}" for k, vs in sorted(inst.flags.items()) for v in vs)
    text = f"{ic.NOP}{inst.keyword} {flags + ' ' if flags else ''}{' '.join(sources)} in " \
           f"{op.dest}"
    return op, text


def _url_source(op: FsOp, inst: Instruction, backend: Backend) -> None:
    if len(op.sources) != 1:
        raise BuildError(f"Dockerfile:{inst.line}: ADD takes one URL at a time in pyc build")
    url = op.sources[0]
    root, mtime = backend.fetch(url, inst.flag("checksum"))
    name = url_name(url)
    op.src_root, op.sources, op.ignore, op.extract = root, [name], "", False
    op.url_file, op.mtime = True, mtime
