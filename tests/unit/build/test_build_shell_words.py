"""Dockerfile variable substitution: BuildKit's shell lexer (shell/envVarTest, lex_test.go)."""

from __future__ import annotations

import pytest

from pycontainer.build.dockerfile import expand_word, expand_words

ENV = {"PWD": "/home", "SHELL": "bash", "KOREAN": "한국어", "NULL": ""}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("hello", "hello"),
        ("he'll'o", "hello"),
        ("he\\'llo", "he'llo"),
        ("abc\\tdef", "abctdef"),
        ('"abc\\tdef"', "abc\\tdef"),
        ('"abc\\\\tdef"', "abc\\tdef"),
        ("'abc\\tdef'", "abc\\tdef"),
        ("hello\\", "hello"),
        ("hello\\\\", "hello\\"),
        ('"hel\'lo"', "hel'lo"),
        ("'hello\\'", "hello\\"),
        ("'hello\\there'", "hello\\there"),
        ('"\'\'"', "''"),
        ("$.", "$."),
        ("he$1x", "hex"),
        ("he$.x", "he$.x"),
        ("he$pwd.", "he."),
        ("he$PWD", "he/home"),
        ("he\\$PWD", "he$PWD"),
        ("he\\\\$PWD", "he\\/home"),
        ('"he\\$PWD"', "he$PWD"),
        ('"he\\\\$PWD"', "he\\/home"),
        ("\\${}", "${}"),
        ("\\${}aaa", "${}aaa"),
        ("he\\${}xx", "he${}xx"),
        ("he${hi}", "he"),
        ("he${hi}xx", "hexx"),
        ("he${PWD}", "he/home"),
        ("he${XXX:-000}xx", "he000xx"),
        ("he${PWD:-000}xx", "he/homexx"),
        ("he${XXX:-$PWD}xx", "he/homexx"),
        ("he${XXX:-${PWD:-yyy}}xx", "he/homexx"),
        ("he${XXX:-${YYY:-yyy}}xx", "heyyyxx"),
        ("he${PWD?}", "he/home"),
        ("he${PWD:?}", "he/home"),
        ("he${NULL?}", "he"),
        ("he${XXX:+${PWD}}xx", "hexx"),
        ("he${PWD:+${XXX}}xx", "hexx"),
        ("he${PWD:+${SHELL}}xx", "hebashxx"),
        ("he${XXX:+000}xx", "hexx"),
        ("he${PWD:+000}xx", "he000xx"),
        ("'he${XX}'", "he${XX}"),
        ('"he${PWD}"', "he/home"),
        ('"he\'$PWD\'"', "he'/home'"),
        ('"$PWD"', "/home"),
        ("'$PWD'", "$PWD"),
        ("'\\$PWD'", "\\$PWD"),
        ("'\"hello\"'", '"hello"'),
        ("he${PWD:+${PWD}:}xx", "he/home:xx"),
        ("he${XXX:-\\$PWD:}xx", "he$PWD:xx"),
        ("he${XXX:-\\${PWD}z}xx", "he${PWDz}xx"),
        ("안녕$KOREAN", "안녕한국어"),
        ("안'녕'하세요", "안녕하세요"),
        ("${aaa}}", "}"),
        ("${aaa}xyz}}", "xyz}}"),
        ("${aaa:-${bbb:-${ccc:-xxx}}}", "xxx"),
        # ${x-w} / ${x+w}: set-but-empty counts as set
        ("${NULL-dflt}|${NULL:-dflt}|${NULL+alt}|${NULL:+alt}", "|dflt|alt|"),
        ("${UNSET-dflt}|${UNSET+alt}", "dflt|"),
        # BuildKit's pattern forms
        ("${PWD#/}", "home"),
        ("${PWD%me}", "/ho"),
        ("${SHELL/a/A}", "bAsh"),
        ("${PWD//o/0}", "/h0me"),
    ],
)
def test_expand_word(source: str, expected: str) -> None:
    assert expand_word(source, ENV) == expected


@pytest.mark.parametrize(
    "source",
    [
        "he'llo",
        "he\\\\'llo",
        '"hello',
        '"hello\\"',
        "'hello",
        "${}",
        "${}aaa",
        "he${}xx",
        "he${.}",
        "he${XXX:YYY}",
        "he${XXX?}",
        "he${XXX:?}",
        "he${NULL:?}",
        "he${PWD",
        "he${PWD:=000}xx",
        "${{aaa}",
        "${FOO=aaa}",
        "${PWD//ww}",
        "${PWD:#x}",
    ],
)
def test_expand_word_errors(source: str) -> None:
    with pytest.raises(ValueError):
        expand_word(source, ENV)


def test_required_variable_messages() -> None:
    with pytest.raises(ValueError, match="VAR: message herex"):
        expand_word("${VAR:?message here$ARG}", {"VAR": "", "ARG": "x"})
    with pytest.raises(ValueError, match="VAR: is not allowed to be unset"):
        expand_word("${VAR?}", {})


def test_escape_token_backtick() -> None:
    assert expand_word("C:`$PWD`\\x", ENV, escape="`") == "C:$PWD\\x"


@pytest.mark.parametrize(
    ("source", "env", "expected"),
    [
        ("a b  c", {}, ["a", "b", "c"]),
        ("$W", {"W": "x y"}, ["x", "y"]),
        ('"$W"', {"W": "x y"}, ["x y"]),
        ("pre$W", {"W": "x y"}, ["prex", "y"]),
        ("'a b' c", {}, ["a b", "c"]),
        ('a\\ b', {}, ["a b"]),
        ("", {}, []),
    ],
)
def test_expand_words(source: str, env: dict[str, str], expected: list[str]) -> None:
    assert expand_words(source, env) == expected
