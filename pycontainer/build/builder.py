"""Executing a parsed Dockerfile: stages, steps, the layer cache, and the build's output.

    build(request, backend, out) -> BuildResult

Each instruction is one step. Filesystem steps (RUN, COPY, ADD, WORKDIR) go through the
backend and add a layer when they changed something; the others only change the config.
Every step (metadata ones too, so that a rebuild gives the same image id) is cached under

    sha256(parent state id, the instruction after substitution, [COPY/ADD: content hash])

and a hit reuses the stored state without running anything. Output follows podman /
Docker's classic builder: `STEP 2/5: RUN ...`, the command's own output, `--> Using cache
<id>`, `--> <short id>`, `COMMIT <name>`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from pycontainer.build import imageconfig as ic
from pycontainer.build import stages as st
from pycontainer.build.backend import Backend, Layer, State, StepFailed
from pycontainer.build.copier import FsOp, content_hash
from pycontainer.build.dockerfile import Dockerfile, Instruction, Stage, expand, parse
from pycontainer.build.steps import StepContext, fs_op, run_request
from pycontainer.errors import BuildError


@dataclass
class BuildRequest:
    dockerfile: Dockerfile
    context_dir: str
    ignore_text: str = ""
    dockerfile_name: str = "Dockerfile"
    tags: list[str] = field(default_factory=list)
    build_args: dict[str, str] = field(default_factory=dict)
    target: str | None = None
    no_cache: bool = False
    pull: str = "missing"
    labels: dict[str, str] = field(default_factory=dict)
    network: str = "default"
    platform: str | None = None
    quiet: bool = False
    #: SOURCE_DATE_EPOCH: history and config times, and clamped file times
    epoch: int | None = None


@dataclass
class BuildResult:
    image_id: str
    names: list[str]
    cached_steps: int = 0
    run_steps: int = 0


#: structured build progress for front ends that format it themselves (the Engine API's
#: classic-builder stream): ("step", {"prefix", "n", "total", "text"}), ("cache", {"id"}),
#: ("commit", {"name"}), ("result", {"id"}) after each step; replaces the text lines
BuildEvents = Callable[[str, dict[str, object]], None]


class _Out:
    def __init__(self, out: TextIO | None, events: BuildEvents | None = None) -> None:
        self.out, self.events = out, events

    def line(self, line: str, kind: str = "", **data: object) -> None:
        if self.events is not None:
            self.events(kind, data)
        elif self.out is not None:
            self.out.write(line + "\n")
            self.out.flush()


def _timestamp(epoch: int | None) -> str:
    from pycontainer.formats.timestamps import rfc3339

    if epoch is None:
        return rfc3339(digits=6, fixed=True)
    return rfc3339(epoch * 1_000_000_000, digits=0)  # SOURCE_DATE_EPOCH: whole seconds


def cache_key(parent: str, text: str, extra: str = "") -> str:
    return hashlib.sha256(f"{parent}\n{text}\n{extra}".encode()).hexdigest()


class Builder:
    def __init__(self, req: BuildRequest, backend: Backend, out: TextIO | None,
                 events: BuildEvents | None = None) -> None:
        self.req, self.backend, self.out = req, backend, _Out(out, events)
        self.states: dict[int, State] = {}
        self.result = BuildResult("", [])
        self.meta = st.meta_args(req.dockerfile, req.build_args, req.platform)

    # -- stages --------------------------------------------------------------------------
    def build(self) -> BuildResult:
        df = self.req.dockerfile
        target = df.stage(self.req.target) if self.req.target else df.stages[-1]
        needed = st.needed(df, target.index, self.meta)
        for number, index in enumerate(needed, 1):
            prefix = f"[{number}/{len(needed)}] " if len(needed) > 1 else ""
            self.states[index] = self._stage(df.stages[index], prefix,
                                             last=index == target.index)
        final = self._labels(self.states[target.index])
        self.result.image_id = self.backend.commit(final, self.req.tags)
        self.result.names = list(self.req.tags)
        return self.result

    def _labels(self, state: State) -> State:
        if not self.req.labels:
            return state
        config = state.config.copy()
        run = (config.get("config") or {}).copy()
        run["Labels"] = {**(run.get("Labels") or {}), **self.req.labels}
        config["config"] = run
        return State(ic.config_id(config), config, state.layers)

    def _stage(self, stage: Stage, prefix: str, last: bool) -> State:
        total = 1 + len(stage.instructions)
        from_inst = expand(stage.from_, self.meta, self.req.dockerfile.escape)
        self.out.line(f"{prefix}STEP 1/{total}: {stage.from_.original}", "step",
                      prefix=prefix, n=1, total=total, text=stage.from_.original)
        ctx = StepContext(self._base(from_inst), dict(self.meta), {}, self.req)
        for inst in self._onbuild(ctx):
            self._step(ctx, inst)
        for n, inst in enumerate(stage.instructions, 2):
            self.out.line(f"{prefix}STEP {n}/{total}: {inst.original}", "step",
                          prefix=prefix, n=n, total=total, text=inst.original)
            if last and n == total and self.req.tags:
                self._step(ctx, inst, commit_name=self.req.tags[0])
            else:
                self._step(ctx, inst)
        return ctx.state

    def _base(self, inst: Instruction) -> State:
        ref = inst.args[0]
        earlier = self.req.dockerfile.find_stage(ref)
        if earlier is not None and earlier.index in self.states:
            return self.states[earlier.index]
        if ref.lower() == "scratch":
            return st.scratch_state(inst.flag("platform") or self.req.platform)
        return self.backend.base(ref, inst.flag("platform") or self.req.platform,
                                 self.req.pull)

    def _onbuild(self, ctx: StepContext) -> list[Instruction]:
        triggers = list(ic.inner(ctx.state.config).get("OnBuild") or [])
        if not triggers:
            return []
        config = ctx.state.config.copy()
        config["config"] = {**config["config"], "OnBuild": None}
        ctx.state = State(ic.config_id(config), config, ctx.state.layers)
        text = "FROM scratch\n" + "\n".join(triggers) + "\n"
        return parse(text, "ONBUILD").stages[0].instructions

    # -- steps ---------------------------------------------------------------------------
    def _step(self, ctx: StepContext, raw: Instruction, commit_name: str = "") -> None:
        inst = expand(raw, ctx.expand_env(), self.req.dockerfile.escape,
                      self.req.dockerfile.filename)
        if inst.keyword == "ARG":
            ctx.declare_args(inst, self.meta)
        if inst.keyword in ("RUN", "COPY", "ADD", "WORKDIR"):
            self._fs_step(ctx, inst, raw)
        else:
            self._meta_step(ctx, inst)
        if commit_name:
            self.out.line(f"COMMIT {commit_name}", "commit", name=commit_name)
        self.out.line(f"--> {ctx.state.id.split(':', 1)[-1][:12]}", "result", id=ctx.state.id)

    def _cached(self, ctx: StepContext, key: str) -> bool:
        if self.req.no_cache:
            return False
        hit = self.backend.cache_get(key)
        if hit is None:
            return False
        self.out.line(f"--> Using cache {hit.id.split(':', 1)[-1]}", "cache", id=hit.id)
        ctx.state = hit
        self.result.cached_steps += 1
        return True

    def _meta_step(self, ctx: StepContext, inst: Instruction) -> None:
        if inst.keyword == "ARG":
            text = ic.NOP + " ARG " + " ".join(inst.args)
            config = ctx.state.config
        else:
            config, text = ic.apply_metadata(ctx.state.config, inst, ctx.cmd_set)
            ctx.cmd_set = ctx.cmd_set or inst.keyword == "CMD"
        key = cache_key(ctx.state.id, text)
        if self._cached(ctx, key):
            return
        config = ic.add_history(config, _timestamp(self.req.epoch), text, None)
        self._commit_step(ctx, key, State(ic.config_id(config), config, ctx.state.layers))

    def _commit_step(self, ctx: StepContext, key: str, state: State) -> None:
        self.backend.cache_put(key, state)
        ctx.state = state
        self.result.run_steps += 1

    def _fs_step(self, ctx: StepContext, inst: Instruction, raw: Instruction) -> None:
        if inst.keyword == "WORKDIR":
            path = st.workdir(ctx.state.config, inst.args[0])
            config, text = ic.set_workdir(ctx.state.config, path)
            parent = State(ctx.state.id, config, ctx.state.layers)
            self._layer_step(ctx, text, "", lambda: self.backend.fs(
                parent, FsOp("mkdir", path), None), parent)
        elif inst.keyword == "RUN":
            self._run_step(ctx, inst, raw)
        else:
            self._copy_step(ctx, inst)

    def _layer_step(self, ctx: StepContext, text: str, extra: str,
                    action: Callable[[], Layer | None],
                    parent: State | None = None) -> None:
        """A step that may add a layer; `parent` when the step also changes the config."""
        parent = parent or ctx.state
        key = cache_key(ctx.state.id, text, extra)
        if self._cached(ctx, key):
            return
        layer: Layer | None = action()
        config = ic.add_history(parent.config, _timestamp(self.req.epoch), text,
                                layer.diff_id if layer else None)
        layers = parent.layers + ([layer.descriptor] if layer else [])
        self._commit_step(ctx, key, State(ic.config_id(config), config, layers))

    def _run_step(self, ctx: StepContext, inst: Instruction, raw: Instruction) -> None:
        req, text = run_request(ctx, inst, self.req)
        req.mount_sources = {m.from_: self._source(m.from_, ctx) for m in req.mounts
                             if m.type == "bind" and m.from_}
        extra = "\n".join(inst.flag_all("mount") + inst.flag_all("network"))

        def action() -> Layer | None:
            try:
                return self.backend.run(ctx.state, req)
            except StepFailed as exc:
                err = BuildError(f'error building at STEP "{raw.original}": exit status '
                                 f"{exc.status}")
                err.exit_code = exc.status
                raise err from None

        self._layer_step(ctx, text, extra, action)

    def _copy_step(self, ctx: StepContext, inst: Instruction) -> None:
        source = self._source(inst.flag("from"), ctx) if inst.flag("from") else None
        op, text = fs_op(ctx, inst, self.req, self.backend, source)
        extra = content_hash(op, self.backend.hash_cache) if source is None else source.id
        self._layer_step(ctx, text, extra, lambda: self.backend.fs(ctx.state, op, source))

    def _source(self, ref: str | None, ctx: StepContext) -> State:
        assert ref is not None
        found = self.req.dockerfile.find_stage(ref)
        if found is not None:
            if found.index not in self.states:
                raise BuildError(f"stage {ref} is not built before it is used")
            return self.states[found.index]
        return self.backend.base(ref, self.req.platform, self.req.pull)


def build(req: BuildRequest, backend: Backend, out: TextIO | None,
          events: BuildEvents | None = None) -> BuildResult:
    """Build the target stage of `req.dockerfile` and tag it (see the module docstring)."""
    os.umask(0o022)
    return Builder(req, backend, out, events).build()
