"""The build context's `.dockerignore` rules (Docker's moby/patternmatcher semantics).

API:

    DockerIgnore(text: str = "", dockerfile: str = "Dockerfile")
    DockerIgnore.patterns -> list[str]            # cleaned, `!` kept on exceptions
    DockerIgnore.excluded(relpath: str, is_dir: bool = False) -> bool
        Is this path left out of COPY / ADD? The last matching pattern wins; a pattern
        that matches a parent directory matches everything below it.
    DockerIgnore.skip_dir(relpath: str) -> bool
        May a walker skip the directory's whole subtree? (excluded, and no `!` exception
        could re-include anything below it)
    DockerIgnore.sent(relpath: str, is_dir: bool = False) -> bool
        Is the path part of the context? As `excluded`, except that the Dockerfile and
        `.dockerignore` are always sent (the builder needs them) even when ignored;
        COPY still leaves them out.

Pattern syntax: Go's filepath.Match (`*`, `?`, `[a-z]`, `[^a]`, `\\` escapes) plus `**`
(any number of directories); lines starting with `#` are comments; surrounding blanks are
trimmed; paths are cleaned (`./a`, `/a`, `a/` and `a//b/../c` mean `a` and `a/c`); a
leading `!` makes an exception. Bad patterns raise BuildError.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from pycontainer.errors import BuildError


def _clean(path: str) -> str:
    """Go's filepath.Clean for slash paths."""
    if not path:
        return "."
    cleaned = posixpath.normpath(path)
    if cleaned.startswith("//"):  # normpath keeps a leading "//"; Go does not
        cleaned = "/" + cleaned.lstrip("/")
    return cleaned


@dataclass
class _Pattern:
    text: str
    exclusion: bool
    kind: str  # exact, prefix, suffix, regexp
    regexp: re.Pattern[str] | None

    def match(self, path: str) -> bool:
        if self.kind == "exact":
            return path == self.text
        if self.kind == "prefix":
            return path.startswith(self.text[:-2])
        if self.kind == "suffix":
            suffix = self.text[2:]
            return path.endswith(suffix) or (suffix[:1] == "/" and path == suffix[1:])
        assert self.regexp is not None
        return self.regexp.match(path) is not None


def _translate(pattern: str) -> tuple[str, str]:
    """patternmatcher's compile: (match kind, regular expression)."""
    out, kind, i, n, token = "^", "exact", 0, len(pattern), 0
    while i < n:
        ch = pattern[i]
        i += 1
        if ch == "*" and pattern[i : i + 1] == "*":
            i += 1 + (pattern[i + 1 : i + 2] == "/")
            if i >= n:  # a trailing "**" takes everything below
                kind, out = ("prefix", out) if kind == "exact" else ("regexp", out + ".*")
            else:
                kind, out = "regexp", out + "(.*/)?"
            if token == 0:
                kind = "suffix"
        elif ch in "*?":
            kind, out = "regexp", out + ("[^/]*" if ch == "*" else "[^/]")
        elif ch in ".+()|{}$":
            out += "\\" + ch
        elif ch == "\\":  # the escaped text differs from the path: compare by regexp
            kind, out = "regexp", out + "\\" + (pattern[i] if i < n else "")
            i += 1
        else:
            kind = "regexp" if ch in "[]" else kind
            out += ch
        token += 1
    return kind, out + "$"


def _compile(line: str) -> _Pattern:
    exclusion = line.startswith("!")
    text = line[1:] if exclusion else line
    if exclusion and not text:
        raise BuildError('illegal exclusion pattern: "!"')
    kind, regex = _translate(text)
    try:
        compiled = re.compile(regex)
    except re.error:
        raise BuildError(f".dockerignore: syntax error in pattern: {text!r}") from None
    return _Pattern(text, exclusion, kind, compiled if kind == "regexp" else None)


def _read(text: str) -> list[str]:
    """dockerignore.ReadAll: comments, blanks, `!`, cleaning, leading `/` removed."""
    patterns: list[str] = []
    for raw in text.removeprefix("\ufeff").splitlines():
        if raw.startswith("#"):
            continue
        pattern = raw.strip()
        if not pattern:
            continue
        invert = pattern.startswith("!")
        if invert:
            pattern = pattern[1:].strip()
        if pattern:
            pattern = _clean(pattern)
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern[1:]
        patterns.append("!" + pattern if invert else pattern)
    return patterns


class DockerIgnore:
    """The `.dockerignore` of a build context (see the module docstring)."""

    def __init__(self, text: str = "", dockerfile: str = "Dockerfile") -> None:
        self.patterns = _read(text)
        self._compiled = [_compile(p) for p in self.patterns]
        self._always_sent = {_clean(dockerfile).lstrip("/"), ".dockerignore"}

    def excluded(self, relpath: str, is_dir: bool = False) -> bool:
        """MatchesOrParentMatches: the last pattern matching the path or a parent wins."""
        path = _clean(relpath).lstrip("/") or "."
        parent = posixpath.dirname(path) or "."
        parents = parent.split("/") if parent != "." else []
        matched = False
        for pattern in self._compiled:
            if pattern.exclusion != matched:
                continue  # it could not change the outcome
            hit = pattern.match(path) or any(
                pattern.match("/".join(parents[: k + 1])) for k in range(len(parents))
            )
            if hit:
                matched = not pattern.exclusion
        return matched

    def sent(self, relpath: str, is_dir: bool = False) -> bool:
        path = _clean(relpath).lstrip("/")
        return (not is_dir and path in self._always_sent) or not self.excluded(path, is_dir)

    def skip_dir(self, relpath: str) -> bool:
        if not self.excluded(relpath, True):
            return False
        parts = _clean(relpath).lstrip("/").split("/")
        return not any(p.exclusion and _could_match_below(p.text, parts) for p in self._compiled)


def _could_match_below(pattern: str, dir_parts: list[str]) -> bool:
    """Could `pattern` match some path inside the directory `dir_parts`?"""
    pat_parts = pattern.split("/")
    for k, part in enumerate(dir_parts):
        if k >= len(pat_parts):
            return False
        if "**" in pat_parts[k]:
            return True
        try:
            if not _compile(pat_parts[k]).match(part):
                return False
        except BuildError:
            return True
    return len(pat_parts) > len(dir_parts)
