"""`.dockerignore`: moby/patternmatcher's matching (TestMatches cases) and Docker's file rules."""

from __future__ import annotations

import pytest

from pycontainer.build.context import DockerIgnore
from pycontainer.errors import BuildError


@pytest.mark.parametrize(
    ("pattern", "path", "excluded"),
    [  # patternmatcher's TestMatches, through MatchesOrParentMatches
        ("**", "file", True),
        ("**", "file/", True),
        ("**/", "file", True),
        ("**/", "file/", True),
        ("**", "/", True),
        ("**/", "/", True),
        ("**", "dir/file", True),
        ("**/", "dir/file", True),
        ("**", "dir/file/", True),
        ("**/**", "dir/file", True),
        ("**/**", "dir/file/", True),
        ("dir/**", "dir/file", True),
        ("dir/**", "dir/file/", True),
        ("dir/**", "dir/dir2/file", True),
        ("**/dir", "dir", True),
        ("**/dir", "dir/file", True),
        ("**/dir2/*", "dir/dir2/file", True),
        ("**/dir2/*", "dir/dir2/file/", True),
        ("**/dir2/**", "dir/dir2/dir3/file", True),
        ("**file", "file", True),
        ("**file", "dir/file", True),
        ("**/file", "dir/file", True),
        ("**file", "dir/dir/file", True),
        ("**/file", "dir/dir/file", True),
        ("**/file*", "dir/dir/file", True),
        ("**/file*", "dir/dir/file.txt", True),
        ("**/file*txt", "dir/dir/file.txt", True),
        ("**/file*.txt", "dir/dir/file.txt", True),
        ("**/file*.txt*", "dir/dir/file.txt", True),
        ("**/**/*.txt", "dir/dir/file.txt", True),
        ("**/**/*.txt2", "dir/dir/file.txt", False),
        ("**/*.txt", "file.txt", True),
        ("**/**/*.txt", "file.txt", True),
        ("a**/*.txt", "a/file.txt", True),
        ("a**/*.txt", "a/dir/file.txt", True),
        ("a**/*.txt", "a/dir/dir/file.txt", True),
        ("a/*.txt", "a/dir/file.txt", False),
        ("a/*.txt", "a/file.txt", True),
        ("a/*.txt**", "a/file.txt", True),
        ("a[b-d]e", "ae", False),
        ("a[b-d]e", "ace", True),
        ("a[b-d]e", "aae", False),
        ("a[^b-d]e", "aze", True),
        (".*", ".foo", True),
        (".*", "foo", False),
        ("abc.def", "abcdef", False),
        ("abc.def", "abc.def", True),
        ("abc.def", "abcZdef", False),
        ("abc?def", "abcZdef", True),
        ("abc?def", "abcdef", False),
        ("a\\\\", "a\\", True),
        ("**/foo/bar", "foo/bar", True),
        ("**/foo/bar", "dir/foo/bar", True),
        ("**/foo/bar", "dir/dir2/foo/bar", True),
        ("abc/**", "abc", False),
        ("abc/**", "abc/def", True),
        ("abc/**", "abc/def/ghi", True),
        ("**/.foo", ".foo", True),
        ("**/.foo", "bar.foo", False),
        ("a(b)c/def", "a(b)c/def", True),
        ("a(b)c/def", "a(b)c/xyz", False),
        ("a.|)$(}+{bc", "a.|)$(}+{bc", True),
        ("dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
         "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", True),
        ("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", True),
        # the Docker reference's .dockerignore examples
        ("*/temp*", "somedir/temporary.txt", True),
        ("*/temp*", "somedir/temp", True),
        ("*/temp*", "temp", False),
        ("*/*/temp*", "somedir/subdir/temporary.txt", True),
        ("*/*/temp*", "somedir/temporary.txt", False),
        ("temp?", "tempa", True),
        ("temp?", "tempab", False),
        ("temp?", "temp", False),
        ("**/*.go", "a/b/c.go", True),
        # parents, cleaning, leading / and ./
        ("node_modules", "node_modules/pkg/index.js", True),
        ("node_modules", "src/node_modules", False),
        ("/abs/path/", "abs/path/x", True),
        ("./rel", "rel", True),
        ("a//b/../c", "a/c/d", True),
        ("*.md", "README.md", True),
        ("*.md", "docs/README.md", False),
    ],
)
def test_patterns(pattern: str, path: str, excluded: bool) -> None:
    assert DockerIgnore(pattern).excluded(path) is excluded


DOCKER_DOCS_EXAMPLE = """
# comment
*.md
!README*.md
README-secret.md
"""


@pytest.mark.parametrize(
    ("text", "path", "excluded"),
    [
        (DOCKER_DOCS_EXAMPLE, "CHANGES.md", True),
        (DOCKER_DOCS_EXAMPLE, "README.md", False),
        (DOCKER_DOCS_EXAMPLE, "README-secret.md", True),
        ("*.md\nREADME-secret.md\n!README*.md", "README-secret.md", False),
        # a later exception re-includes, a later pattern excludes again: last match wins
        ("docs\n!docs/keep\n", "docs/keep/a.txt", False),
        ("docs\n!docs/keep\n", "docs/other.txt", True),
        ("docs\n!docs/keep\ndocs/keep/secret\n", "docs/keep/secret", True),
        ("!a\na", "a", True),
        # comments only at column 0; blanks trimmed
        ("  # not a comment\n", "# not a comment", True),
        ("# comment\n\n   \n", "# comment", False),
        ("  spaced.txt  ", "spaced.txt", True),
        ("! keep", "keep", False),
    ],
)
def test_rules(text: str, path: str, excluded: bool) -> None:
    assert DockerIgnore(text).excluded(path) is excluded


def test_patterns_are_cleaned() -> None:
    ignore = DockerIgnore("# c\n/a/\n./b\n!/c//d/\n\n  e  \n")
    assert ignore.patterns == ["a", "b", "!c/d", "e"]


def test_dockerfile_and_dockerignore_are_still_sent() -> None:
    ignore = DockerIgnore("*\n")
    assert ignore.excluded("Dockerfile") and ignore.excluded(".dockerignore")
    assert ignore.sent("Dockerfile") and ignore.sent(".dockerignore")
    assert not ignore.sent("main.go")
    custom = DockerIgnore("build\n", dockerfile="build/Dockerfile.dev")
    assert custom.sent("build/Dockerfile.dev")
    assert not custom.sent("build/other")
    assert not custom.sent("build", is_dir=True)


@pytest.mark.parametrize(
    ("text", "directory", "skip"),
    [
        ("node_modules", "node_modules", True),
        ("node_modules\n!node_modules/keep", "node_modules", False),
        ("node_modules\n!node_modules/keep", "node_modules/other", True),
        ("node_modules\n!node_modules/keep", "node_modules/keep", False),
        ("a\n!**/x", "a", False),
        ("a\n!b/x", "a", True),
        ("a\n!a/*/x", "a", False),
        ("src", "lib", False),
    ],
)
def test_skip_dir(text: str, directory: str, skip: bool) -> None:
    assert DockerIgnore(text).skip_dir(directory) is skip


@pytest.mark.parametrize("text", ["!", "[", "a[b"])
def test_bad_patterns(text: str) -> None:
    with pytest.raises(BuildError):
        DockerIgnore(text)


def test_empty() -> None:
    ignore = DockerIgnore()
    assert ignore.patterns == []
    assert not ignore.excluded("anything/at/all")
