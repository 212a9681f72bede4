"""The Dockerfile parser, checked against the Dockerfile reference and BuildKit's behaviour."""

from __future__ import annotations

import textwrap

import pytest

from pycontainer.build.dockerfile import (
    Dockerfile,
    Instruction,
    Mount,
    expand,
    health_config,
    parse,
    parse_mount,
)
from pycontainer.errors import BuildError


def df(text: str) -> Dockerfile:
    return parse(textwrap.dedent(text).lstrip("\n"))


def one(text: str) -> Instruction:
    """The single instruction after `FROM scratch`."""
    parsed = parse("FROM scratch\n" + textwrap.dedent(text).lstrip("\n"))
    (inst,) = parsed.stages[0].instructions
    return inst


# ---------------------------------------------------------------------------------------------
# lines, comments, directives


def test_comments_blank_lines_and_line_numbers() -> None:
    parsed = df("""
        # a comment

        FROM alpine
          # indented comment
        RUN echo hi   # not a comment: passed to the shell
        """)
    run = parsed.stages[0].instructions[0]
    assert (run.line, run.end_line) == (5, 5)
    assert run.args == ["echo hi   # not a comment: passed to the shell"]
    assert parsed.stages[0].from_.line == 3


def test_continuations() -> None:
    run = one(
        "RUN apt-get update && \\\n"
        "    # comments inside a continuation are dropped\n"
        "    apt-get install -y \\\n"
        "\n"
        "    curl \\  \n"  # blanks after the backslash are allowed
        "    git\n"
    )
    assert run.args == ["apt-get update &&     apt-get install -y     curl     git"]
    assert (run.line, run.end_line) == (2, 7)


def test_crlf_bom_and_trailing_continuation() -> None:
    parsed = parse("\ufeffFROM alpine\r\nRUN a \\\r\n  b\r\nRUN last \\")
    runs = parsed.stages[0].instructions
    assert [r.args for r in runs] == [["a   b"], ["last"]]


@pytest.mark.parametrize(
    ("text", "directives", "escape"),
    [
        ("# syntax=docker/dockerfile:1\nFROM a\n", {"syntax": "docker/dockerfile:1"}, "\\"),
        ("# escape=`\nFROM a\n", {"escape": "`"}, "`"),
        ("#ESCAPE = `\nFROM a\n", {"escape": "`"}, "`"),
        ("# syntax=x\n# escape=`\n# check=skip=all\nFROM a\n",
         {"syntax": "x", "escape": "`", "check": "skip=all"}, "`"),
        # after a plain comment, an empty line or an unknown directive: only comments
        ("# hello\n# escape=`\nFROM a\n", {}, "\\"),
        ("\n# escape=`\nFROM a\n", {}, "\\"),
        ("# unknown=1\n# escape=`\nFROM a\n", {}, "\\"),
        ("FROM a\n# escape=`\n", {}, "\\"),
    ],
)
def test_directives(text: str, directives: dict[str, str], escape: str) -> None:
    parsed = parse(text)
    assert parsed.directives == directives
    assert parsed.escape == escape


def test_escape_backtick_windows_style() -> None:
    parsed = df("""
        # escape=`
        FROM windows
        COPY testfile.txt c:\\
        RUN dir c:\\ `
            /b
        """)
    copy, run = parsed.stages[0].instructions
    assert copy.args == ["testfile.txt", "c:\\"]
    assert run.args == ["dir c:\\     /b"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# escape=x\nFROM a\n", "Dockerfile:1: invalid escape token 'x' does not match ` or \\"),
        ("# escape=`\n# escape=\\\nFROM a\n",
         "Dockerfile:2: only one escape parser directive can be used"),
        ("", "Dockerfile:1: file with no instructions"),
        ("# only a comment\n", "Dockerfile:1: file with no instructions"),
        ("FROM a\nFOO bar\n", "Dockerfile:2: unknown instruction: FOO"),
        ("RUN echo\nFROM a\n", "Dockerfile:1: no build stage in current context"),
        ("ARG X\n", "Dockerfile:1: no build stage in current context"),
        ("FROM a AS x\nFROM b AS X\n", "Dockerfile:2: duplicate stage name 'x'"),
        ("FROM a b\n", "Dockerfile:1: FROM requires either one or three arguments"),
        ("FROM a FOR b\n", "Dockerfile:1: FROM requires either one or three arguments"),
        ("FROM a AS 1st\n", "Dockerfile:1: invalid name for build stage: '1st'"),
        ("FROM a\nRUN\n", "Dockerfile:2: RUN requires at least one argument"),
        ("FROM a\nCOPY onlyone\n", "Dockerfile:2: COPY requires at least two arguments"),
        ("FROM a\nENV\n", "Dockerfile:2: ENV requires at least one argument"),
        ("FROM a\nENV alone\n", "Dockerfile:2: ENV must have two arguments"),
        ("FROM a\nENV a=1 b\n", "Dockerfile:2: Syntax error - can't find = in 'b'"),
        ("FROM a\nLABEL\n", "Dockerfile:2: LABEL requires at least one argument"),
        ("FROM a\nARG\n", "Dockerfile:2: ARG requires at least one argument"),
        ("FROM a\nWORKDIR\n", "Dockerfile:2: WORKDIR requires exactly one argument"),
        ("FROM a\nUSER\n", "Dockerfile:2: USER requires exactly one argument"),
        ("FROM a\nEXPOSE\n", "Dockerfile:2: EXPOSE requires at least one argument"),
        ("FROM a\nVOLUME\n", "Dockerfile:2: VOLUME requires at least one argument"),
        ('FROM a\nVOLUME ["/a", ""]\n', "Dockerfile:2: VOLUME specified can not be an empty"),
        ("FROM a\nSHELL /bin/sh -c\n", "Dockerfile:2: SHELL requires the arguments to be in JSON"),
        ('FROM a\nCMD ["a", 1]\n', "Dockerfile:2: when using JSON array syntax, arrays must"),
        ("FROM a\nONBUILD ONBUILD RUN x\n", "Dockerfile:2: Chaining ONBUILD via"),
        ("FROM a\nONBUILD FROM x\n", "Dockerfile:2: FROM isn't allowed as an ONBUILD trigger"),
        ("FROM a\nONBUILD MAINTAINER x\n", "Dockerfile:2: MAINTAINER isn't allowed as an ONBUILD"),
        ("FROM a\nCOPY --nope=1 a b\n", "Dockerfile:2: unknown flag: nope"),
        ("FROM a\nENV --x=1 a=b\n", "Dockerfile:2: unknown flag: x"),
        ("FROM a\nCOPY --from a b\n", "Dockerfile:2: missing a value on flag: from"),
        ("FROM a\nCOPY --from=x --from=y a b\n", "Dockerfile:2: duplicate flag specified: from"),
        ("FROM a\nCOPY --link=maybe a b\n", "Dockerfile:2: expecting boolean value for flag link"),
        ("FROM a\nRUN --network=bridge x\n", "Dockerfile:2: unsupported network mode 'bridge'"),
        ("FROM a\nRUN --mount=type=cache x\n", "Dockerfile:2: mount type cache requires a target"),
        ("FROM a\nRUN --mount=type=nfs,target=/x x\n", "Dockerfile:2: unsupported mount type"),
        ("FROM a\nHEALTHCHECK NONE x\n", "Dockerfile:2: HEALTHCHECK NONE takes no arguments"),
        ("FROM a\nHEALTHCHECK CMD\n", "Dockerfile:2: Missing command after HEALTHCHECK CMD"),
        ("FROM a\nHEALTHCHECK RUN x\n", 'Dockerfile:2: Unknown type "RUN" in HEALTHCHECK'),
        ("FROM a\nHEALTHCHECK --interval=1x CMD a\n",
         'Dockerfile:2: time: unknown unit "x" in duration "1x"'),
        ("FROM a\nHEALTHCHECK --timeout=1us CMD a\n", "cannot be less than 1ms"),
        ("FROM a\nHEALTHCHECK --retries=-1 CMD a\n", "--retries cannot be negative (-1)"),
        ("FROM a\nRUN <<EOF\nnever ends\n", "Dockerfile:2: unterminated heredoc EOF"),
    ],
)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(BuildError) as info:
        parse(text)
    assert message in str(info.value)


def test_error_names_the_file() -> None:
    with pytest.raises(BuildError, match=r"^build/Containerfile:2: unknown instruction: NOPE$"):
        parse("FROM a\nNOPE\n", filename="build/Containerfile")


# ---------------------------------------------------------------------------------------------
# instructions


@pytest.mark.parametrize(
    ("text", "keyword", "args", "json_form"),
    [
        ("RUN echo hello", "RUN", ["echo hello"], False),
        ('RUN ["echo", "hello"]', "RUN", ["echo", "hello"], True),
        ('RUN [ "a" , "b c" ]', "RUN", ["a", "b c"], True),
        ("RUN [not json", "RUN", ["[not json"], False),
        ('CMD ["nginx", "-g", "daemon off;"]', "CMD", ["nginx", "-g", "daemon off;"], True),
        ("CMD []", "CMD", [], True),
        ("cmd echo lower-case keyword", "CMD", ["echo lower-case keyword"], False),
        ('ENTRYPOINT ["/entry.sh"]', "ENTRYPOINT", ["/entry.sh"], True),
        ("ENTRYPOINT exec top -b", "ENTRYPOINT", ["exec top -b"], False),
        ('SHELL ["powershell", "-command"]', "SHELL", ["powershell", "-command"], True),
        ("COPY a b /dst/", "COPY", ["a", "b", "/dst/"], False),
        ('COPY ["a b", "/dst/"]', "COPY", ["a b", "/dst/"], True),
        ("ADD https://x/y.tgz /", "ADD", ["https://x/y.tgz", "/"], False),
        ("VOLUME /a /b", "VOLUME", ["/a", "/b"], False),
        ('VOLUME ["/data"]', "VOLUME", ["/data"], True),
        ("EXPOSE 80/tcp 443 53/udp", "EXPOSE", ["80/tcp", "443", "53/udp"], False),
        ("WORKDIR /path to/dir", "WORKDIR", ["/path to/dir"], False),
        ("USER 1000:1000", "USER", ["1000:1000"], False),
        ("STOPSIGNAL SIGKILL", "STOPSIGNAL", ["SIGKILL"], False),
        ("MAINTAINER Jane Doe <jane@x>", "MAINTAINER", ["Jane Doe <jane@x>"], False),
        ("ONBUILD RUN make", "ONBUILD", ["RUN make"], False),
    ],
)
def test_instruction_forms(text: str, keyword: str, args: list[str], json_form: bool) -> None:
    inst = one(text)
    assert (inst.keyword, inst.args, inst.json_form) == (keyword, args, json_form)
    assert inst.original == text


@pytest.mark.parametrize(
    ("text", "pairs"),
    [
        ('ENV MY_NAME="John Doe"', [("MY_NAME", '"John Doe"')]),
        ("ENV MY_DOG=Rex\\ The\\ Dog", [("MY_DOG", "Rex\\ The\\ Dog")]),
        ("ENV MY_CAT=fluffy A=", [("MY_CAT", "fluffy"), ("A", "")]),
        ("ENV MY_VAR my-value with spaces", [("MY_VAR", "my-value with spaces")]),
        ('ENV a="x y" b=\'$c d\'', [("a", '"x y"'), ("b", "'$c d'")]),
        ('LABEL "com.example.vendor"="ACME Incorporated"',
         [('"com.example.vendor"', '"ACME Incorporated"')]),
        ("LABEL version=1.0 description=\"This text\"",
         [("version", "1.0"), ("description", '"This text"')]),
        ("LABEL multi.label1=value1 \\\n      multi.label2=value2",
         [("multi.label1", "value1"), ("multi.label2", "value2")]),
        ("ARG user1", [("user1", None)]),
        ("ARG buildno=1 CONT_IMG_VER", [("buildno", "1"), ("CONT_IMG_VER", None)]),
        ("ARG a=", [("a", "")]),
    ],
)
def test_name_value_pairs(text: str, pairs: list[tuple[str, str | None]]) -> None:
    assert one(text).pairs == pairs


@pytest.mark.parametrize(
    ("text", "flags", "args"),
    [
        ("COPY --from=build /a /b", {"from": ["build"]}, ["/a", "/b"]),
        ("COPY --chown=55:mygroup --chmod=644 files* /somedir/",
         {"chown": ["55:mygroup"], "chmod": ["644"]}, ["files*", "/somedir/"]),
        ("COPY --link /a /b", {"link": ["true"]}, ["/a", "/b"]),
        ("COPY --link=false /a /b", {"link": ["false"]}, ["/a", "/b"]),
        ("COPY --parents --exclude=*.txt --exclude=*.md . /d",
         {"parents": ["true"], "exclude": ["*.txt", "*.md"]}, [".", "/d"]),
        ('COPY --chown="1 2" a b', {"chown": ["1 2"]}, ["a", "b"]),
        ("COPY -- --weird /d", {}, ["--weird", "/d"]),
        ("ADD --checksum=sha256:24454f830cdd https://x/y /", {"checksum": ["sha256:24454f830cdd"]},
         ["https://x/y", "/"]),
        ("ADD --keep-git-dir=true git@git.example.com:x.git /bk",
         {"keep-git-dir": ["true"]}, ["git@git.example.com:x.git", "/bk"]),
        ("RUN --mount=type=cache,target=/root/.cache/go-build --mount=type=secret,id=aws go build",
         {"mount": ["type=cache,target=/root/.cache/go-build", "type=secret,id=aws"]},
         ["go build"]),
        ("RUN --network=none --security=insecure pip install x",
         {"network": ["none"], "security": ["insecure"]}, ["pip install x"]),
    ],
)
def test_flags(text: str, flags: dict[str, list[str]], args: list[str]) -> None:
    inst = one(text)
    assert (inst.flags, inst.args) == (flags, args)


def test_flag_accessors() -> None:
    inst = one("COPY --exclude=a --exclude=b x y")
    assert inst.flag("exclude") == "b"
    assert inst.flag_all("exclude") == ["a", "b"]
    assert inst.flag("from") is None
    assert inst.flag_all("from") == []


@pytest.mark.parametrize(
    ("text", "args", "config"),
    [
        ("HEALTHCHECK NONE", ["NONE"], {"Test": ["NONE"]}),
        ("HEALTHCHECK --interval=5m --timeout=3s CMD curl -f http://localhost/ || exit 1",
         ["CMD-SHELL", "curl -f http://localhost/ || exit 1"],
         {"Test": ["CMD-SHELL", "curl -f http://localhost/ || exit 1"],
          "Interval": 300_000_000_000, "Timeout": 3_000_000_000}),
        ('HEALTHCHECK --start-period=1m30s --start-interval=500ms --retries=3 CMD ["/bin/check"]',
         ["CMD", "/bin/check"],
         {"Test": ["CMD", "/bin/check"], "StartPeriod": 90_000_000_000,
          "StartInterval": 500_000_000, "Retries": 3}),
        ("healthcheck cmd true", ["CMD-SHELL", "true"], {"Test": ["CMD-SHELL", "true"]}),
        ("HEALTHCHECK --interval=0s --retries=0 CMD true", ["CMD-SHELL", "true"],
         {"Test": ["CMD-SHELL", "true"]}),
    ],
)
def test_healthcheck(text: str, args: list[str], config: dict[str, object]) -> None:
    inst = one(text)
    assert inst.args == args
    assert health_config(inst) == config


def test_onbuild_trigger_is_parsed() -> None:
    inst = one("ONBUILD ADD --chown=1 . /app/src")
    assert inst.trigger is not None
    assert (inst.trigger.keyword, inst.trigger.args, inst.trigger.flags) == (
        "ADD", [".", "/app/src"], {"chown": ["1"]})
    assert inst.trigger.line == inst.line


# ---------------------------------------------------------------------------------------------
# heredocs


def test_run_heredoc() -> None:
    parsed = df("""
        FROM debian
        RUN <<EOF
        apt-get update
        apt-get install -y vim
        EOF
        RUN echo after
        """)
    run, after = parsed.stages[0].instructions
    assert run.args == ["<<EOF"]
    assert [(h.name, h.content, h.expand, h.chomp) for h in run.heredocs] == [
        ("EOF", "apt-get update\napt-get install -y vim\n", True, False)
    ]
    assert (run.line, run.end_line) == (2, 5)
    assert (after.line, after.args) == (6, ["echo after"])


def test_heredoc_with_program_and_chomp() -> None:
    run = one("RUN python3 <<-EOT\n\tprint('hi')\n\t\tx = 1\n\tEOT\n")
    (doc,) = run.heredocs
    assert run.args == ["python3 <<-EOT"]
    assert (doc.name, doc.content, doc.chomp) == ("EOT", "print('hi')\nx = 1\n", True)


@pytest.mark.parametrize(
    ("opener", "name", "expand"),
    [
        ("<<EOF", "EOF", True),
        ('<<"EOF"', "EOF", False),
        ("<<'EOF'", "EOF", False),
        ("<<-'EOF'", "EOF", False),
        ('<<E"O"F', "EOF", False),
    ],
)
def test_heredoc_quoted_delimiters(opener: str, name: str, expand: bool) -> None:
    inst = one(f"RUN cat {opener}\n$HOME\n{name}\n")
    (doc,) = inst.heredocs
    assert (doc.name, doc.content, doc.expand) == (name, "$HOME\n", expand)


def test_several_heredocs_on_one_line() -> None:
    run = one("""
        RUN <<FILE1 cat > file1 && <<FILE2 cat > file2
        I am
        first
        FILE1
        I am
        second
        FILE2
        """)
    assert [(h.name, h.content) for h in run.heredocs] == [
        ("FILE1", "I am\nfirst\n"), ("FILE2", "I am\nsecond\n")]


def test_copy_heredoc_and_fd() -> None:
    parsed = df("""
        FROM alpine
        COPY <<-EOT /script.sh
        \techo "hello ${FOO}"
        EOT
        RUN 3<<EOF cat /proc/self/fd/3
        x
        EOF
        """)
    copy, run = parsed.stages[0].instructions
    assert copy.args == ["<<-EOT", "/script.sh"]
    assert copy.heredocs[0].content == 'echo "hello ${FOO}"\n'
    assert run.heredocs[0].fd == 3


@pytest.mark.parametrize(
    "text",
    [
        'RUN ["cat", "<<EOF"]',  # JSON form has no heredocs
        'RUN echo "<<EOF"',  # quoted
        "RUN echo a<<EOF",  # not a word of its own
        "ENV a=<<EOF",  # not an instruction with heredocs
    ],
)
def test_not_heredocs(text: str) -> None:
    assert one(text).heredocs == []


# ---------------------------------------------------------------------------------------------
# stages


def test_stages_and_meta_args() -> None:
    parsed = df("""
        ARG VERSION=latest
        ARG BASE
        FROM --platform=$BUILDPLATFORM golang:${VERSION} AS Build
        RUN go build
        FROM alpine
        COPY --from=build /out /bin/
        FROM build AS test
        """)
    assert [a.pairs for a in parsed.meta_args] == [[("VERSION", "latest")], [("BASE", None)]]
    assert [(s.index, s.name, s.base, s.platform) for s in parsed.stages] == [
        (0, "build", "golang:${VERSION}", "$BUILDPLATFORM"),
        (1, None, "alpine", None),
        (2, "test", "build", None),
    ]
    assert [len(s.instructions) for s in parsed.stages] == [1, 1, 0]
    assert parsed.stage("BUILD") is parsed.stages[0]
    assert parsed.stage(1) is parsed.stages[1]
    assert parsed.stage("2") is parsed.stages[2]
    assert parsed.find_stage("nope") is None
    assert parsed.find_stage(7) is None
    with pytest.raises(BuildError, match="failed to reach build target nope in Dockerfile"):
        parsed.stage("nope")


# ---------------------------------------------------------------------------------------------
# expansion


def test_expand_env_uses_the_scope_before_the_instruction() -> None:
    inst = one("ENV abc=hello def=$abc ghi=${abc:-x} q=\"a b\" 'lit'=$abc")
    out = expand(inst, {"abc": "bye"})
    assert out.pairs == [("abc", "hello"), ("def", "bye"), ("ghi", "bye"), ("q", "a b"),
                         ("lit", "bye")]
    assert out.args == ["abc=hello", "def=bye", "ghi=bye", "q=a b", "lit=bye"]
    assert inst.pairs[1] == ("def", "$abc")  # the parsed instruction is not changed


@pytest.mark.parametrize(
    ("text", "env", "args"),
    [
        ("WORKDIR ${foo}", {"foo": "/bar"}, ["/bar"]),
        ("ADD . $foo", {"foo": "/bar"}, [".", "/bar"]),
        ("COPY \\$foo /quux", {"foo": "/bar"}, ["$foo", "/quux"]),
        ('COPY ["$foo", "/d"]', {"foo": "/bar"}, ["/bar", "/d"]),
        ("USER ${uid:-1000}:$gid", {"gid": "5"}, ["1000:5"]),
        ("STOPSIGNAL $SIG", {"SIG": "SIGTERM"}, ["SIGTERM"]),
        ("VOLUME $A /b", {"A": "/a"}, ["/a", "/b"]),
        ("EXPOSE $PORTS 53/udp", {"PORTS": "80 443/tcp"}, ["80", "443/tcp", "53/udp"]),
        ("EXPOSE 8000-8010", {}, ["8000-8010"]),
        ("ARG x=$y z", {"y": "1"}, ["x=1", "z"]),
        ("LABEL a=$v", {"v": "1"}, ["a=1"]),
        ("RUN echo $HOME", {"HOME": "/x"}, ["echo $HOME"]),
        ('CMD ["echo", "$HOME"]', {"HOME": "/x"}, ["echo", "$HOME"]),
        ("MAINTAINER $X", {"X": "y"}, ["$X"]),
        ("ONBUILD RUN $X", {"X": "y"}, ["RUN $X"]),
    ],
)
def test_expand(text: str, env: dict[str, str], args: list[str]) -> None:
    assert expand(one(text), env).args == args


def test_expand_from_and_flags() -> None:
    parsed = df("""
        FROM --platform=${P} img:$TAG AS b
        COPY --from=$STAGE --chown=$U:$U --chmod=$M a b
        RUN --mount=type=cache,target=$DIR,id=x --network=none make
        """)
    from_ = expand(parsed.stages[0].from_, {"P": "linux/arm64", "TAG": "1"})
    assert (from_.args, from_.flag("platform")) == (["img:1", "AS", "b"], "linux/arm64")
    copy, run = parsed.stages[0].instructions
    copy = expand(copy, {"STAGE": "build", "U": "1000", "M": "755"})
    assert copy.flags == {"from": ["build"], "chown": ["1000:1000"], "chmod": ["755"]}
    run = expand(run, {"DIR": "/cache"})
    assert run.flags == {"mount": ["type=cache,target=/cache,id=x"], "network": ["none"]}
    assert run.args == ["make"]


def test_expand_copy_heredocs() -> None:
    parsed = df("""
        FROM alpine
        COPY <<EOF <<"RAW" /dst/
        hello $NAME "$NAME" \\$NAME ${NAME:-x}
        EOF
        hello $NAME
        RAW
        """)
    copy = expand(parsed.stages[0].instructions[0], {"NAME": "bob"})
    assert copy.args == ["<<EOF", '<<"RAW"', "/dst/"]
    assert [h.content for h in copy.heredocs] == [
        'hello bob "bob" $NAME bob\n', "hello $NAME\n"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("WORKDIR ${x", "Dockerfile:2: syntax error: missing '}'"),
        ("ENV a=${b:?required}", "Dockerfile:2: b: required"),
        ("EXPOSE $P", "Dockerfile:2: invalid containerPort: abc"),
        ("EXPOSE 80/xyz", "Dockerfile:2: invalid proto: xyz"),
        ("EXPOSE 70000", "Dockerfile:2: invalid containerPort: 70000"),
    ],
)
def test_expand_errors(text: str, message: str) -> None:
    with pytest.raises(BuildError) as info:
        expand(one(text), {"P": "abc"})
    assert message in str(info.value)


# ---------------------------------------------------------------------------------------------
# helpers


@pytest.mark.parametrize(
    ("spec", "mount"),
    [
        ("type=cache,target=/root/.cache",
         Mount(type="cache", target="/root/.cache", readonly=False)),
        ("target=/src", Mount(type="bind", target="/src", readonly=True)),
        ("type=bind,source=.,dst=/src,rw", Mount(target="/src", source=".", readonly=False)),
        ("type=bind,from=build,src=/out,destination=/in,ro=true",
         Mount(target="/in", source="/out", from_="build")),
        ("type=cache,id=go,target=/go,sharing=locked,mode=0755,uid=1000,gid=1000",
         Mount(type="cache", id="go", target="/go", sharing="locked", mode=0o755, uid=1000,
               gid=1000, readonly=False)),
        ("type=secret,id=aws,required", Mount(type="secret", id="aws", required=True,
                                              readonly=False)),
        ("type=secret,id=tok,env=TOKEN", Mount(type="secret", id="tok", env="TOKEN",
                                               readonly=False)),
        ("type=ssh", Mount(type="ssh", readonly=False)),
        ("type=tmpfs,target=/tmp,size=1024", Mount(type="tmpfs", target="/tmp", size=1024,
                                                   readonly=False)),
    ],
)
def test_parse_mount(spec: str, mount: Mount) -> None:
    assert parse_mount(spec) == mount


@pytest.mark.parametrize(
    "spec",
    ["type=cache", "type=weird,target=/x", "target=/x,sharing=some", "target=/x,bogus=1",
     "target=/x,uid=abc", "target=/x,id", "type=tmpfs,target=/t,source=/s"],
)
def test_parse_mount_errors(spec: str) -> None:
    with pytest.raises(ValueError):
        parse_mount(spec)
