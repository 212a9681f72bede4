"""The Go text/template subset: expected outputs are what Go / Docker print."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from pycontainer.errors import UsageError
from pycontainer.formats import gotemplate as template
from pycontainer.formats.gotemplate import MISSING, go_json, go_sprintf, go_str, render

INSPECT: dict[str, Any] = {
    "Id": "4fa6e0f0c678",
    "Name": "/web",
    "Args": ["-g", "daemon off;"],
    "LogPath": "/var/lib/x.log",
    "State": {"Status": "running", "Running": True, "ExitCode": 0, "Pid": 42,
              "Health": None},
    "Config": {"Image": "nginx:latest", "Labels": {"b": "2", "a": "1"}, "Env": ["A=1", "B=2"],
               "Cmd": None},
    "NetworkSettings": {
        "Ports": {"8787/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}], "9000/tcp": None},
        "Networks": {"bridge": {"IPAddress": "10.0.0.2"}, "other": {"IPAddress": "10.1.0.3"}},
        "IPAddress": "",
    },
    "SizeRw": 1024,
    "Ratio": 0.5,
    "Big": 1e6,
    "Empty": [],
}


@pytest.mark.parametrize(
    ("tmpl", "expected"),
    [
        # plain text and fields
        ("hello", "hello"),
        ("", ""),
        ("{{.Id}}", "4fa6e0f0c678"),
        ("{{.Name}}", "/web"),
        ("{{.LogPath}}", "/var/lib/x.log"),
        ("{{.Config.Image}}", "nginx:latest"),
        ("{{ .State.Status }}", "running"),
        ("{{.State.Running}}", "true"),
        ("{{.State.ExitCode}}", "0"),
        ("{{.State.Pid}}", "42"),
        ("{{.SizeRw}}", "1024"),
        ("{{.Ratio}}", "0.5"),
        ("{{.Big}}", "1e+06"),
        # Go's rendering of values
        ("{{.Args}}", "[-g daemon off;]"),
        ("{{.Config.Labels}}", "map[a:1 b:2]"),
        ("{{.Config.Env}}", "[A=1 B=2]"),
        ("{{.Empty}}", "[]"),
        ("{{.State.Health}}", "<nil>"),
        ("{{.Config.Cmd}}", "<nil>"),
        ("{{.NoSuchKey}}", "<no value>"),
        ("{{.NoSuchKey.Deeper}}", "<no value>"),
        ("{{.Config.Labels.a}}", "1"),
        ("{{.Config.Labels.zz}}", "<no value>"),
        ("{{.NetworkSettings.IPAddress}}", ""),
        # json
        ("{{json .Config.Labels}}", '{"b":"2","a":"1"}'),
        ("{{json .Args}}", '["-g","daemon off;"]'),
        ("{{json .State.Health}}", "null"),
        ("{{json .NoSuchKey}}", "null"),
        ("{{json .Ratio}}", "0.5"),
        ("{{json .Big}}", "1000000"),
        ("{{json .Name}}", '"/web"'),
        ("{{json .State.Running}}", "true"),
        # Docker documentation idioms
        ("{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", "10.0.0.210.1.0.3"),
        ("{{range .NetworkSettings.Networks}}{{println .IPAddress}}{{end}}",
         "10.0.0.2\n10.1.0.3\n"),
        ('{{(index (index .NetworkSettings.Ports "8787/tcp") 0).HostPort}}', "8080"),
        ('{{range $p, $conf := .NetworkSettings.Ports}} {{$p}} -> {{with $conf}}'
         '{{(index . 0).HostPort}}{{else}}none{{end}} {{end}}',
         " 8787/tcp -> 8080  9000/tcp -> none "),
        ('{{join .Args " , "}}', "-g , daemon off;"),
        ('{{split "nginx:latest" ":"}}', "[nginx latest]"),
        ('{{split .Config.Image ":"}}', "[nginx latest]"),
        ("{{lower .Name}}", "/web"),
        ("{{upper .Name}}", "/WEB"),
        ("{{title .Name}}", "/Web"),
        ('{{index .Config.Labels "a"}}', "1"),
        ('{{index .Config.Labels "missing"}}', ""),
        ('{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}', "a=1;b=2;"),
        ("{{range $k, $v := .Config.Labels -}} {{ $k }}={{ $v }} {{ end -}}", "a=1 b=2 "),
        # pipelines
        ("{{.Name | upper}}", "/WEB"),
        ("{{.Name | printf \"%s!\"}}", "/web!"),
    ],
)
def test_render_inspect(tmpl: str, expected: str) -> None:
    assert render(tmpl, INSPECT) == expected


def test_pipeline_final_argument() -> None:
    # The piped value is the last argument: split ":" "a:b" splits ":" on "a:b".
    assert render('{{"a:b" | printf "%s-%s" "x"}}', {}) == "x-a:b"
    assert render('{{index .Args 1 | len}}', INSPECT) == "11"
    assert render("{{.Name | len | printf \"%03d\"}}", INSPECT) == "004"


@pytest.mark.parametrize(
    ("tmpl", "expected"),
    [
        # literals
        ('{{"a\\tb"}}', "a\tb"),
        ("{{`raw\\n`}}", "raw\\n"),
        ("{{'a'}}", "97"),
        ("{{42}}", "42"),
        ("{{-3}}", "-3"),
        ("{{3.5}}", "3.5"),
        ("{{1e3}}", "1000"),
        ("{{0x1F}}", "31"),
        ("{{true}} {{false}}", "true false"),
        ('{{"\\u00e9\\x41"}}', "éA"),
        # trim markers
        ("a  {{- 1 -}}  b", "a1b"),
        ("a \n {{- 1}} b", "a1 b"),
        ("a {{1 -}} \n b", "a 1b"),
        ("{{- 1}}", "1"),
        ("x {{- /* comment */ -}} y", "xy"),
        ("a{{/* a comment */}}b", "ab"),
        # conditionals
        ("{{if .T}}yes{{end}}", "yes"),
        ("{{if .F}}yes{{else}}no{{end}}", "no"),
        ("{{if .F}}1{{else if .T}}2{{else}}3{{end}}", "2"),
        ("{{if .F}}1{{else if .F}}2{{else}}3{{end}}", "3"),
        ("{{if .Zero}}y{{else}}n{{end}}", "n"),
        ("{{if .EmptyS}}y{{else}}n{{end}}", "n"),
        ("{{if .EmptyL}}y{{else}}n{{end}}", "n"),
        ("{{if .EmptyM}}y{{else}}n{{end}}", "n"),
        ("{{if .Nil}}y{{else}}n{{end}}", "n"),
        ("{{if .Nope}}y{{else}}n{{end}}", "n"),
        ("{{if .S}}y{{else}}n{{end}}", "y"),
        ("{{with .S}}{{.}}{{end}}", "str"),
        ("{{with .EmptyS}}{{.}}{{else}}none{{end}}", "none"),
        ("{{with .Nope}}x{{else with .S}}{{.}}{{end}}", "str"),
        ("{{with $x := .S}}{{$x}}{{.}}{{end}}", "strstr"),
        # comparisons and logic
        ('{{if eq .S "str"}}eq{{end}}', "eq"),
        ('{{eq .S "a" "b" "str"}}', "true"),
        ("{{eq .I 3}} {{ne .I 3}}", "true false"),
        ("{{eq 3.0 .I}} {{lt .Fl 3}}", "true true"),
        ("{{lt .I 4}} {{le .I 3}} {{gt .I 3}} {{ge .I 3}}", "true true false true"),
        ('{{lt "a" "b"}}', "true"),
        ("{{eq .Nil .Nil}}", "true"),
        ('{{eq .Nope "x"}}', "false"),
        ("{{and .T .I}}", "3"),
        ("{{and .T .Zero .I}}", "0"),
        ("{{or .Zero .EmptyS}}", ""),
        ("{{or .Zero .S}}", "str"),
        ("{{not .T}} {{not .Zero}}", "false true"),
        ("{{if and .T (not .F)}}ok{{end}}", "ok"),
        # range
        ("{{range .L}}[{{.}}]{{end}}", "[a][b][c]"),
        ("{{range $i, $e := .L}}{{$i}}:{{$e}} {{end}}", "0:a 1:b 2:c "),
        ("{{range $e := .L}}{{$e}}{{end}}", "abc"),
        ("{{range .EmptyL}}x{{else}}empty{{end}}", "empty"),
        ("{{range .Nope}}x{{else}}empty{{end}}", "empty"),
        ("{{range .M}}{{.}}{{end}}", "123"),
        ("{{range $k, $v := .M}}{{$k}}{{$v}}{{end}}", "x1y2z3"),
        ("{{range 3}}{{.}}{{end}}", "012"),
        ('{{range .L}}{{if eq . "b"}}{{break}}{{end}}{{.}}{{end}}', "a"),
        ('{{range .L}}{{if eq . "b"}}{{continue}}{{end}}{{.}}{{end}}', "ac"),
        ("{{range .L}}{{$}}{{end}}", None),
        # variables
        ("{{$x := 1}}{{$x}}", "1"),
        ("{{$x := 1}}{{$x = 2}}{{$x}}", "2"),
        ("{{$x := .M}}{{$x.y}}", "2"),
        ("{{$x := 1}}{{if .T}}{{$x = 5}}{{end}}{{$x}}", "5"),
        ("{{$x := 1}}{{if .T}}{{$x := 5}}{{end}}{{$x}}", "1"),
        ("{{range .L}}{{$.S}}{{end}}", "strstrstr"),
        ("{{$n := len .L}}{{$n}}", "3"),
        # functions
        ("{{len .L}} {{len .M}} {{len .S}}", "3 3 3"),
        ('{{len "é"}}', "2"),
        ("{{index .L 1}}", "b"),
        ("{{index .Nested 0 1}}", "y"),
        ('{{index .M "y"}}', "2"),
        ("{{slice .L 1}} {{slice .L 1 2}} {{slice .S 0 2}}", "[b c] [b] st"),
        ("{{print .S 1 2 .S}}", "str1 2str"),
        ("{{print 1 2}}", "1 2"),
        ("{{println .S 1}}", "str 1\n"),
        ('{{printf "%s %d" .S .I}}', "str 3"),
        ('{{printf "%v" .L}}', "[a b c]"),
        ('{{printf "%-6s|" .S}}', "str   |"),
        ('{{printf "%6s|" .S}}', "   str|"),
        ('{{printf "%q" .S}}', '"str"'),
        ('{{printf "%t" .T}}', "true"),
        ('{{printf "%x" 255}} {{printf "%X" "hi"}}', "ff 6869"),
        ('{{printf "%05d" .I}}', "00003"),
        ('{{printf "%.2f" .Fl}}', "2.50"),
        ('{{printf "%d%%" .I}}', "3%"),
        ('{{html "<a&b>"}}', "&lt;a&amp;b&gt;"),
        ('{{urlquery "a b&c"}}', "a+b%26c"),
        ('{{pad .S 2 1}}|', "  str |"),
        ('{{pad .EmptyS 2 1}}|', "|"),
        ("{{truncate .S 2}} {{truncate .S 10}}", "st str"),
        ('{{title "hello wORLD foo_bar"}}', "Hello WORLD Foo_bar"),
        ('{{split "abc" ""}}', "[a b c]"),
        ('{{split "" ","}}', "[]"),
        ("{{json .M}}", '{"z":3,"x":1,"y":2}'),  # insertion order, like a Go struct
        ("{{(len .L)}}", "3"),
        ("{{(.M).x}}", "1"),
        # define / template / block
        ('{{define "T"}}<{{.}}>{{end}}{{template "T" .S}}', "<str>"),
        ('{{block "B" .I}}[{{.}}]{{end}}', "[3]"),
    ],
)
def test_render_language(tmpl: str, expected: str | None) -> None:
    data = {
        "T": True, "F": False, "Zero": 0, "EmptyS": "", "EmptyL": [], "EmptyM": {},
        "Nil": None, "S": "str", "I": 3, "Fl": 2.5, "L": ["a", "b", "c"],
        "M": {"z": 3, "x": 1, "y": 2}, "Nested": [["x", "y"]],
    }
    if expected is None:
        expected = "".join(go_str(data) for _ in data["L"])
    assert render(tmpl, data) == expected


def test_split_empty_string_is_one_empty_element() -> None:
    # strings.Split("", ",") is [""], which Go prints as "[]"
    assert render('{{len (split "" ",")}}', {}) == "1"


@dataclass
class Port:
    HostPort: str
    HostIp: str = ""


@dataclass
class Row:
    ID: str
    Ports: list[Port]

    def Label(self, key: str) -> str:  # noqa: N802 - a Go method name
        return {"k": "v"}.get(key, "")


def test_objects_and_methods() -> None:
    row = Row("abc", [Port("80")])
    assert render("{{.ID}} {{(index .Ports 0).HostPort}}", row) == "abc 80"
    assert render('{{.Label "k"}}|{{.Label "x"}}', row) == "v|"
    assert render("{{index .Ports 0}}", row) == "{80 }"
    with pytest.raises(UsageError, match="can't evaluate field Nope"):
        render("{{.Nope}}", row)
    calls = {"Label": lambda k: f"<{k}>"}
    assert render('{{.Label "a"}}', calls) == "<a>"
    assert go_json({"ID": "x", "Label": lambda k: k}) == '{"ID":"x"}'


@pytest.mark.parametrize(
    ("tmpl", "message"),
    [
        ("{{.ID", "unclosed action"),
        ("{{if .T}}x", "unexpected EOF"),
        ("{{end}}", "unexpected {{end}}"),
        ("{{else}}", "unexpected {{else}}"),
        ("{{nosuch .X}}", 'function "nosuch" not defined'),
        ("{{$x}}", 'undefined variable "$x"'),
        ("{{$x = 1}}", 'undefined variable "$x"'),
        ("{{if}}{{end}}", "missing value for if"),
        ('{{"abc}}', "unterminated quoted string"),
        ("{{break}}", "{{break}} outside {{range}}"),
        ("{{(.X}}", "unclosed left paren"),
        ("{{.X)}}", "unexpected right paren"),
        ("{{.X | 3}}", "non executable command in pipeline stage 2"),
        ("{{3a}}", "bad number syntax"),
        ("{{/* x }}", "unclosed comment"),
        ("{{$a, $b := .X}}", "too many declarations in command"),
        ("{{% }}", "unrecognized character in action"),
        ("{{range .L}}{{else}}{{else}}{{end}}", "expected end"),
    ],
)
def test_parse_errors(tmpl: str, message: str) -> None:
    with pytest.raises(UsageError, match="template parsing error") as info:
        render(tmpl, {})
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("tmpl", "data", "message"),
    [
        ("{{.A.B}}", {"A": None}, "nil pointer evaluating interface {}.B"),
        ("{{.A.B}}", {"A": "s"}, "can't evaluate field B in type string"),
        ("{{index .L 5}}", {"L": [1]}, "error calling index: index out of range: 5"),
        ("{{index .N 0}}", {"N": None}, "index of untyped nil"),
        ("{{len .I}}", {"I": 3}, "len of type int"),
        ("{{lower .I}}", {"I": 3}, "wrong type for value; expected string; got int"),
        ('{{eq .I "x"}}', {"I": 3}, "incompatible types for comparison"),
        ("{{lt true false}}", {}, "invalid type for comparison"),
        ("{{range .S}}{{end}}", {"S": "abc"}, "range can't iterate over abc"),
        ("{{.S 1}}", {"S": "abc"}, "S has arguments but cannot be invoked as function"),
        ("{{nil}}", {}, "nil is not a command"),
        ('{{template "x"}}', {}, 'no such template "x"'),
        ("{{printf}}", {}, "wrong number of args for printf: want at least 1 got 0"),
        ("{{pad .S 1}}", {"S": "a"}, "wrong number of args for pad: want 3 got 2"),
        ('{{join .L ","}}', {"L": [1, 2]}, "expected []string"),
    ],
)
def test_exec_errors(tmpl: str, data: Any, message: str) -> None:
    with pytest.raises(UsageError) as info:
        render(tmpl, data)
    assert message in str(info.value)
    assert str(info.value).startswith("template parsing error: template: :1:")


def test_error_location_like_go() -> None:
    with pytest.raises(UsageError) as info:
        render("ab\n  {{.A.B}}", {"A": None})
    assert str(info.value) == (
        'template parsing error: template: :2:6: executing "" at <.A.B>: '
        "nil pointer evaluating interface {}.B"
    )
    # docker inspect's well-known message for a container without a healthcheck
    with pytest.raises(UsageError) as info:
        render("{{.State.Health.Status}}", {"State": {}}, strict=True)
    assert str(info.value) == (
        'template parsing error: template: :1:8: executing "" at <.State.Health.Status>: '
        'map has no entry for key "Health"'
    )


def test_strict_missing_keys() -> None:
    data = {"State": {"Status": "running"}}
    assert render("{{.State.Health.Status}}", data) == "<no value>"
    with pytest.raises(UsageError, match='map has no entry for key "Health"'):
        render("{{.State.Health.Status}}", data, strict=True)


def test_compile_is_cached_and_reusable() -> None:
    first = template.compile("{{.A}}")
    assert template.compile("{{.A}}") is first
    assert first.execute({"A": 1}) == "1"
    assert first.execute({"A": 2}) == "2"


def test_header_context_uses_header_functions() -> None:
    ctx = template.HeaderContext(lambda f: f.upper())
    out = template.compile('{{.ID}}|{{json .X}}|{{lower .Name}}|{{truncate .Long 2}}|'
                           '{{pad .P 1 1}}|{{.Label "k"}}').execute(ctx)
    assert out == "ID|X|NAME|LONG| P |LABEL"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "<nil>"),
        (MISSING, "<no value>"),
        (True, "true"),
        (0, "0"),
        (-12, "-12"),
        (1.0, "1"),
        (0.1, "0.1"),
        (123456.0, "123456"),
        (1234567.0, "1.234567e+06"),
        (1e21, "1e+21"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (-2.5, "-2.5"),
        (float("inf"), "+Inf"),
        (float("nan"), "NaN"),
        ("s", "s"),
        ([], "[]"),
        ([1, "a", None, [2]], "[1 a <nil> [2]]"),
        ({"b": 1, "a": [1, 2]}, "map[a:[1 2] b:1]"),
        ({}, "map[]"),
        ([{"k": True}], "[map[k:true]]"),
    ],
)
def test_go_str(value: Any, expected: str) -> None:
    assert go_str(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"a": 1, "b": [True, None]}, '{"a":1,"b":[true,null]}'),
        ("<&>", '"<&>"'),
        ("é\n\u2028", '"é\\n\\u2028"'),
        (1.0, "1"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (0.000001, "0.000001"),
        (0.0000001, "1e-7"),
        (-0.5, "-0.5"),
        ([], "[]"),
        ({}, "{}"),
        (b"hi", '"aGk="'),
    ],
)
def test_go_json(value: Any, expected: str) -> None:
    assert go_json(value) == expected


def test_go_json_sorted() -> None:
    assert go_json({"b": 1, "a": {"d": 1, "c": 2}}, sort_keys=True) == '{"a":{"c":2,"d":1},"b":1}'


@pytest.mark.parametrize(
    ("fmt", "args", "expected"),
    [
        ("%s %d", ["a", 5], "a 5"),
        ("%v|%v|%v|%v", [None, True, [1, 2], {"a": 1}], "<nil>|true|[1 2]|map[a:1]"),
        ("%-10s|", ["abc"], "abc       |"),
        ("%10s|", ["abc"], "       abc|"),
        ("%.2s", ["abcdef"], "ab"),
        ("%5.1f|", [3.14159], "  3.1|"),
        ("%e", [1234.5678], "1.234568e+03"),
        ("%g", [0.000012], "1.2e-05"),
        ("%g", [100000.0], "100000"),
        ("%g", [1000000.0], "1e+06"),
        ("%q", ['a"b\n'], '"a\\"b\\n"'),
        ("%q", [65], "'A'"),
        ("%x %X %#x %o %b", [255, 255, 255, 8, 5], "ff FF 0xff 10 101"),
        ("%x", ["hi"], "6869"),
        ("%t %t", [True, False], "true false"),
        ("%+d % d", [5, 5], "+5  5"),
        ("%05d|%-5d|", [-42, 42], "-0042|42   |"),
        ("%c", [0x263A], "☺"),
        ("%d", ["x"], "%!d(string=x)"),
        ("%s", [5], "%!s(int=5)"),
        ("%s", [None], "%!s(<nil>)"),
        ("%d %d", [1], "1 %!d(MISSING)"),
        ("%d", [1, "x"], "1%!(EXTRA string=x)"),
        ("100%%", [], "100%"),
        ("%", [], "%!(NOVERB)"),
        ("%*d", [5, 42], "   42"),
        ("%s", [["a", "b"]], "[a b]"),
        ("%T %T", ["a", 1], "string int"),
        ("%v", [1e6], "1e+06"),
        ("%v", [2.0], "2"),
    ],
)
def test_go_sprintf(fmt: str, args: list[Any], expected: str) -> None:
    assert go_sprintf(fmt, args) == expected
