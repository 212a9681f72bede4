"""The Dockerfile parser (BuildKit's dockerfile frontend, syntax 1.x), and variable expansion.

API:

    parse(text: str, filename: str = "Dockerfile") -> Dockerfile
    Dockerfile: directives (dict), escape, meta_args (ARGs before the first FROM),
                stages (list[Stage]), stage(ref) -> Stage, find_stage(ref) -> Stage | None
                (ref: a stage name, case-insensitive, or an index as int or digits)
    Stage:      index, name (lower-cased or None), base (raw image word), platform (raw),
                from_ (the FROM Instruction), instructions (list[Instruction] after FROM)
    Instruction: keyword ("RUN"), args, flags, original, line, end_line, json_form,
                 heredocs (list[Heredoc]), pairs (ENV/LABEL/ARG), trigger (ONBUILD's),
                 flag(name) -> str | None, flag_all(name) -> list[str]
    Heredoc:    name, content, expand, chomp, fd
    expand(inst, env, escape="\\", filename="Dockerfile") -> Instruction
        A copy with variables substituted, for the instructions Docker expands (ADD COPY
        ENV EXPOSE FROM LABEL STOPSIGNAL USER VOLUME WORKDIR ARG, and RUN --mount values);
        other instructions come back unchanged. `env` is what is in scope *before* the
        instruction (ENV a=1 b=$a sees the old a, as in Docker).
    expand_word(word, env, escape="\\") -> str          # one shell word: quotes removed
    expand_words(text, env, escape="\\") -> list[str]   # with word splitting
        $V ${V} ${V:-w} ${V-w} ${V:+w} ${V+w} ${V:?msg} ${V?msg} ${V#p} ${V##p} ${V%p}
        ${V%%p} ${V/p/r} ${V//p/r} (p: shell globs * ? with backslash escapes); single
        quotes are literal; in double quotes the escape only escapes " $ and itself.
        A heredoc body (COPY/ADD, unquoted delimiter) is expanded like a shell heredoc:
        only $ forms, quotes kept.
    health_config(inst) -> dict                         # HEALTHCHECK -> image config
    parse_mount(spec) -> Mount                          # RUN --mount=...

What `args` holds, per keyword (before `expand`, words keep their quotes and escapes):
    FROM [image] or [image, "AS", name]
    RUN/CMD/ENTRYPOINT [cmd] (shell form) or the JSON list
    COPY/ADD sources+[dest] (a heredoc source is its word, e.g. "<<EOF")
    ENV/LABEL ["k=v", ...] with `pairs` [(k, v)]; ARG the same, value None when absent
    EXPOSE/VOLUME words     WORKDIR/USER/STOPSIGNAL/MAINTAINER [text]
    SHELL the JSON list     HEALTHCHECK ["NONE"], ["CMD", ...] or ["CMD-SHELL", cmd]
    ONBUILD [trigger text] with `trigger` the parsed Instruction

Errors raise BuildError("Dockerfile:LINE: problem").
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypeVar

from pycontainer.errors import BuildError

if TYPE_CHECKING:
    from pycontainer.oci.imagespec import HealthConfig

# ---------------------------------------------------------------------------------------------
# Shell words (BuildKit's shell.Lex)


class _ShellError(Exception):
    pass


_SPECIAL_PARAMS = "@*#?-$!0"


class _Words:
    """Word splitting as BuildKit does it: unquoted expansions split, quoted text does not."""

    def __init__(self) -> None:
        self.word = ""
        self.words: list[str] = []
        self.in_word = False

    def add_char(self, ch: str) -> None:
        if ch.isspace():
            if self.in_word and self.word:
                self.words.append(self.word)
                self.word = ""
                self.in_word = False
        else:
            self.add_raw(ch)

    def add_raw(self, text: str) -> None:
        self.word += text
        self.in_word = True

    def add_string(self, text: str) -> None:
        for ch in text:
            self.add_char(ch)

    def result(self) -> list[str]:
        if self.word:
            self.words.append(self.word)
            self.word = ""
            self.in_word = False
        return self.words


class _Lex:
    def __init__(
        self,
        text: str,
        env: Mapping[str, str],
        escape: str = "\\",
        raw_quotes: bool = False,
        raw_escapes: bool = False,
        skip_unset: bool = False,
    ) -> None:
        self.text, self.pos, self.env, self.escape = text, 0, env, escape
        self.raw_quotes, self.raw_escapes, self.skip_unset = raw_quotes, raw_escapes, skip_unset

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def next(self) -> str:
        ch = self.peek()
        self.pos += 1 if ch else 0
        return ch

    def run(self) -> tuple[str, list[str]]:
        return self.stop_on("", False)

    def stop_on(self, stop: str, raw_escapes: bool) -> tuple[str, list[str]]:
        result: list[str] = []
        words = _Words()
        special = {"'": self.single_quote, '"': self.double_quote, "$": self.dollar}
        while self.peek():
            ch = self.peek()
            if stop and ch == stop:
                self.next()
                return "".join(result), words.result()
            if ch in special:
                text = special[ch]()
                result.append(text)
                if ch == "$":
                    words.add_string(text)
                else:
                    words.add_raw(text)
                continue
            ch = self.next()
            if ch == self.escape:
                if raw_escapes or self.raw_escapes:
                    words.add_raw(ch)
                    result.append(ch)
                ch = self.next()
                if not ch:
                    break
                words.add_raw(ch)
            else:
                words.add_char(ch)
            result.append(ch)
        if stop:
            raise _ShellError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(result), words.result()

    def single_quote(self) -> str:
        quote = self.next()
        out = [quote] if self.raw_quotes else []
        while True:
            ch = self.next()
            if not ch:
                raise _ShellError(
                    "unexpected end of statement while looking for matching single-quote"
                )
            if ch == "'":
                if self.raw_quotes:
                    out.append(ch)
                return "".join(out)
            out.append(ch)

    def double_quote(self) -> str:
        quote = self.next()
        out = [quote] if self.raw_quotes else []
        while True:
            ch = self.peek()
            if not ch:
                raise _ShellError(
                    "unexpected end of statement while looking for matching double-quote"
                )
            if ch == '"':
                self.next()
                if self.raw_quotes:
                    out.append(ch)
                return "".join(out)
            if ch == "$":
                out.append(self.dollar())
                continue
            ch = self.next()
            if ch == self.escape:
                nxt = self.peek()
                if not nxt:
                    continue  # a lone escape at the end of the word is dropped
                if nxt in ('"', "$", self.escape):
                    if self.raw_escapes:
                        out.append(ch)
                    ch = self.next()
            out.append(ch)

    def name(self) -> str:
        ch = self.peek()
        if ch.isdigit():
            start = self.pos
            while self.peek().isdigit():
                self.next()
            return self.text[start : self.pos]
        if ch and ch in _SPECIAL_PARAMS:
            return self.next()
        start = self.pos
        while self.peek() and (self.peek().isalnum() or self.peek() == "_"):
            self.next()
        return self.text[start : self.pos]

    def lookup(self, name: str) -> str | None:
        return self.env.get(name)

    def dollar(self) -> str:
        self.next()
        if self.peek() != "{":
            name = self.name()
            if not name:
                return "$"
            value = self.lookup(name)
            if value is None and self.skip_unset:
                return "$" + name
            return value or ""
        self.next()
        if not self.peek():
            raise _ShellError("syntax error: missing '}'")
        if self.peek() in "{}:":
            raise _ShellError("syntax error: bad substitution")
        return self.braced(self.name())

    def braced(self, name: str) -> str:
        ch = self.next()
        if not ch:
            raise _ShellError("syntax error: missing '}'")
        if ch == "}":
            value = self.lookup(name)
            if value is None and self.skip_unset:
                return "${" + name + "}"
            return value or ""
        if ch == "/":
            return self.replace(name)
        null_is_unset = ch == ":"
        op = ch
        if null_is_unset:
            ch = self.next()
            op += ch
        if ch not in ("+", "-", "?", "#", "%") or (null_is_unset and ch in "#%"):
            raise _ShellError(f"unsupported modifier ({op}) in substitution")
        word = self.braced_word("}", ch in "#%", "syntax error: missing '}'")
        value = self.lookup(name)
        if value is None and self.skip_unset:
            return "${" + name + op + word + "}"
        return _modifier(name, ch, null_is_unset, value, word)

    def braced_word(self, stop: str, raw_escapes: bool, missing: str) -> str:
        try:
            return self.stop_on(stop, raw_escapes)[0]
        except _ShellError:
            if not self.peek():
                raise _ShellError(missing) from None
            raise

    def replace(self, name: str) -> str:
        """${name/pattern/replacement} and ${name//pattern/replacement}."""
        replace_all = self.peek() == "/"
        if replace_all:
            self.next()
        pattern = self.braced_word("/", True, "syntax error: missing '/' in ${}")
        replacement = self.braced_word("}", True, "syntax error: missing '}'")
        value = self.lookup(name)
        if value is None and self.skip_unset:
            return "${" + name + "/" + ("/" if replace_all else "") + pattern + "/" + \
                replacement + "}"
        regex = re.compile(_glob_regex(pattern, greedy=True))
        return regex.sub(lambda m: replacement, value or "", count=0 if replace_all else 1)


def _glob_regex(pattern: str, greedy: bool) -> str:
    """A shell pattern (`*`, `?`, backslash escapes) as a regular expression."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            nxt = pattern[i + 1 : i + 2]
            if not nxt or nxt.isalnum():
                raise _ShellError(f"invalid pattern ({pattern}) in substitution")
            out.append(re.escape(nxt))
            i += 2
            continue
        out.append({"*": ".*" if greedy else ".*?", "?": "."}.get(ch, re.escape(ch)))
        i += 1
    return "".join(out)


def _modifier(name: str, op: str, null_is_unset: bool, value: str | None, word: str) -> str:
    unset = value is None or (null_is_unset and value == "")
    if op == "-":
        return word if unset else value or ""
    if op == "+":
        return "" if unset else word
    if op == "?":
        if value is None:
            raise _ShellError(f"{name}: {word or 'is not allowed to be unset'}")
        if unset:
            raise _ShellError(f"{name}: {word or 'is not allowed to be empty'}")
        return value
    greedy = word[:1] == op
    pattern = word[1:] if greedy else word
    return _trim(value or "", pattern, suffix=op == "%", greedy=greedy)


def _trim(value: str, pattern: str, suffix: bool, greedy: bool) -> str:
    """${v#pat} ${v##pat} ${v%pat} ${v%%pat}: remove the shortest / longest match."""
    regex = re.compile(_glob_regex(pattern, greedy=True), re.DOTALL)
    sizes = range(len(value), -1, -1) if greedy else range(len(value) + 1)
    for size in sizes:
        part = value[len(value) - size :] if suffix else value[:size]
        if regex.fullmatch(part):
            return value[: len(value) - size] if suffix else value[size:]
    return value


_T = TypeVar("_T")


def _shell(fn: Callable[[], _T]) -> _T:
    try:
        return fn()
    except _ShellError as exc:
        raise ValueError(str(exc)) from None


def expand_word(word: str, env: Mapping[str, str], escape: str = "\\") -> str:
    """One shell word with variables substituted and quotes / escapes removed
    (BuildKit's ProcessWord). Raises ValueError on bad syntax."""
    return str(_shell(lambda: _Lex(word, env, escape).run()[0]))


def expand_words(text: str, env: Mapping[str, str], escape: str = "\\") -> list[str]:
    """Like expand_word, then split into words (unquoted expansions split on spaces)."""
    return list(_shell(lambda: _Lex(text, env, escape).run()[1]))


def _expand_heredoc(content: str, env: Mapping[str, str]) -> str:
    """A heredoc body with an unquoted delimiter, expanded like the shell does: `$` forms,
    and a backslash escapes only $, ` and backslash (quotes are ordinary characters)."""
    out: list[str] = []
    i = 0
    while i < len(content):
        ch = content[i]
        if ch == "\\" and content[i + 1 : i + 2] in ("$", "`", "\\"):
            out.append(content[i + 1])
            i += 2
        elif ch == "$":
            lex = _Lex(content[i:], env)
            out.append(_shell(lex.dollar))
            i += lex.pos
        else:
            out.append(ch)
            i += 1
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Data


@dataclass
class Heredoc:
    """`<<EOF` ... `EOF`: `content` ends with a newline; `expand` is False when the delimiter
    was quoted (`<<"EOF"`, `<<'EOF'`); `chomp` for `<<-` (leading tabs already removed)."""

    name: str
    content: str = ""
    expand: bool = True
    chomp: bool = False
    fd: int = 0


@dataclass
class Instruction:
    keyword: str
    args: list[str]
    flags: dict[str, list[str]] = field(default_factory=dict)
    original: str = ""
    line: int = 0
    end_line: int = 0
    json_form: bool = False
    heredocs: list[Heredoc] = field(default_factory=list)
    pairs: list[tuple[str, str | None]] = field(default_factory=list)
    trigger: Instruction | None = None

    def flag(self, name: str) -> str | None:
        """The flag's value (the last one if given several times), or None."""
        values = self.flags.get(name)
        return values[-1] if values else None

    def flag_all(self, name: str) -> list[str]:
        return list(self.flags.get(name, []))


@dataclass
class Stage:
    index: int
    name: str | None
    base: str
    platform: str | None
    from_: Instruction
    instructions: list[Instruction] = field(default_factory=list)


@dataclass
class Dockerfile:
    stages: list[Stage]
    meta_args: list[Instruction]
    directives: dict[str, str]
    escape: str = "\\"
    filename: str = "Dockerfile"

    def find_stage(self, ref: str | int) -> Stage | None:
        """A stage by name (case-insensitive) or index; None when there is none."""
        if isinstance(ref, int) or ref.isdigit():
            index = int(ref)
            return self.stages[index] if 0 <= index < len(self.stages) else None
        wanted = ref.lower()
        return next((s for s in self.stages if s.name == wanted), None)

    def stage(self, ref: str | int) -> Stage:
        found = self.find_stage(ref)
        if found is None:
            raise BuildError(f"failed to reach build target {ref} in {self.filename}")
        return found


@dataclass
class Mount:
    """One RUN --mount (BuildKit's option names; `from_` is `from`)."""

    type: str = "bind"
    target: str = ""
    source: str | None = None
    from_: str | None = None
    readonly: bool = True
    id: str | None = None
    sharing: str = "shared"
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None
    size: int | None = None
    required: bool = False
    env: str | None = None


# ---------------------------------------------------------------------------------------------
# Flags and words


class _ParseError(Exception):
    """A problem in one instruction; the parser adds file and line."""


def _extract_flags(rest: str) -> tuple[list[str], str]:
    """BuildKit's extractBuilderFlags: leading `--x[=v]` words (quotes and backslashes
    processed), stopping at the first other word or at `--`. Returns (flags, remainder)."""
    words: list[str] = []
    word, quote, blank_ok, pos, n = "", "", False, 0, len(rest)
    phase = "space"
    while pos <= n:
        ch = rest[pos] if pos < n else ""
        if phase == "space":
            if pos == n:
                break
            if ch.isspace():
                pos += 1
                continue
            if not rest.startswith("--", pos):
                return words, rest[pos:]
            phase = "word"
        if pos == n:
            if word != "--" and (blank_ok or word):
                words.append(word)
            break
        if phase == "word" and ch.isspace():
            if word == "--":
                return words, rest[pos:].lstrip()
            if blank_ok or word:
                words.append(word)
            word, blank_ok, phase = "", False, "space"
        elif phase == "word" and ch in "'\"":
            quote, blank_ok, phase = ch, True, "quote"
        elif phase == "quote" and ch == quote:
            phase = "word"
        elif ch == "\\":
            if pos + 1 == n:
                phase = "word"
            else:
                pos += 1
                word += rest[pos]
        else:
            word += ch
        pos += 1
    return words, ""


_FLAG_TYPES: dict[str, dict[str, str]] = {
    # keyword: {flag: "string" | "bool" | "strings"}
    "FROM": {"platform": "string"},
    "COPY": {"from": "string", "chown": "string", "chmod": "string", "link": "bool",
             "parents": "bool", "exclude": "strings"},
    "ADD": {"chown": "string", "chmod": "string", "link": "bool", "checksum": "string",
            "keep-git-dir": "bool", "exclude": "strings", "unpack": "bool"},
    "RUN": {"mount": "strings", "network": "string", "security": "string"},
    "HEALTHCHECK": {"interval": "string", "timeout": "string", "start-period": "string",
                    "start-interval": "string", "retries": "string"},
}


def _parse_flags(keyword: str, words: list[str]) -> dict[str, list[str]]:
    """BuildKit's BFlags.Parse for the flags `keyword` accepts."""
    known = _FLAG_TYPES.get(keyword, {})
    flags: dict[str, list[str]] = {}
    for word in words:
        name, eq, value = word[2:].partition("=")
        kind = known.get(name)
        if kind is None:
            raise _ParseError(f"unknown flag: {name}")
        if name in flags and kind != "strings":
            raise _ParseError(f"duplicate flag specified: {name}")
        if kind == "bool":
            if eq and not value:
                raise _ParseError(f"missing a value on flag: {name}")
            value = value.lower() or "true"
            if value not in ("true", "false"):
                raise _ParseError(f"expecting boolean value for flag {name}, not: {value}")
        elif not eq:
            raise _ParseError(f"missing a value on flag: {name}")
        flags.setdefault(name, []).append(value)
    return flags


def _parse_words(rest: str, escape: str) -> list[str]:
    """BuildKit's parseWords: split on unquoted whitespace, keeping quotes and escapes."""
    words: list[str] = []
    word, quote, blank_ok, phase, pos, n = "", "", False, "space", 0, len(rest)
    while pos < n:
        ch = rest[pos]
        if phase == "space":
            if ch.isspace():
                pos += 1
                continue
            phase = "word"
        if phase == "word" and ch.isspace():
            if blank_ok or word:
                words.append(word)
            word, blank_ok, phase = "", False, "space"
            pos += 1
            continue
        if phase == "word" and ch in "'\"":
            quote, blank_ok, phase = ch, True, "quote"
        elif phase == "quote" and ch == quote:
            phase = "word"
        if ch == escape and (phase == "word" or quote != "'"):
            if pos + 1 == n:
                phase = "word"
                break
            word += ch
            pos += 1
            ch = rest[pos]
        word += ch
        pos += 1
    if phase != "space" and (blank_ok or word):
        words.append(word)
    return words


# ---------------------------------------------------------------------------------------------
# Instructions


def _json_array(rest: str) -> list[str] | None:
    """The exec form's JSON array of strings, or None when `rest` is not JSON."""
    text = rest.lstrip()
    if not text.startswith("["):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, list):
        return None
    if not all(isinstance(v, str) for v in value):
        raise _ParseError(
            "when using JSON array syntax, arrays must be comprised of strings only"
        )
    return value


def _need(keyword: str, args: list[str], least: int, exact: bool = False) -> None:
    if exact and len(args) != least:
        raise _ParseError(f"{keyword} requires exactly one argument")
    if len(args) < least:
        if least == 1:
            raise _ParseError(f"{keyword} requires at least one argument")
        raise _ParseError(
            f"{keyword} requires at least two arguments, but only one was provided. "
            "Destination could not be determined."
        )


def _exec_or_shell(inst: Instruction, rest: str) -> None:
    array = _json_array(rest)
    if array is not None:
        inst.args, inst.json_form = array, True
    elif rest:
        inst.args = [rest]
    else:
        _need(inst.keyword, [], 1)


def _list_form(inst: Instruction, rest: str) -> None:
    """COPY, ADD, VOLUME: a JSON array, or words split on whitespace (no quoting)."""
    array = _json_array(rest)
    inst.json_form = array is not None
    inst.args = array if array is not None else rest.split()


def _name_values(inst: Instruction, rest: str, escape: str) -> None:
    """ENV and LABEL: `k=v k2=v2`, or the legacy `k value with spaces`."""
    words = _parse_words(rest, escape)
    _need(inst.keyword, words, 1)
    if "=" not in words[0]:
        parts = rest.strip().split(None, 1)
        if len(parts) < 2:
            raise _ParseError(f"{inst.keyword} must have two arguments")
        inst.pairs = [(parts[0], parts[1])]
    else:
        for word in words:
            if "=" not in word:
                raise _ParseError(
                    f"Syntax error - can't find = in {word!r}. Must be of the form: name=value"
                )
            key, _, value = word.partition("=")
            inst.pairs.append((key, value))
    inst.args = [f"{k}={v}" for k, v in inst.pairs]


def _arg(inst: Instruction, rest: str, escape: str) -> None:
    words = _parse_words(rest, escape)
    _need("ARG", words, 1)
    for word in words:
        key, eq, value = word.partition("=")
        if not key:
            raise _ParseError(f"invalid ARG {word!r}: the name is empty")
        inst.pairs.append((key, value if eq else None))
    inst.args = words


_STAGE_NAME = re.compile(r"^[a-z][a-z0-9\-_.]*$")


def _from(inst: Instruction, rest: str) -> None:
    words = rest.split()
    if len(words) not in (1, 3) or (len(words) == 3 and words[1].lower() != "as"):
        raise _ParseError("FROM requires either one or three arguments")
    if len(words) == 3 and not _STAGE_NAME.match(words[2].lower()):
        raise _ParseError(
            f"invalid name for build stage: {words[2]!r}, "
            "name can't start with a number or contain symbols"
        )
    inst.args = words


def _healthcheck(inst: Instruction, rest: str) -> None:
    parts = rest.split(None, 1)
    _need("HEALTHCHECK", parts, 1)
    kind = parts[0].upper()
    tail = parts[1] if len(parts) > 1 else ""
    if kind == "NONE":
        if tail or inst.flags:
            raise _ParseError("HEALTHCHECK NONE takes no arguments")
        inst.args = ["NONE"]
        return
    if kind != "CMD":
        raise _ParseError(f'Unknown type "{parts[0]}" in HEALTHCHECK (try CMD)')
    array = _json_array(tail)
    if array is not None:
        inst.args, inst.json_form = ["CMD", *array], True
    elif tail.strip():
        inst.args = ["CMD-SHELL", tail]
    if len(inst.args) < 2:
        raise _ParseError("Missing command after HEALTHCHECK CMD")
    _health_flags(inst)


def _health_flags(inst: Instruction) -> None:
    for name in ("interval", "timeout", "start-period", "start-interval"):
        value = inst.flag(name)
        if value:
            nanos = _duration_or_error(value, name)
            if 0 < nanos < 1_000_000:
                raise _ParseError(f"{name} {value!r} cannot be less than 1ms")
    retries = inst.flag("retries")
    if retries:
        if not re.fullmatch(r"[+-]?\d+", retries):
            raise _ParseError(f'strconv.ParseInt: parsing "{retries}": invalid syntax')
        if int(retries) < 0:
            raise _ParseError(f"--retries cannot be negative ({int(retries)})")


def _single(inst: Instruction, rest: str) -> None:
    inst.args = [rest] if rest else []
    _need(inst.keyword, inst.args, 1, exact=True)


def _shell_instruction(inst: Instruction, rest: str) -> None:
    array = _json_array(rest)
    if array is None:
        raise _ParseError("SHELL requires the arguments to be in JSON form")
    _need("SHELL", array, 1)
    inst.args, inst.json_form = array, True


def _words(inst: Instruction, rest: str) -> None:
    inst.args = rest.split()
    _need(inst.keyword, inst.args, 1)


_ONBUILD_FORBIDDEN = {"ONBUILD", "FROM", "MAINTAINER"}
KEYWORDS = (
    "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
    "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
)


def _instruction(text: str, escape: str) -> Instruction:
    """Parse one logical line (continuations joined) into an Instruction."""
    parts = text.strip().split(None, 1)
    keyword = parts[0].upper()
    if keyword not in KEYWORDS:
        raise _ParseError(f"unknown instruction: {parts[0]}")
    flag_words, rest = _extract_flags(parts[1] if len(parts) > 1 else "")
    inst = Instruction(keyword, [], _parse_flags(keyword, flag_words), original=text)
    rest = rest.strip()
    if keyword in ("RUN", "CMD", "ENTRYPOINT"):
        _exec_or_shell(inst, rest)
    elif keyword in ("COPY", "ADD", "VOLUME"):
        _list_form(inst, rest)
        _need(keyword, inst.args, 1 if keyword == "VOLUME" else 2)
        if keyword == "VOLUME" and any(not a.strip() for a in inst.args):
            raise _ParseError("VOLUME specified can not be an empty string")
    elif keyword in ("ENV", "LABEL"):
        _name_values(inst, rest, escape)
    elif keyword == "ONBUILD":
        _onbuild(inst, rest, escape)
    elif keyword == "ARG":
        _arg(inst, rest, escape)
    else:
        _SIMPLE[keyword](inst, rest)
    if keyword == "RUN":
        _check_run_flags(inst)
    return inst


def _onbuild(inst: Instruction, rest: str, escape: str) -> None:
    if not rest:
        raise _ParseError("ONBUILD requires at least one argument")
    trigger = _instruction(rest, escape)
    if trigger.keyword in _ONBUILD_FORBIDDEN:
        if trigger.keyword == "ONBUILD":
            raise _ParseError("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
        raise _ParseError(f"{trigger.keyword} isn't allowed as an ONBUILD trigger")
    inst.args, inst.trigger = [rest], trigger


def _check_run_flags(inst: Instruction) -> None:
    network = inst.flag("network")
    if network is not None and network not in ("default", "none", "host"):
        raise _ParseError(f"unsupported network mode {network!r}")
    security = inst.flag("security")
    if security is not None and security not in ("sandbox", "insecure"):
        raise _ParseError(f"unsupported security mode {security!r}")
    for spec in inst.flag_all("mount"):
        try:
            parse_mount(spec)
        except ValueError as exc:
            raise _ParseError(str(exc)) from None


_SIMPLE: dict[str, Callable[[Instruction, str], None]] = {
    "FROM": _from,
    "EXPOSE": _words,
    "WORKDIR": _single,
    "USER": _single,
    "STOPSIGNAL": _single,
    "MAINTAINER": _single,
    "HEALTHCHECK": _healthcheck,
    "SHELL": _shell_instruction,
}


# ---------------------------------------------------------------------------------------------
# Lines, directives, heredocs


_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
_KNOWN_DIRECTIVES = ("syntax", "escape", "check")
_HEREDOC = re.compile(r"^(\d*)<<(-?)([^<]*)$")
_HEREDOC_KEYWORDS = ("RUN", "COPY", "ADD")


class _Reader:
    """Physical lines -> logical instructions (BuildKit's parser.Parse)."""

    def __init__(self, text: str, filename: str) -> None:
        text = text.removeprefix("\ufeff")
        self.lines = [line.removesuffix("\r") for line in text.split("\n")]
        if self.lines and self.lines[-1] == "":
            self.lines.pop()
        self.filename = filename
        self.i = 0
        self.escape = "\\"
        self.directives: dict[str, str] = {}
        self.directives_done = False

    def fail(self, line: int, msg: str) -> None:
        raise BuildError(f"{self.filename}:{line}: {msg}")

    def directive(self, line: str, number: int) -> None:
        if self.directives_done:
            return
        m = _DIRECTIVE.match(line)
        key = m.group(1).lower() if m else ""
        if m is None or key not in _KNOWN_DIRECTIVES:
            self.directives_done = True
            return
        if key in self.directives:
            self.fail(number, f"only one {key} parser directive can be used")
        value = m.group(2)
        if key == "escape":
            if value not in ("\\", "`"):
                self.fail(number, f"invalid escape token '{value}' does not match ` or \\")
            self.escape = value
        self.directives[key] = value

    def continued(self, line: str) -> tuple[str, bool]:
        """Strip a trailing escape (the line goes on); return (text, line ended)."""
        stripped = line.rstrip(" \t")
        if stripped.endswith(self.escape):
            return stripped[: -len(self.escape)], False
        return line, True

    def logical(self) -> tuple[str, int, int] | None:
        """The next instruction's text with continuations joined, its first and last line."""
        while self.i < len(self.lines):
            raw = self.lines[self.i]
            self.i += 1
            start = self.i
            self.directive(raw.lstrip(), start)
            stripped = raw.lstrip()
            if stripped.startswith("#"):
                continue
            text, ended = self.continued(stripped)
            if ended and not text.strip():
                continue
            while not ended and self.i < len(self.lines):
                raw = self.lines[self.i]
                self.i += 1
                if raw.lstrip().startswith("#") or not raw.strip():
                    continue  # comments and (deprecated) empty lines inside a continuation
                part, ended = self.continued(raw)
                text += part
            return text, start, self.i
        return None

    def heredoc_bodies(self, docs: list[Heredoc], start: int) -> None:
        for doc in docs:
            body: list[str] = []
            while True:
                if self.i >= len(self.lines):
                    self.fail(start, f"unterminated heredoc {doc.name}")
                line = self.lines[self.i]
                self.i += 1
                candidate = line.lstrip("\t") if doc.chomp else line
                if candidate == doc.name:
                    break
                body.append(candidate + "\n")
            doc.content = "".join(body)


def _heredocs(inst: Instruction) -> list[Heredoc]:
    """The heredocs a RUN / COPY / ADD line (or its ONBUILD trigger) opens, in order."""
    target = inst.trigger if inst.trigger is not None else inst
    if target.keyword not in _HEREDOC_KEYWORDS or target.json_form or "<<" not in inst.original:
        return []
    try:
        words = _Lex(inst.original, {}, raw_quotes=True, raw_escapes=True).run()[1]
    except _ShellError:
        return []
    docs: list[Heredoc] = []
    for word in words:
        m = _HEREDOC.match(word)
        if m is None or not m.group(3):
            continue
        rest = m.group(3)
        try:
            plain = _Lex(rest, {}, skip_unset=True).run()[1]
            raw = _Lex(rest, {}, raw_quotes=True, skip_unset=True).run()[1]
        except _ShellError as exc:
            raise _ParseError(str(exc)) from None
        if len(plain) != 1 or len(raw) != 1:
            continue

        def quotes(w: str) -> int:
            return w.count("'") + w.count('"')

        docs.append(Heredoc(plain[0], expand=quotes(plain[0]) == quotes(raw[0]),
                            chomp=m.group(2) == "-", fd=int(m.group(1) or 0)))
    return docs


def parse(text: str, filename: str = "Dockerfile") -> Dockerfile:
    """Parse a Dockerfile into its stages (see the module docstring)."""
    reader = _Reader(text, filename)
    instructions: list[Instruction] = []
    while (logical := reader.logical()) is not None:
        line_text, start, end = logical
        try:
            inst = _instruction(line_text, reader.escape)
            inst.heredocs = _heredocs(inst)
        except _ParseError as exc:
            raise BuildError(f"{filename}:{start}: {exc}") from None
        reader.heredoc_bodies(inst.heredocs, start)
        inst.line, inst.end_line = start, max(end, reader.i)
        if inst.trigger is not None:
            inst.trigger.line, inst.trigger.end_line = inst.line, inst.end_line
            inst.trigger.heredocs = inst.heredocs
        instructions.append(inst)
    if not instructions:
        raise BuildError(f"{filename}:1: file with no instructions")
    return _stages(instructions, reader)


def _stages(instructions: list[Instruction], reader: _Reader) -> Dockerfile:
    result = Dockerfile([], [], reader.directives, reader.escape, reader.filename)
    for inst in instructions:
        if inst.keyword == "FROM":
            name = inst.args[2].lower() if len(inst.args) == 3 else None
            if name is not None and result.find_stage(name) is not None:
                reader.fail(inst.line, f"duplicate stage name {name!r}")
            stage = Stage(len(result.stages), name, inst.args[0], inst.flag("platform"), inst)
            result.stages.append(stage)
        elif result.stages:
            result.stages[-1].instructions.append(inst)
        elif inst.keyword == "ARG":
            result.meta_args.append(inst)
        else:
            reader.fail(inst.line, "no build stage in current context")
    if not result.stages:
        reader.fail(instructions[-1].line, "no build stage in current context")
    return result


# ---------------------------------------------------------------------------------------------
# Expansion


def _replace_pairs(inst: Instruction, word: Callable[[str], str]) -> Instruction:
    pairs = [(word(k), None if v is None else word(v)) for k, v in inst.pairs]
    args = [k if v is None else f"{k}={v}" for k, v in pairs]
    return dataclasses.replace(inst, pairs=pairs, args=args)


def _expand_flags(
    inst: Instruction, names: tuple[str, ...], word: Callable[[str], str]
) -> dict[str, list[str]]:
    return {k: [word(v) for v in vs] if k in names else list(vs) for k, vs in inst.flags.items()}


def _expand_copy(inst: Instruction, word: Callable[[str], str],
                 env: Mapping[str, str]) -> Instruction:
    heredoc_words = {w for w in inst.args[:-1] if w.startswith("<<")} if inst.heredocs else set()
    args = [a if a in heredoc_words else word(a) for a in inst.args]
    docs = [
        dataclasses.replace(d, content=_expand_heredoc(d.content, env)) if d.expand else d
        for d in inst.heredocs
    ]
    flags = _expand_flags(inst, ("from", "chown", "chmod", "checksum"), word)
    return dataclasses.replace(inst, args=args, heredocs=docs, flags=flags)


_PORT = re.compile(r"^(\d+)(?:-(\d+))?(?:/([A-Za-z]+))?$")


def _expand_expose(inst: Instruction, word: Callable[[str], str],
                   env: Mapping[str, str]) -> Instruction:
    ports = [p for a in inst.args for p in word(a).split()]
    for port in ports:
        m = _PORT.match(port)
        if m is None:
            raise ValueError(f"invalid containerPort: {port.split('/')[0]}")
        if m.group(3) and m.group(3).lower() not in ("tcp", "udp", "sctp"):
            raise ValueError(f"invalid proto: {m.group(3)}")
        if int(m.group(1)) > 65535 or (m.group(2) and int(m.group(2)) > 65535):
            raise ValueError(f"invalid containerPort: {port.split('/')[0]}")
    return dataclasses.replace(inst, args=ports)


def _expand_run(inst: Instruction, word: Callable[[str], str],
                env: Mapping[str, str]) -> Instruction:
    if "mount" not in inst.flags:
        return inst
    mounts = [_expand_mount(spec, word) for spec in inst.flags["mount"]]
    return dataclasses.replace(inst, flags={**inst.flags, "mount": mounts})


def _expand_mount(spec: str, word: Callable[[str], str]) -> str:
    fields = next(csv.reader([spec]))
    out = []
    for item in fields:
        key, eq, value = item.partition("=")
        out.append(f"{key}={word(value)}" if eq else item)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(out)
    return buf.getvalue()


_Expander = Callable[[Instruction, Callable[[str], str], Mapping[str, str]], Instruction]
_EXPANDERS: dict[str, _Expander] = {
    "ENV": lambda i, w, e: _replace_pairs(i, w),
    "LABEL": lambda i, w, e: _replace_pairs(i, w),
    "ARG": lambda i, w, e: _replace_pairs(i, w),
    "COPY": _expand_copy,
    "ADD": _expand_copy,
    "EXPOSE": _expand_expose,
    "FROM": lambda i, w, e: dataclasses.replace(
        i, args=[w(i.args[0]), *i.args[1:]], flags=_expand_flags(i, ("platform",), w)
    ),
    "WORKDIR": lambda i, w, e: dataclasses.replace(i, args=[w(i.args[0])]),
    "USER": lambda i, w, e: dataclasses.replace(i, args=[w(i.args[0])]),
    "STOPSIGNAL": lambda i, w, e: dataclasses.replace(i, args=[w(i.args[0])]),
    "VOLUME": lambda i, w, e: dataclasses.replace(i, args=[w(a) for a in i.args]),
    "RUN": _expand_run,
}


def expand(
    inst: Instruction, env: Mapping[str, str], escape: str = "\\", filename: str = "Dockerfile"
) -> Instruction:
    """A copy of `inst` with `$VAR` forms substituted from `env` (see the module docstring)."""
    expander = _EXPANDERS.get(inst.keyword)
    if expander is None:
        return inst

    def word(text: str) -> str:
        return expand_word(text, env, escape)

    try:
        return expander(inst, word, env)
    except ValueError as exc:
        raise BuildError(f"{filename}:{inst.line}: {exc}") from None


# ---------------------------------------------------------------------------------------------
# HEALTHCHECK and RUN --mount values


def _duration_or_error(value: str, name: str) -> int:
    """Go's time.ParseDuration, in nanoseconds; its message as the parse error."""
    from pycontainer.errors import UsageError
    from pycontainer.formats.durations import parse_duration

    try:
        return parse_duration(value)
    except UsageError as exc:
        raise _ParseError(str(exc)) from None


_Duration = Literal["Interval", "Timeout", "StartPeriod", "StartInterval"]
_DURATIONS: dict[str, _Duration] = {"interval": "Interval", "timeout": "Timeout",
                                    "start-period": "StartPeriod",
                                    "start-interval": "StartInterval"}


def health_config(inst: Instruction) -> HealthConfig:
    """HEALTHCHECK as the image config's Healthcheck (durations in nanoseconds, zero values
    left out as Docker's omitempty does)."""
    config: HealthConfig = {"Test": list(inst.args)}
    for flag, key in _DURATIONS.items():
        value = inst.flag(flag)
        if value:
            nanos = _duration_or_error(value, flag)
            if nanos:
                config[key] = nanos
    retries = inst.flag("retries")
    if retries and int(retries):
        config["Retries"] = int(retries)
    return config


_MOUNT_TYPES = ("bind", "cache", "tmpfs", "secret", "ssh")
_MOUNT_ALIASES = {"dst": "target", "destination": "target", "src": "source", "ro": "readonly"}


def _mount_bool(key: str, value: str | None) -> bool:
    if value is None:
        return True
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise ValueError(f"invalid value for {key}: {value}")


def _mount_int(key: str, value: str | None, base: int = 10) -> int:
    try:
        return int(value or "", base)
    except ValueError:
        raise ValueError(f"invalid value for {key}: {value}") from None


def _mount_field(mount: Mount, key: str, value: str | None, item: str) -> None:
    if key in ("readonly", "rw", "readwrite"):
        flag = _mount_bool(key, value)
        mount.readonly = flag if key == "readonly" else not flag
    elif key in ("required",):
        mount.required = _mount_bool(key, value)
    elif value is None:
        raise ValueError(f"invalid field '{item}' must be a key=value pair")
    elif key in ("target", "source", "id", "env"):
        setattr(mount, key, value)
    elif key == "from":
        mount.from_ = value
    elif key == "sharing":
        if value not in ("shared", "private", "locked"):
            raise ValueError(f"unsupported sharing value {value!r}")
        mount.sharing = value
    elif key == "mode":
        mount.mode = _mount_int(key, value, 8)
    elif key in ("uid", "gid", "size"):
        setattr(mount, key, _mount_int(key, value))
    else:
        raise ValueError(f"unexpected key '{key}' in '{item}'")


def parse_mount(spec: str) -> Mount:
    """One `RUN --mount=` value, BuildKit's keys: type, target|dst|destination,
    source|src, from, readonly|ro, rw|readwrite, id, sharing, mode, uid, gid, size,
    required, env. ValueError when malformed."""
    fields = next(csv.reader([spec]), [])
    mount = Mount()
    kind = next((f.split("=", 1)[1].lower() for f in fields if f.lower().startswith("type=")),
                "bind")
    if kind not in _MOUNT_TYPES:
        raise ValueError(f"unsupported mount type {kind!r}")
    mount.type = kind
    mount.readonly = kind == "bind"
    for item in fields:
        key, eq, value = item.strip().partition("=")
        key = _MOUNT_ALIASES.get(key.lower(), key.lower())
        if key != "type":
            _mount_field(mount, key, value if eq else None, item)
    if not mount.target and kind not in ("secret", "ssh"):
        raise ValueError(f"mount type {kind} requires a target")
    if kind == "tmpfs" and (mount.from_ or mount.source):
        raise ValueError("tmpfs mounts take no source")
    return mount
