"""build.builder against a fake backend: steps, config changes, history, the cache, stages.

The fake records what the builder asked for and makes one fake layer per filesystem step;
no process, mount or store is involved (the real backend is covered in
tests/integration/test_build.py).
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path
from typing import Any

import pytest

from pycontainer.build import imageconfig as ic
from pycontainer.build.backend import Layer, RunRequest, State, StepFailed
from pycontainer.build.builder import BuildRequest, build
from pycontainer.build.copier import FsOp, HashCache
from pycontainer.build.dockerfile import parse
from pycontainer.errors import BuildError

BASE_CONFIG = {"architecture": "amd64", "os": "linux",
               "config": {"Env": ["PATH=/bin"], "Cmd": ["sh"]},
               "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "b" * 64]},
               "history": [{"created_by": "base"}]}


class FakeBackend:
    def __init__(self, tmp: Path, fail_status: int = 0) -> None:
        self.hash_cache = HashCache(None)
        self.tmp = tmp
        self.cache: dict[str, State] = {}
        self.runs: list[RunRequest] = []
        self.ops: list[tuple[FsOp, State | None]] = []
        self.bases: list[str] = []
        self.committed: list[tuple[State, list[str]]] = []
        self.fail_status = fail_status

    def _layer(self, what: str) -> Layer:
        digest = "sha256:" + ic.config_id({"n": what, "i": len(self.runs) + len(self.ops)})[7:]
        return Layer({"mediaType": "m", "digest": digest, "size": 1}, digest)

    def base(self, ref: str, platform: str | None, pull: str) -> State:
        self.bases.append(ref)
        return State("sha256:" + "a" * 64, dict(BASE_CONFIG), [{"digest": "sha256:x"}])

    def run(self, state: State, req: RunRequest) -> Layer | None:
        self.runs.append(req)
        if self.fail_status and "fail" in " ".join(req.args):
            raise StepFailed(self.fail_status)
        return self._layer(" ".join(req.args))

    def fs(self, state: State, op: FsOp, source: State | None) -> Layer | None:
        self.ops.append((op, source))
        return None if op.kind == "mkdir" else self._layer(op.dest)

    def fetch(self, url: str, checksum: str | None) -> tuple[str, int | None]:
        raise AssertionError("no downloads here")

    def scratch_dir(self) -> str:
        return str(self.tmp)

    def cache_get(self, key: str) -> State | None:
        return self.cache.get(key)

    def cache_put(self, key: str, state: State) -> None:
        self.cache[key] = state

    def commit(self, state: State, names: list[str]) -> str:
        self.committed.append((state, names))
        return state.id


def run_build(tmp_path: Path, text: str, backend: FakeBackend | None = None,
              **kw: Any) -> tuple[FakeBackend, State, str]:
    backend = backend or FakeBackend(tmp_path)
    ctx = tmp_path / "ctx"
    ctx.mkdir(exist_ok=True)
    for name, content in kw.pop("files", {}).items():
        (ctx / name).write_text(content)
    req = BuildRequest(dockerfile=parse(textwrap.dedent(text).lstrip()), context_dir=str(ctx),
                       **kw)
    out = io.StringIO()
    build(req, backend, out)
    return backend, backend.committed[-1][0], out.getvalue()


def history(state: State) -> list[str]:
    return [h["created_by"] for h in state.config["history"][1:]]


def test_metadata_instructions_change_only_the_config(tmp_path: Path) -> None:
    _, state, _ = run_build(tmp_path, """
        FROM base
        ENV A=1 B=$A
        LABEL k=v
        EXPOSE 80 53/udp
        VOLUME /data
        USER app
        STOPSIGNAL SIGINT
        HEALTHCHECK --interval=5s CMD true
        SHELL ["/bin/bash", "-c"]
        CMD echo hi
        ONBUILD RUN make
    """)
    c = state.config["config"]
    assert c["Env"] == ["PATH=/bin", "A=1", "B="]  # ENV a=1 b=$a sees the old a
    assert c["Labels"] == {"k": "v"}
    assert c["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}}
    assert c["Volumes"] == {"/data": {}}
    assert (c["User"], c["StopSignal"]) == ("app", "SIGINT")
    assert c["Healthcheck"] == {"Test": ["CMD-SHELL", "true"], "Interval": 5_000_000_000}
    assert c["Cmd"] == ["/bin/bash", "-c", "echo hi"]  # shell form through SHELL
    assert c["OnBuild"] == ["RUN make"]
    assert state.diff_ids == BASE_CONFIG["rootfs"]["diff_ids"]
    assert all(h.get("empty_layer") for h in state.config["history"][1:])
    assert history(state)[0] == "/bin/sh -c #(nop)  ENV A=1 B="
    assert history(state)[-2] == '/bin/sh -c #(nop)  CMD ["/bin/bash" "-c" "echo hi"]'


def test_entrypoint_drops_the_inherited_cmd_but_keeps_its_own(tmp_path: Path) -> None:
    _, inherited, _ = run_build(tmp_path, 'FROM base\nENTRYPOINT ["app"]\n')
    assert inherited.config["config"]["Cmd"] is None
    _, own, _ = run_build(tmp_path, 'FROM base\nCMD ["x"]\nENTRYPOINT ["app"]\n')
    assert own.config["config"]["Cmd"] == ["x"]


def test_run_gets_env_user_workdir_args_and_a_layer(tmp_path: Path) -> None:
    backend, state, out = run_build(tmp_path, """
        FROM base
        ARG VERSION=1.0
        ENV HOME=/root
        USER 1000:1000
        WORKDIR /src
        RUN echo $VERSION
        RUN ["make", "all"]
    """)
    first, second = backend.runs
    assert first.args == ["/bin/sh", "-c", "echo $VERSION"]
    assert "VERSION=1.0" in first.env and "HOME=/root" in first.env
    assert (first.user, first.workdir, first.network) == ("1000:1000", "/src", "default")
    assert second.args == ["make", "all"]
    assert history(state)[-2:] == ["RUN |1 VERSION=1.0 /bin/sh -c echo $VERSION",
                                   'RUN |1 VERSION=1.0 ["make" "all"]']
    assert len(state.diff_ids) == 1 + 2  # WORKDIR made nothing (the fake's mkdir is empty)
    assert "STEP 6/7: RUN echo $VERSION" in out


def test_heredoc_run_is_the_script_or_feeds_the_command(tmp_path: Path) -> None:
    backend, _, _ = run_build(tmp_path, """
        FROM base
        RUN <<EOF
        echo one
        echo two
        EOF
        RUN cat <<EOF > /f
        content
        EOF
    """)
    assert backend.runs[0].args == ["/bin/sh", "-c", "echo one\necho two\n"]
    assert backend.runs[1].args == ["/bin/sh", "-c", "cat <<EOF > /f\ncontent\nEOF\n"]


def test_heredoc_with_a_shebang_runs_its_interpreter(tmp_path: Path) -> None:
    backend, _, _ = run_build(tmp_path, """
        FROM base
        RUN <<EOF
        #!/usr/bin/env python3 -u
        print("hi")
        EOF
    """)
    args = backend.runs[0].args
    assert args[:2] == ["/bin/sh", "-c"] and args[-3:] == ["/usr/bin/env", "python3", "-u"]
    assert args[4] == '#!/usr/bin/env python3 -u\nprint("hi")\n'


def test_rebuild_is_all_cache_hits_with_the_same_id(tmp_path: Path) -> None:
    files = {"app.py": "print(1)\n"}
    text = "FROM base\nCOPY app.py /app/\nRUN python /app/app.py\nCMD [\"x\"]\n"
    backend, first, _ = run_build(tmp_path, text, files=files)
    _, again, out = run_build(tmp_path, text, backend)
    assert again.id == first.id
    assert out.count("--> Using cache") == 3
    assert len(backend.runs) == 1


def test_changed_content_invalidates_from_that_copy_on(tmp_path: Path) -> None:
    text = "FROM base\nRUN one\nCOPY a /a\nRUN two\nCOPY b /b\n"
    backend, first, _ = run_build(tmp_path, text, files={"a": "1", "b": "2"})
    _, second, out = run_build(tmp_path, text, backend, files={"a": "changed"})
    assert second.id != first.id
    assert out.count("--> Using cache") == 1  # RUN one
    assert [r.args[-1] for r in backend.runs] == ["one", "two", "two"]


def test_no_cache_runs_everything(tmp_path: Path) -> None:
    text = "FROM base\nRUN one\n"
    backend, _, _ = run_build(tmp_path, text)
    _, _, out = run_build(tmp_path, text, backend, no_cache=True)
    assert "Using cache" not in out and len(backend.runs) == 2


def test_copy_paths_are_relative_to_workdir_and_flags_pass_through(tmp_path: Path) -> None:
    backend, _, _ = run_build(tmp_path, """
        FROM base
        WORKDIR /app
        COPY --chown=1000:1000 --chmod=640 a b ./
        COPY a sub/a
    """, files={"a": "1", "b": "2"})
    mkdir, copy_two, copy_one = (op for op, _ in backend.ops)
    assert (mkdir.kind, mkdir.dest) == ("mkdir", "/app")
    assert (copy_two.dest, copy_two.sources) == ("/app/", ["a", "b"])
    assert (copy_two.chown, copy_two.chmod) == ("1000:1000", "640")
    assert copy_one.dest == "/app/sub/a"


def test_missing_source_fails_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="file not found in build context"):
        run_build(tmp_path, "FROM base\nCOPY nothere /x\n")


def test_failing_run_names_the_step_and_carries_its_status(tmp_path: Path) -> None:
    backend = FakeBackend(tmp_path, fail_status=7)
    with pytest.raises(BuildError) as info:
        run_build(tmp_path, "FROM base\nRUN please fail\nCMD [\"x\"]\n", backend)
    assert info.value.exit_code == 7
    assert info.value.message == 'error building at STEP "RUN please fail": exit status 7'
    assert backend.committed == []


def test_target_builds_only_the_stages_it_depends_on(tmp_path: Path) -> None:
    backend, state, out = run_build(tmp_path, """
        FROM base AS deps
        RUN deps
        FROM other AS unused
        RUN never
        FROM deps AS build
        RUN build
        FROM base AS final
        COPY --from=build /out /out
    """, target="build")
    assert [r.args[-1] for r in backend.runs] == ["deps", "build"]
    assert backend.bases == ["base"]
    assert "[1/2] STEP 1/2: FROM base AS deps" in out


def test_copy_from_a_stage_passes_its_state(tmp_path: Path) -> None:
    backend, _, _ = run_build(tmp_path, """
        FROM base AS builder
        RUN make
        FROM scratch
        COPY --from=builder /out/app /app
    """)
    op, source = backend.ops[-1]
    assert source is not None and len(source.diff_ids) == 2
    assert not op.from_context


def test_arg_before_from_and_build_args(tmp_path: Path) -> None:
    backend, _, _ = run_build(tmp_path, """
        ARG TAG=1
        FROM base:${TAG}
        ARG TAG
        ARG OTHER=${TAG:-none}
        RUN echo $TAG $OTHER
    """, build_args={"TAG": "2", "HTTP_PROXY": "http://proxy:3128"})
    assert backend.bases == ["base:2"]
    env = backend.runs[0].env
    assert "TAG=2" in env and "OTHER=2" in env and "HTTP_PROXY=http://proxy:3128" in env


def test_proxy_args_stay_out_of_history(tmp_path: Path) -> None:
    _, state, _ = run_build(tmp_path, "FROM base\nRUN true\n",
                            build_args={"HTTPS_PROXY": "http://secret@proxy"})
    assert "secret" not in str(state.config["history"])


def test_onbuild_triggers_run_after_from(tmp_path: Path) -> None:
    backend = FakeBackend(tmp_path)
    onbuild = {**BASE_CONFIG, "config": {**BASE_CONFIG["config"], "OnBuild": ["RUN trigger"]}}
    backend.base = lambda ref, platform, pull: State("sha256:" + "c" * 64, onbuild, [])  # type: ignore[method-assign]
    _, state, _ = run_build(tmp_path, "FROM base\nRUN mine\n", backend)
    assert [r.args[-1] for r in backend.runs] == ["trigger", "mine"]
    assert not state.config["config"].get("OnBuild")


def test_labels_from_the_command_line_and_epoch_times(tmp_path: Path) -> None:
    _, state, _ = run_build(tmp_path, "FROM base\nLABEL a=1\n", labels={"b": "2"},
                            epoch=1700000000)
    assert state.config["config"]["Labels"] == {"a": "1", "b": "2"}
    assert state.config["history"][-1]["created"] == "2023-11-14T22:13:20Z"


def test_scratch_and_workdir_layers(tmp_path: Path) -> None:
    backend, state, _ = run_build(tmp_path, "FROM scratch\nWORKDIR rel\nWORKDIR sub\n")
    assert [op.dest for op, _ in backend.ops] == ["/rel", "/rel/sub"]
    assert state.config["config"]["WorkingDir"] == "/rel/sub"
    assert state.diff_ids == []
