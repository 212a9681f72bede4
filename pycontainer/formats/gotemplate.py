"""Go `text/template`, as Docker's `--format` uses it, and Go's rendering of values.

API (everything else is private):

    render(template: str, data: object, *, strict: bool = False) -> str
        Parse (cached) and execute `template` with `data` as dot.
    compile(template: str) -> Template          # cached by template text
    Template.execute(data: object, *, strict: bool = False) -> str
    HeaderContext(name_for: Callable[[str], str])
        Dot for a table's header row: every field `.X` is `name_for("X")`, and Docker's
        header functions apply (json, split, join, title, lower, upper, truncate return their
        first argument unchanged; pad still pads).
    go_str(value) -> str                # Go's `%v`: true, <nil>, [a b], map[k:v], 1e+06
    go_json(value, *, sort_keys=False) -> str   # encoding/json, compact, no HTML escaping
    go_sprintf(fmt: str, args: Sequence[object]) -> str   # fmt.Sprintf
    MISSING                             # a missing map key; prints `<no value>`

How Python data maps onto Go's:
- dict = Go map: `.Key` looks the key up; a missing key is MISSING (`<no value>`), or with
  `strict=True` an error (`map has no entry for key "Key"`, Docker inspect's
  `missingkey=error`). `index` of a missing key gives the zero value of the map's values
  ("" for a map of strings, as Docker's `map[string]string` labels do).
- other objects = Go structs: `.Name` is a public attribute; an unknown one is an error.
- a callable field value is called like a Go method, with the command's arguments:
  a row {"Label": lambda k: ...} supports `{{.Label "com.example"}}`; `go_json` skips it.
- list/tuple = slice, None = nil, bool/int/float/str as in Go.

Supported: text and actions with `{{- -}}` trimming, comments, fields and chains
(`.A.B`, `$x.A`, `(index .P 0).HostPort`), variables (`$x := ...`, `$x = ...`, `$`),
pipelines, parenthesised pipelines, string/raw-string/char/number/bool/nil literals,
if / else if / else, with / else with, range (lists, maps in key order, ints; one or two
variables; else; break; continue), define / template / block, Go's built-in functions
(and or not len index slice print printf println eq ne lt le gt ge html urlquery) and
Docker's (json split join title lower upper pad truncate).

Every problem raises `UsageError("template parsing error: template: :LINE:COL: ...")`,
worded like Go's messages (Docker prefixes them the same way).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import re
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NoReturn

from pycontainer.errors import UsageError

__all__ = [
    "MISSING",
    "HeaderContext",
    "Template",
    "compile",
    "go_json",
    "go_sprintf",
    "go_str",
    "render",
]


class _Missing:
    """Go's invalid reflect.Value: what a missing map key evaluates to."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: object = _Missing()
_NOFINAL: object = object()  # "no value piped in", distinct from a piped-in MISSING


class HeaderContext:
    """Dot for a table header: any field names its column (see the module docstring)."""

    def __init__(self, name_for: Callable[[str], str]) -> None:
        self.name_for = name_for


class _TemplateError(Exception):
    """Raised inside the engine; `render`/`execute` turn it into a UsageError."""


# ---------------------------------------------------------------------------------------------
# Go value rendering


def _go_type(v: object) -> str:
    """Go's name for the type a Python value stands for (used in error messages)."""
    if v is None or v is MISSING:
        return "interface {}"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float64"
    if isinstance(v, str):
        return "string"
    if isinstance(v, (bytes, bytearray)):
        return "[]uint8"
    if isinstance(v, (list, tuple)):
        if v and all(isinstance(x, str) for x in v):
            return "[]string"
        return "[]interface {}"
    if isinstance(v, dict):
        return "map[string]interface {}"
    if callable(v):
        return "func"
    return type(v).__name__


def _float_digits(f: float) -> tuple[str, int]:
    """Shortest decimal digits of abs(f) and the decimal point position (0.x10^dp)."""
    sign, digits, exp = Decimal(repr(abs(f))).as_tuple()
    ds = "".join(map(str, digits)).rstrip("0") or "0"
    assert isinstance(exp, int)
    dp = len(digits) + exp
    return ds, dp


def _go_float(f: float, eprec: int = 6, json_style: bool = False) -> str:
    """strconv.FormatFloat(f, 'g', -1, 64): shortest digits, exponent form when the exponent
    is < -4 or >= `eprec`. `json_style` is encoding/json's rule instead: exponent form only
    outside [1e-6, 1e21), written e-7 rather than e-07."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    neg = "-" if math.copysign(1.0, f) < 0 else ""
    if f == 0:
        return neg + "0"
    ds, dp = _float_digits(f)
    x = dp - 1
    use_exp = not 1e-6 <= abs(f) < 1e21 if json_style else (x < -4 or x >= eprec)
    if use_exp:
        mant = ds[0] + ("." + ds[1:] if len(ds) > 1 else "")
        esign = "+" if x >= 0 else "-"
        width = 1 if json_style else 2
        return f"{neg}{mant}e{esign}{abs(x):0{width}d}"
    if dp <= 0:
        return f"{neg}0.{'0' * -dp}{ds}"
    if dp >= len(ds):
        return neg + ds + "0" * (dp - len(ds))
    return f"{neg}{ds[:dp]}.{ds[dp:]}"


def _sort_keys(keys: Iterable[Any]) -> list[object]:
    """Go's fmt and range order map keys by value; mixed types fall back to their text
    (Any: the keys are whatever the data holds; sorted() tells whether they compare)."""
    try:
        return sorted(keys)
    except TypeError:
        return sorted(keys, key=go_str)


def go_str(v: object) -> str:
    """Go's `%v` rendering, as text/template prints a value."""
    if v is MISSING:
        return "<no value>"
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _go_float(v)
    if isinstance(v, str):
        return v
    if isinstance(v, (bytes, bytearray)):
        return "[" + " ".join(str(b) for b in v) + "]"
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(go_str(x) for x in v) + "]"
    if isinstance(v, dict):
        items = (f"{go_str(k)}:{go_str(v[k])}" for k in _sort_keys(v))
        return "map[" + " ".join(items) + "]"
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        vals = (go_str(getattr(v, f.name)) for f in dataclasses.fields(v))
        return "{" + " ".join(vals) + "}"
    return str(v)


def _json_str(s: str) -> str:
    # Go escapes U+2028/U+2029 even with SetEscapeHTML(false); Python does not.
    return json.dumps(s, ensure_ascii=False).replace("\u2028", "\\u2028").replace(
        "\u2029", "\\u2029"
    )


def go_json(v: object, *, sort_keys: bool = False) -> str:
    """Go's encoding/json, compact, without HTML escaping (Docker's `json` function).

    Dict keys keep their insertion order (like Go struct fields) unless `sort_keys` (Go maps).
    """
    if v is None or v is MISSING:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            raise _TemplateError(f"json: unsupported value: {_go_float(v)}")
        return _go_float(v, json_style=True) if v != 0 else "0"
    if isinstance(v, str):
        return _json_str(v)
    if isinstance(v, (bytes, bytearray)):
        import base64

        return '"' + base64.b64encode(bytes(v)).decode() + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(go_json(x, sort_keys=sort_keys) for x in v) + "]"
    if isinstance(v, dict):
        keys = _sort_keys(v) if sort_keys else list(v)
        parts = (
            f"{_json_str(k if isinstance(k, str) else go_str(k))}:"
            f"{go_json(v[k], sort_keys=sort_keys)}"
            for k in keys
            if not callable(v[k])
        )
        return "{" + ",".join(parts) + "}"
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return go_json({f.name: getattr(v, f.name) for f in dataclasses.fields(v)})
    return _json_str(str(v))


# ---------------------------------------------------------------------------------------------
# fmt.Sprintf


@dataclass
class _Spec:
    flags: str = ""
    width: int | None = None
    prec: int | None = None


def _go_quote(s: str) -> str:
    """strconv.Quote."""
    out = ['"']
    esc = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
           "\v": "\\v", "\\": "\\\\", '"': '\\"'}
    for ch in s:
        if ch in esc:
            out.append(esc[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def _pad(s: str, spec: _Spec, numeric: bool = False) -> str:
    if spec.width is None or len(s) >= spec.width:
        return s
    if "-" in spec.flags:
        return s + " " * (spec.width - len(s))
    if numeric and "0" in spec.flags:
        sign = s[0] if s[:1] in ("-", "+", " ") else ""
        body = s[len(sign):]
        return sign + "0" * (spec.width - len(s)) + body
    return " " * (spec.width - len(s)) + s


def _bad_verb(verb: str, arg: object) -> str:
    if arg is None:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({_go_type(arg)}={go_str(arg)})"


def _sign(neg: bool, spec: _Spec) -> str:
    if neg:
        return "-"
    if "+" in spec.flags:
        return "+"
    return " " if " " in spec.flags else ""


def _fmt_int(n: int, verb: str, spec: _Spec) -> str:
    if verb == "c":
        return _pad(chr(n), spec)
    if verb == "q":
        return _pad("'" + _go_quote(chr(n))[1:-1].replace("'", "\\'") + "'", spec)
    if verb == "U":
        return _pad(f"U+{n:04X}", spec)
    bases = {"d": (10, ""), "v": (10, ""), "x": (16, "0x"), "X": (16, "0X"), "o": (8, "0"),
             "O": (8, "0o"), "b": (2, "0b")}
    if verb not in bases:
        return _bad_verb(verb, n)
    base, prefix = bases[verb]
    digits = format(abs(n), {10: "d", 16: "x", 8: "o", 2: "b"}[base])
    if verb == "X":
        digits = digits.upper()
    if spec.prec is not None:
        digits = digits.rjust(spec.prec, "0")
    if "#" not in spec.flags and verb != "O":
        prefix = ""
    return _pad(_sign(n < 0, spec) + prefix + digits, spec, numeric=spec.prec is None)


def _fmt_float(f: float, verb: str, spec: _Spec) -> str:
    if verb in "vgG" and spec.prec is None:
        body = _go_float(abs(f))
        body = body.upper() if verb == "G" else body
    elif verb in "eEfFgG":
        prec = 6 if spec.prec is None else spec.prec
        body = format(abs(f), f".{prec}{verb if verb != 'F' else 'f'}")
    else:
        return _bad_verb(verb, f)
    if math.isinf(f) or math.isnan(f):
        body = _go_float(f).lstrip("+-")
    neg = math.copysign(1.0, f) < 0 and not math.isnan(f)
    sign = _sign(neg, spec)
    if math.isinf(f) and not sign:
        sign = "+"  # Go always signs infinities
    return _pad(sign + body, spec, numeric=not (math.isinf(f) or math.isnan(f)))


def _fmt_str(s: str, verb: str, spec: _Spec) -> str:
    if verb in "sv":
        return _pad(s if spec.prec is None else s[: spec.prec], spec)
    if verb == "q":
        return _pad(_go_quote(s), spec)
    if verb in "xX":
        sep = " " if " " in spec.flags else ""
        text = sep.join(f"{b:02x}" for b in s.encode())
        return _pad(text.upper() if verb == "X" else text, spec)
    return _bad_verb(verb, s)


def _fmt_arg(arg: object, verb: str, spec: _Spec) -> str:
    if arg is None or arg is MISSING:
        return _pad("<nil>", spec) if verb == "v" else _bad_verb(verb, None)
    if verb == "T":
        return _pad(_go_type(arg), spec)
    if isinstance(arg, bool):
        return _pad(go_str(arg), spec) if verb in "tv" else _bad_verb(verb, arg)
    if isinstance(arg, int):
        return _fmt_int(arg, verb, spec)
    if isinstance(arg, float):
        return _fmt_float(arg, verb, spec)
    if isinstance(arg, str):
        return _fmt_str(arg, verb, spec)
    if isinstance(arg, (list, tuple)):
        return "[" + " ".join(_fmt_arg(x, verb, spec) for x in arg) + "]"
    if isinstance(arg, dict):
        items = (f"{_fmt_arg(k, verb, spec)}:{_fmt_arg(arg[k], verb, spec)}"
                 for k in _sort_keys(arg))
        return "map[" + " ".join(items) + "]"
    return _pad(go_str(arg), spec) if verb in "sv" else _bad_verb(verb, arg)


_SPEC_RE = re.compile(r"([-+# 0]*)(\*|\d+)?(?:\.(\*|\d*))?")


def go_sprintf(fmt: str, args: Sequence[object]) -> str:
    """Go's fmt.Sprintf for the verbs templates use (%v %s %d %q %t %x %X %o %b %c %e %f %g,
    flags `-+# 0`, widths, precisions, `*`), with Go's %!v(MISSING) / %!(EXTRA ...) marks."""
    out: list[str] = []
    argi, i, n = 0, 0, len(fmt)
    while i < n:
        j = fmt.find("%", i)
        if j < 0:
            out.append(fmt[i:])
            break
        out.append(fmt[i:j])
        m = _SPEC_RE.match(fmt, j + 1)
        assert m is not None
        spec = _Spec(flags=m.group(1))
        for group, attr in ((2, "width"), (3, "prec")):
            text = m.group(group)
            if text == "*":
                value = args[argi] if argi < len(args) else None
                argi += 1
                setattr(spec, attr, value if isinstance(value, int) else None)
            elif text is not None:
                setattr(spec, attr, int(text or "0"))
        if spec.width is not None and spec.width < 0:
            spec.flags += "-"
            spec.width = -spec.width
        i = m.end()
        if i >= n:
            out.append("%!(NOVERB)")
            break
        verb = fmt[i]
        i += 1
        if verb == "%":
            out.append("%")
        elif argi >= len(args):
            out.append(f"%!{verb}(MISSING)")
        else:
            out.append(_fmt_arg(args[argi], verb, spec))
            argi += 1
    if argi < len(args):
        extra = ", ".join(
            "<nil>" if a is None else f"{_go_type(a)}={go_str(a)}" for a in args[argi:]
        )
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _go_sprint(args: Sequence[object]) -> str:
    """fmt.Sprint: a space between operands when neither is a string."""
    out: list[str] = []
    for k, a in enumerate(args):
        if k > 0 and not isinstance(a, str) and not isinstance(args[k - 1], str):
            out.append(" ")
        out.append(go_str(None if a is MISSING else a))
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Lexer


@dataclass
class _Tok:
    kind: str  # text left right space field var dot ident keyword string number char
    # bool nil pipe lparen rparen declare assign comma eof
    val: str
    pos: int


_WS = " \t\r\n"
_KEYWORDS = {
    "if", "else", "end", "range", "with", "define", "template", "block", "break", "continue",
}
_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUM_RE = re.compile(
    r"[+-]?(?:0[xX][0-9a-fA-F_]*(?:\.[0-9a-fA-F_]*)?(?:[pP][+-]?[0-9_]+)?"
    r"|0[bB][01_]+|0[oO][0-7_]+"
    r"|(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?(?:[eE][+-]?[0-9_]+)?)i?"
)


def _line_of(text: str, pos: int) -> int:
    return 1 + text.count("\n", 0, pos)


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks: list[_Tok] = []
        self.parens = 0

    def fail(self, msg: str, pos: int) -> None:
        raise _TemplateError(f"template: :{_line_of(self.text, pos)}: {msg}")

    def run(self) -> list[_Tok]:
        text, i, trim_next = self.text, 0, False
        while True:
            j = text.find("{{", i)
            end = len(text) if j < 0 else j
            trim_left = j >= 0 and text[j + 2 : j + 3] == "-" and text[j + 3 : j + 4] in _WS
            trim_left = trim_left and j + 3 < len(text)
            chunk = text[i:end]
            if trim_next:
                chunk = chunk.lstrip(_WS)
            if trim_left:
                chunk = chunk.rstrip(_WS)
            if chunk:
                self.toks.append(_Tok("text", chunk, i))
            if j < 0:
                break
            i, trim_next = self.action(j, trim_left)
        self.toks.append(_Tok("eof", "", len(text)))
        return self.toks

    def right_delim(self, p: int) -> tuple[int, bool] | None:
        """Length and trim flag of a right delimiter at p, if there is one."""
        text = self.text
        if text[p : p + 1] in _WS and text[p : p + 1] and text.startswith("-}}", p + 1):
            return 4, True
        if text.startswith("}}", p):
            return 2, False
        return None

    def comment(self, start: int, p: int) -> tuple[int, bool]:
        end = self.text.find("*/", p + 2)
        if end < 0:
            self.fail("unclosed comment", start)
        delim = self.right_delim(end + 2)
        if delim is None:
            self.fail("comment ends before closing delimiter", start)
        assert delim is not None
        return end + 2 + delim[0], delim[1]

    def action(self, start: int, trim_left: bool) -> tuple[int, bool]:
        p = start + (4 if trim_left else 2)
        if self.text.startswith("/*", p):
            return self.comment(start, p)
        self.toks.append(_Tok("left", "", start))
        self.parens = 0
        while True:
            if p >= len(self.text):
                self.fail("unclosed action", start)
            delim = self.right_delim(p)
            if delim is not None:
                if self.parens:
                    self.fail("unclosed left paren", p)
                self.toks.append(_Tok("right", "", p))
                return p + delim[0], delim[1]
            p = self.token(p)

    def token(self, p: int) -> int:
        """Lex one token inside an action starting at p; return the position after it."""
        text, c = self.text, self.text[p]
        if c in _WS:
            q = p
            # stop before a space that starts " -}}" (the caller checks delimiters first)
            while q < len(text) and text[q] in _WS and self.right_delim(q) != (4, True):
                q += 1
            self.toks.append(_Tok("space", text[p:q], p))
            return q
        simple = {"|": "pipe", "(": "lparen", ")": "rparen", ",": "comma", "=": "assign"}
        if c in simple:
            self.paren_count(c, p)
            self.toks.append(_Tok(simple[c], c, p))
            return p + 1
        if text.startswith(":=", p):
            self.toks.append(_Tok("declare", ":=", p))
            return p + 2
        if c in "\"`'":
            return self.quoted(p, c)
        if c == "$":
            m = _IDENT_RE.match(text, p + 1)
            q = m.end() if m else p + 1
            self.toks.append(_Tok("var", text[p:q], p))
            return q
        return self.word(p)

    def paren_count(self, c: str, p: int) -> None:
        if c == "(":
            self.parens += 1
        elif c == ")":
            self.parens -= 1
            if self.parens < 0:
                self.fail("unexpected right paren", p)

    def word(self, p: int) -> int:
        text, c = self.text, self.text[p]
        nxt = text[p + 1 : p + 2]
        if c == "." and not nxt.isdigit():
            m = _IDENT_RE.match(text, p + 1)
            if m:
                self.toks.append(_Tok("field", m.group(), p))
                return m.end()
            self.toks.append(_Tok("dot", ".", p))
            return p + 1
        if c.isdigit() or c in "+-.":
            return self.number(p)
        m = _IDENT_RE.match(text, p)
        if not m:
            self.fail(f"unrecognized character in action: {c!r}", p)
        assert m is not None
        word = m.group()
        kind = "keyword" if word in _KEYWORDS else "ident"
        kind = {"true": "bool", "false": "bool", "nil": "nil"}.get(word, kind)
        self.toks.append(_Tok(kind, word, p))
        return m.end()

    def number(self, p: int) -> int:
        m = _NUM_RE.match(self.text, p)
        q = m.end() if m else p
        if q == p or self.text[q : q + 1].isalnum() or self.text[q : q + 1] == "_":
            end = q
            while end < len(self.text) and (self.text[end].isalnum() or self.text[end] in "._"):
                end += 1
            self.fail(f"bad number syntax: {self.text[p:max(end, p + 1)]!r}", p)
        self.toks.append(_Tok("number", self.text[p:q], p))
        return q

    def quoted(self, p: int, quote: str) -> int:
        text, q = self.text, p + 1
        while q < len(text) and text[q] != quote:
            if text[q] == "\\" and quote != "`":
                q += 1
            elif text[q] == "\n" and quote != "`":
                break
            q += 1
        if q >= len(text) or text[q] != quote:
            what = {"`": "unterminated raw quoted string", "'": "unterminated character constant"}
            self.fail(what.get(quote, "unterminated quoted string"), p)
        kind = {"`": "string", '"': "string", "'": "char"}[quote]
        self.toks.append(_Tok(kind, text[p : q + 1], p))
        return q + 1


_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v",
            "\\": "\\", "'": "'", '"': '"'}


def _unquote(lit: str) -> str:
    """strconv.Unquote for "...", `...` and '...' literals."""
    if lit[0] == "`":
        return lit[1:-1].replace("\r", "")
    body, out, i = lit[1:-1], [], 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        e = body[i + 1 : i + 2]
        if e in _ESCAPES:
            out.append(_ESCAPES[e])
            i += 2
            continue
        sizes = {"x": 2, "u": 4, "U": 8}
        if e in sizes:
            digits, base, step = body[i + 2 : i + 2 + sizes[e]], 16, 2 + sizes[e]
            ok = len(digits) == sizes[e] and all(d in "0123456789abcdefABCDEF" for d in digits)
        else:
            digits, base, step = body[i + 1 : i + 4], 8, 4
            ok = len(digits) == 3 and all(d in "01234567" for d in digits)
        if not ok:
            raise ValueError(f"invalid escape in {lit}")
        out.append(chr(int(digits, base)))
        i += step
    return "".join(out)


def _number(text: str) -> int | float:
    body = text.replace("_", "")
    if body.endswith("i"):
        raise ValueError("complex constants are not supported")
    sign = -1 if body.startswith("-") else 1
    body = body.lstrip("+-")
    if re.fullmatch(r"0[0-7]+", body):
        return sign * int(body, 8)  # Go's legacy octal
    try:
        return sign * int(body, 0)
    except ValueError:
        pass
    if body.lower().startswith("0x"):
        return sign * float.fromhex(body)
    return sign * float(body)


# ---------------------------------------------------------------------------------------------
# Parse tree


@dataclass
class _Node:
    pos: int


@dataclass
class _Text(_Node):
    text: str


@dataclass
class _Field(_Node):
    idents: list[str]

    def __str__(self) -> str:
        return "".join("." + i for i in self.idents)


@dataclass
class _Var(_Node):
    idents: list[str]  # ["$x", "A", "B"] for $x.A.B

    def __str__(self) -> str:
        return ".".join(self.idents)


@dataclass
class _Dot(_Node):
    def __str__(self) -> str:
        return "."


@dataclass
class _Nil(_Node):
    def __str__(self) -> str:
        return "nil"


@dataclass
class _Lit(_Node):
    value: object
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass
class _Ident(_Node):
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass
class _Cmd(_Node):
    args: list[_Node]

    def __str__(self) -> str:
        return " ".join(f"({a})" if isinstance(a, _Pipe) else str(a) for a in self.args)


@dataclass
class _Pipe(_Node):
    decl: list[str]
    assign: bool
    cmds: list[_Cmd] = field(default_factory=list)

    def __str__(self) -> str:
        text = " | ".join(str(c) for c in self.cmds)
        if self.decl:
            text = f"{', '.join(self.decl)} {'=' if self.assign else ':='} {text}"
        return text


@dataclass
class _Chain(_Node):
    node: _Node
    fields: list[str]

    def __str__(self) -> str:
        inner = f"({self.node})" if isinstance(self.node, _Pipe) else str(self.node)
        return inner + "".join("." + f for f in self.fields)


@dataclass
class _Action(_Node):
    pipe: _Pipe


@dataclass
class _Control(_Node):
    kind: str  # if with range
    pipe: _Pipe
    body: list[_Node]
    else_: list[_Node] | None


@dataclass
class _Call(_Node):
    name: str
    pipe: _Pipe | None


@dataclass
class _Break(_Node):
    pass


@dataclass
class _Continue(_Node):
    pass


@dataclass
class _End(_Node):
    pass


@dataclass
class _Else(_Node):
    chained: str | None  # "if" / "with" for {{else if}} / {{else with}}


_OPERAND_START = {"bool", "char", "dot", "field", "ident", "number", "nil", "string", "var",
                  "lparen"}


class _Parser:
    """Go's text/template/parse, over the tokens of _Lexer."""

    def __init__(self, text: str, funcs: Sequence[str]) -> None:
        self.text = text
        self.toks = _Lexer(text).run()
        self.i = 0
        self.vars: list[str] = ["$"]
        self.range_depth = 0
        self.funcs = set(funcs)
        self.defs: dict[str, list[_Node]] = {}

    # token access -------------------------------------------------------------------------
    def next(self) -> _Tok:
        tok = self.toks[min(self.i, len(self.toks) - 1)]
        self.i += 1
        return tok

    def peek(self) -> _Tok:
        return self.toks[min(self.i, len(self.toks) - 1)]

    def next_ns(self) -> _Tok:
        tok = self.next()
        while tok.kind == "space":
            tok = self.next()
        return tok

    def peek_ns(self) -> _Tok:
        save = self.i
        tok = self.next_ns()
        self.i = save
        return tok

    def fail(self, msg: str, pos: int | None = None) -> None:
        at = self.toks[max(self.i - 1, 0)].pos if pos is None else pos
        raise _TemplateError(f"template: :{_line_of(self.text, at)}: {msg}")

    def unexpected(self, tok: _Tok, context: str) -> None:
        what = {"eof": "EOF", "right": '"}}"', "left": '"{{"'}.get(tok.kind, repr(tok.val))
        if tok.kind not in ("eof", "right", "left"):
            what = '"' + tok.val + '"'
        self.fail(f"unexpected {what} in {context}", tok.pos)

    def expect(self, kind: str, context: str) -> _Tok:
        tok = self.next_ns()
        if tok.kind != kind:
            self.unexpected(tok, context)
        return tok

    # structure ----------------------------------------------------------------------------
    def parse(self) -> list[_Node]:
        nodes, stop = self.item_list()
        if stop is not None:
            self.fail(f"unexpected {{{{{'end' if isinstance(stop, _End) else 'else'}}}}}",
                      stop.pos)
        return nodes

    def item_list(self) -> tuple[list[_Node], _Node | None]:
        """Nodes up to {{end}} / {{else}} (returned) or EOF (None)."""
        nodes: list[_Node] = []
        while True:
            tok = self.next()
            if tok.kind == "eof":
                return nodes, None
            if tok.kind == "text":
                nodes.append(_Text(tok.pos, tok.val))
                continue
            node = self.action()
            if isinstance(node, (_End, _Else)):
                return nodes, node
            if node is not None:
                nodes.append(node)

    def action(self) -> _Node | None:
        tok = self.next_ns()
        if tok.kind == "keyword":
            return self.keyword(tok)
        self.i -= 1
        pipe = self.pipeline("command", "right")
        return _Action(pipe.pos, pipe)

    def keyword(self, tok: _Tok) -> _Node | None:
        word = tok.val
        if word == "end":
            self.expect("right", "end")
            return _End(tok.pos)
        if word == "else":
            nxt = self.peek_ns()
            if nxt.kind == "keyword" and nxt.val in ("if", "with"):
                return _Else(tok.pos, nxt.val)
            self.expect("right", "else")
            return _Else(tok.pos, None)
        if word in ("if", "with", "range"):
            return self.control(word, tok.pos)
        if word in ("break", "continue"):
            if self.range_depth == 0:
                self.fail(f"{{{{{word}}}}} outside {{{{range}}}}", tok.pos)
            self.expect("right", word)
            return _Break(tok.pos) if word == "break" else _Continue(tok.pos)
        if word in ("template", "block"):
            return self.template_call(word, tok.pos)
        self.define(tok.pos)
        return None

    def control(self, kind: str, pos: int) -> _Control:
        mark = len(self.vars)
        pipe = self.pipeline(kind, "right")
        self.range_depth += kind == "range"
        body, stop = self.item_list()
        self.range_depth -= kind == "range"
        else_: list[_Node] | None = None
        if stop is None:
            self.fail("unexpected EOF")
        if isinstance(stop, _Else) and stop.chained is not None:
            if stop.chained != kind:
                self.fail(f'unexpected "{stop.chained}" in input', stop.pos)
            self.next_ns()  # the "if" / "with" of {{else if}}: one {{end}} closes both
            else_ = [self.control(kind, stop.pos)]
        elif isinstance(stop, _Else):
            else_, stop = self.item_list()
            if not isinstance(stop, _End):
                self.fail("expected end; found " + ("EOF" if stop is None else "{{else}}"))
        del self.vars[mark:]
        return _Control(pos, kind, pipe, body, else_)

    def template_name(self, context: str) -> str:
        tok = self.next_ns()
        if tok.kind != "string":
            self.unexpected(tok, context)
        return _unquote(tok.val)

    def template_call(self, word: str, pos: int) -> _Node:
        context = f"{word} clause"
        name = self.template_name(context)
        pipe: _Pipe | None = None
        if self.peek_ns().kind == "right" and word == "template":
            self.next_ns()
        else:
            pipe = self.pipeline(context, "right")
        if word == "block":
            outer, self.vars = self.vars, ["$"]
            body, stop = self.item_list()
            self.vars = outer
            if not isinstance(stop, _End):
                self.fail(f"unexpected EOF in {context}")
            self.defs[name] = body
        return _Call(pos, name, pipe)

    def define(self, pos: int) -> None:
        name = self.template_name("define clause")
        self.expect("right", "define clause")
        outer, self.vars = self.vars, ["$"]
        body, stop = self.item_list()
        self.vars = outer
        if not isinstance(stop, _End):
            self.fail("unexpected EOF in define clause", pos)
        self.defs[name] = body

    # pipelines ----------------------------------------------------------------------------
    def pipeline(self, context: str, end: str) -> _Pipe:
        pipe = _Pipe(self.peek_ns().pos, [], False)
        self.decls(pipe, context)
        while True:
            tok = self.next_ns()
            if tok.kind == end:
                self.check_pipeline(pipe, context)
                return pipe
            if tok.kind not in _OPERAND_START:
                self.unexpected(tok, context)
            self.i -= 1
            pipe.cmds.append(self.command())

    def decls(self, pipe: _Pipe, context: str) -> None:
        tok = self.peek_ns()
        if tok.kind != "var":
            return
        save = self.i
        self.next_ns()
        names = [tok.val]
        if self.peek_ns().kind == "comma":
            if context != "range":
                self.fail(f"too many declarations in {context}")
            self.next_ns()
            second = self.next_ns()
            if second.kind != "var":
                self.fail("range can only initialize variables")
            names.append(second.val)
        op = self.peek_ns()
        if op.kind not in ("declare", "assign"):
            if len(names) > 1:
                self.unexpected(op, context)
            self.i = save
            return
        self.next_ns()
        pipe.assign = op.kind == "assign"
        for name in names:
            if pipe.assign and name not in self.vars:
                self.fail(f'undefined variable "{name}"', tok.pos)
        pipe.decl = names
        self.vars.extend(names)

    def check_pipeline(self, pipe: _Pipe, context: str) -> None:
        if not pipe.cmds:
            self.fail(f"missing value for {context}")
        for k, cmd in enumerate(pipe.cmds[1:]):
            if isinstance(cmd.args[0], (_Lit, _Dot, _Nil)):
                self.fail(f"non executable command in pipeline stage {k + 2}")

    def command(self) -> _Cmd:
        cmd = _Cmd(self.peek_ns().pos, [])
        while True:
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            tok = self.next()
            if tok.kind == "space":
                continue
            if tok.kind in ("right", "rparen"):
                self.i -= 1
            elif tok.kind != "pipe":
                self.unexpected(tok, "operand")
            break
        if not cmd.args:
            self.fail("empty command")
        return cmd

    def operand(self) -> _Node | None:
        node = self.term()
        if node is None or self.peek().kind != "field":
            return node
        fields: list[str] = []
        pos = self.peek().pos  # Go places a chain at its first chained field
        while self.peek().kind == "field":
            fields.append(self.next().val)
        if isinstance(node, _Field):
            return _Field(pos, node.idents + fields)
        if isinstance(node, _Var):
            return _Var(pos, node.idents + fields)
        if isinstance(node, (_Lit, _Nil, _Dot)):
            self.fail(f"unexpected . after term {str(node)!r}")
        return _Chain(node.pos, node, fields)

    def term(self) -> _Node | None:
        tok = self.next_ns()
        kind, val, pos = tok.kind, tok.val, tok.pos
        if kind == "ident":
            if val not in self.funcs:
                self.fail(f'function "{val}" not defined', pos)
            return _Ident(pos, val)
        if kind == "var":
            if val not in self.vars:
                self.fail(f'undefined variable "{val}"', pos)
            return _Var(pos, [val])
        simple: dict[str, Callable[[], _Node]] = {
            "dot": lambda: _Dot(pos),
            "nil": lambda: _Nil(pos),
            "field": lambda: _Field(pos, [val]),
            "bool": lambda: _Lit(pos, val == "true", val),
            "lparen": lambda: self.pipeline("parenthesized pipeline", "rparen"),
        }
        if kind in simple:
            return simple[kind]()
        if kind in ("number", "string", "char"):
            return _Lit(pos, self.literal(tok), val)
        self.i -= 1
        return None

    def literal(self, tok: _Tok) -> object:
        try:
            if tok.kind == "number":
                return _number(tok.val)
            text = _unquote(tok.val)
        except (ValueError, OverflowError):
            what = "number" if tok.kind == "number" else "syntax"
            self.fail(f"illegal {what}: {tok.val}" if what == "number" else
                      f"invalid {what}: {tok.val}", tok.pos)
        if tok.kind == "char":
            if len(text) != 1:
                self.fail(f"malformed character constant: {tok.val}", tok.pos)
            return ord(text)
        return text


# ---------------------------------------------------------------------------------------------
# Functions


def _truth(v: object) -> bool:
    """Go's template truth: false, 0, nil, and empty strings / slices / maps are false."""
    if v is None or v is MISSING:
        return False
    if isinstance(v, (bool, int, float, str, bytes, list, tuple, dict)):
        return bool(v)
    return True


def _want_str(v: object) -> str:
    if not isinstance(v, str):
        raise _TemplateError(f"wrong type for value; expected string; got {_go_type(v)}")
    return v


def _want_int(v: object) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise _TemplateError(f"wrong type for value; expected int; got {_go_type(v)}")
    return v


def _kind(v: object) -> str:
    """Go's basic kinds; ints and floats are one kind because Docker's inspect retries a
    failing template on the JSON-decoded object, where every number is a float64."""
    if v is None or v is MISSING:
        return "nil"
    for kind, types in (("bool", bool), ("number", (int, float)), ("string", str)):
        if isinstance(v, types):
            return kind
    return "other"


def _eq(a: object, *others: object) -> bool:
    if not others:
        raise _TemplateError("missing argument for comparison")
    ka = _kind(a)
    for b in others:
        kb = _kind(b)
        if ka != kb:
            if "nil" not in (ka, kb):
                raise _TemplateError("incompatible types for comparison")
            continue
        if ka == "nil" or a == b:
            return True
    return False


def _ordered(op: str) -> Callable[[object, object], bool]:
    def compare(a: Any, b: Any) -> bool:  # Any: both numbers or both strings, checked here
        ka, kb = _kind(a), _kind(b)
        if ka not in ("number", "string") or kb not in ("number", "string"):
            raise _TemplateError("invalid type for comparison")
        if ka != kb:
            raise _TemplateError("incompatible types for comparison")
        return bool({"lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b}[op])

    return compare


def _map_zero(m: dict[object, object]) -> object:
    """The zero value of a map's element type, guessed from its values (see module doc)."""
    kinds = {_kind(v) if not isinstance(v, (list, dict)) else type(v).__name__
             for v in m.values()}
    zeros = {"string": "", "number": 0, "bool": False, "list": [], "dict": {}}
    if not kinds:
        return ""
    if len(kinds) == 1:
        return zeros.get(kinds.pop())
    return None


def _index_one(item: object, key: object) -> object:
    if item is None or item is MISSING:
        raise _TemplateError("index of untyped nil")
    if isinstance(item, dict):
        return item[key] if key in item else _map_zero(item)
    if isinstance(item, (list, tuple, str)):
        if key is None or key is MISSING:
            raise _TemplateError("cannot index slice/array with nil")
        if isinstance(key, bool) or not isinstance(key, int):
            raise _TemplateError(f"cannot index slice/array with type {_go_type(key)}")
        if not 0 <= key < len(item):
            raise _TemplateError(f"index out of range: {key}")
        return item.encode()[key] if isinstance(item, str) else item[key]
    raise _TemplateError(f"can't index item of type {_go_type(item)}")


def _index(item: object, *keys: object) -> object:
    if item is None or item is MISSING:
        raise _TemplateError("index of untyped nil")
    for key in keys:
        item = _index_one(item, key)
    return item


def _slice(item: object, *idx: object) -> object:
    if not isinstance(item, (list, tuple, str)):
        raise _TemplateError(f"can't slice item of type {_go_type(item)}")
    if len(idx) > 3 or (len(idx) == 3 and isinstance(item, str)):
        raise _TemplateError(f"too many slice indexes: {len(idx)}")
    bounds = [_want_int(i) for i in idx]
    if any(not 0 <= b <= len(item) for b in bounds) or bounds != sorted(bounds):
        raise _TemplateError(f"index out of range: {bounds}")
    start = bounds[0] if bounds else 0
    stop = bounds[1] if len(bounds) > 1 else len(item)
    return item[start:stop]


def _len(v: object) -> int:
    if isinstance(v, str):
        return len(v.encode())
    if isinstance(v, (list, tuple, dict, bytes)):
        return len(v)
    raise _TemplateError(f"len of type {_go_type(v)}" if v is not None else "len of nil pointer")


def _title(s: str) -> str:
    """strings.Title: upper-case the first letter of each word."""
    out, prev = [], " "
    for ch in s:
        sep = not (prev.isalnum() or prev == "_") if prev.isascii() else prev.isspace()
        out.append(ch.upper() if sep else ch)
        prev = ch
    return "".join(out)


def _split(s: object, sep: object) -> list[str]:
    s, sep = _want_str(s), _want_str(sep)
    return list(s) if sep == "" else s.split(sep)


def _join(items: object, sep: object) -> str:
    if not isinstance(items, (list, tuple)) or not all(isinstance(x, str) for x in items):
        raise _TemplateError(f"wrong type for value; expected []string; got {_go_type(items)}")
    return _want_str(sep).join(items)


def _pad_fn(s: object, prefix: object, suffix: object) -> str:
    text = _want_str(s)
    return text if text == "" else " " * _want_int(prefix) + text + " " * _want_int(suffix)


def _truncate(s: object, length: object) -> str:
    text, n = _want_str(s), _want_int(length)
    return text if len(text) < n else text[:n]


def _escaper(fn: Callable[[str], str]) -> Callable[..., str]:
    def escape(*args: object) -> str:
        text = args[0] if len(args) == 1 and isinstance(args[0], str) else _go_sprint(args)
        return fn(text)

    return escape


def _html(s: str) -> str:
    return (s.replace("&", "&amp;").replace("'", "&#39;").replace("<", "&lt;")
            .replace(">", "&gt;").replace('"', "&#34;").replace("\0", "\ufffd"))


_FUNCS: dict[str, tuple[Callable[..., object], int, int | None]] = {
    # name: (function, min args, max args or None)
    "and": (lambda *a: a[-1], 1, None),  # evaluated lazily in _State.call
    "or": (lambda *a: a[-1], 1, None),
    "not": (lambda v: not _truth(v), 1, 1),
    "len": (_len, 1, 1),
    "index": (_index, 1, None),
    "slice": (_slice, 1, None),
    "print": (lambda *a: _go_sprint(a), 0, None),
    "printf": (lambda f, *a: go_sprintf(_want_str(f), a), 1, None),
    "println": (lambda *a: " ".join(go_str(x) for x in a) + "\n", 0, None),
    "eq": (_eq, 1, None),
    "ne": (lambda a, b: not _eq(a, b), 2, 2),
    "lt": (_ordered("lt"), 2, 2),
    "le": (_ordered("le"), 2, 2),
    "gt": (_ordered("gt"), 2, 2),
    "ge": (_ordered("ge"), 2, 2),
    "html": (_escaper(_html), 0, None),
    "urlquery": (_escaper(lambda s: urllib.parse.quote_plus(s, safe="")), 0, None),
    "json": (lambda v: go_json(v), 1, 1),
    "split": (_split, 2, 2),
    "join": (_join, 2, 2),
    "title": (lambda s: _title(_want_str(s)), 1, 1),
    "lower": (lambda s: _want_str(s).lower(), 1, 1),
    "upper": (lambda s: _want_str(s).upper(), 1, 1),
    "pad": (_pad_fn, 3, 3),
    "truncate": (_truncate, 2, 2),
}

# Docker's HeaderFunctions: the header row shows column names unchanged.
_HEADER_FUNCS = dict(_FUNCS)
for _name, _arity in (("json", 1), ("split", 2), ("join", 2), ("title", 1), ("lower", 1),
                      ("upper", 1), ("truncate", 2)):
    _HEADER_FUNCS[_name] = (lambda v, *rest: v, _arity, _arity)


# ---------------------------------------------------------------------------------------------
# Execution


class _BreakLoop(Exception):
    pass


class _ContinueLoop(Exception):
    pass


class _State:
    def __init__(self, tmpl: Template, root: object, strict: bool) -> None:
        self.tmpl = tmpl
        self.vars: list[tuple[str, object]] = [("$", root)]
        self.strict = strict
        self.funcs = _HEADER_FUNCS if isinstance(root, HeaderContext) else _FUNCS
        self.out: list[str] = []
        self.node: _Node | None = None
        self.depth = 0

    def fail(self, msg: str) -> NoReturn:
        text = self.tmpl.text
        if self.node is None:
            raise _TemplateError(f'template: : executing "": {msg}')
        pos = self.node.pos
        nl = text.rfind("\n", 0, pos)
        col = pos if nl < 0 else pos - nl - 1
        raise _TemplateError(
            f'template: :{_line_of(text, pos)}:{col}: executing "" at <{self.node}>: {msg}'
        )

    # variables ----------------------------------------------------------------------------
    def var(self, name: str) -> object:
        for vname, value in reversed(self.vars):
            if vname == name:
                return value
        self.fail(f"undefined variable: {name}")

    def set_var(self, name: str, value: object) -> None:
        for k in range(len(self.vars) - 1, -1, -1):
            if self.vars[k][0] == name:
                self.vars[k] = (name, value)
                return
        self.fail(f"undefined variable: {name}")

    # walking ------------------------------------------------------------------------------
    def walk(self, dot: object, nodes: list[_Node]) -> None:
        for node in nodes:
            self.node = node
            if isinstance(node, _Text):
                self.out.append(node.text)
            elif isinstance(node, _Action):
                value = self.pipeline(dot, node.pipe)
                if not node.pipe.decl:
                    self.out.append(self.printable(value))
            elif isinstance(node, _Control):
                self.control(dot, node)
            elif isinstance(node, _Call):
                self.call_template(dot, node)
            elif isinstance(node, _Break):
                raise _BreakLoop
            elif isinstance(node, _Continue):
                raise _ContinueLoop

    def printable(self, value: object) -> str:
        if callable(value) and not isinstance(value, type):
            self.fail(f"can't print {self.node} of type func")
        return go_str(value)

    def control(self, dot: object, node: _Control) -> None:
        mark = len(self.vars)
        try:
            value = self.pipeline(dot, node.pipe)
            if node.kind == "range":
                self.range(dot, node, value, mark)
            elif _truth(value):
                self.walk(value if node.kind == "with" else dot, node.body)
            elif node.else_ is not None:
                self.walk(dot, node.else_)
        finally:
            del self.vars[mark:]

    def range(self, dot: object, node: _Control, value: object, mark: int) -> None:
        items = self.range_items(value)
        if not items:
            if node.else_ is not None:
                self.walk(dot, node.else_)
            return
        decl = node.pipe.decl
        for key, elem in items:
            values = [key, elem] if len(decl) == 2 else [elem]
            if decl and not node.pipe.assign:
                del self.vars[mark:]
                self.vars.extend(zip(decl, values, strict=True))
            elif decl:
                for name, val in zip(decl, values, strict=True):
                    self.set_var(name, val)
            inner = len(self.vars)
            try:
                self.walk(elem, node.body)
            except _ContinueLoop:
                pass
            except _BreakLoop:
                break
            finally:
                del self.vars[inner:]

    def range_items(self, value: object) -> list[tuple[object, object]]:
        if value is None or value is MISSING:
            return []
        if isinstance(value, dict):
            return [(k, value[k]) for k in _sort_keys(value)]
        if isinstance(value, (list, tuple)):
            return list(enumerate(value))
        if isinstance(value, int) and not isinstance(value, bool):
            return [(i, i) for i in range(value)]
        self.fail(f"range can't iterate over {go_str(value)}")
        return []

    def call_template(self, dot: object, node: _Call) -> None:
        body = self.tmpl.defs.get(node.name)
        if body is None:
            self.fail(f'no such template "{node.name}"')
        assert body is not None
        new_dot = self.pipeline(dot, node.pipe) if node.pipe is not None else None
        self.depth += 1
        if self.depth > 1000:
            self.fail("exceeded maximum template depth (1000)")
        saved, self.vars = self.vars, [("$", new_dot)]
        try:
            self.walk(new_dot, body)
        finally:
            self.vars = saved
            self.depth -= 1

    # evaluation ---------------------------------------------------------------------------
    def pipeline(self, dot: object, pipe: _Pipe) -> object:
        value: object = _NOFINAL
        for cmd in pipe.cmds:
            value = self.command(dot, cmd, value)
        for name in pipe.decl:
            if pipe.assign:
                self.set_var(name, value)
            else:
                self.vars.append((name, value))
        return value

    def command(self, dot: object, cmd: _Cmd, final: object) -> object:
        first = cmd.args[0]
        self.node = first
        if isinstance(first, _Field):
            return self.field_chain(dot, dot, first.idents, cmd.args, final)
        if isinstance(first, _Var):
            value = self.var(first.idents[0])
            if len(first.idents) == 1:
                self.not_a_function(cmd.args, final)
                return value
            return self.field_chain(dot, value, first.idents[1:], cmd.args, final)
        if isinstance(first, _Chain):
            value = self.arg(dot, first.node)
            self.node = first
            return self.field_chain(dot, value, first.fields, cmd.args, final)
        if isinstance(first, _Ident):
            return self.function(dot, first, cmd.args, final)
        self.not_a_function(cmd.args, final)
        if isinstance(first, _Pipe):
            return self.pipeline(dot, first)
        if isinstance(first, _Nil):
            self.fail("nil is not a command")
        if isinstance(first, _Dot):
            return dot
        assert isinstance(first, _Lit)
        return first.value

    def not_a_function(self, args: list[_Node], final: object) -> None:
        if len(args) > 1 or final is not _NOFINAL:
            self.fail(f"can't give argument to non-function {args[0]}")

    def arg(self, dot: object, node: _Node) -> object:
        """Evaluate an argument or a chain's receiver."""
        self.node = node
        if isinstance(node, _Dot):
            return dot
        if isinstance(node, _Nil):
            return None
        if isinstance(node, _Lit):
            return node.value
        if isinstance(node, _Pipe):
            return self.pipeline(dot, node)
        if isinstance(node, _Ident):
            return self.function(dot, node, [node], _NOFINAL)
        return self.command(dot, _Cmd(node.pos, [node]), _NOFINAL)

    def field_chain(
        self, dot: object, receiver: object, idents: list[str], args: list[_Node], final: object
    ) -> object:
        for name in idents[:-1]:
            receiver = self.field(dot, receiver, name, [], _NOFINAL)
        return self.field(dot, receiver, idents[-1], args, final)

    def field(self, dot: object, receiver: object, name: str, args: list[_Node],
              final: object) -> object:
        if receiver is MISSING:
            if self.strict:
                self.fail(f'nil data; no entry for key "{name}"')
            return MISSING
        if receiver is None:
            self.fail(f"nil pointer evaluating interface {{}}.{name}")
        if isinstance(receiver, HeaderContext):
            return receiver.name_for(name)
        has_args = len(args) > 1 or final is not _NOFINAL
        if isinstance(receiver, dict):
            if name in receiver:
                value = receiver[name]
            elif self.strict:
                self.fail(f'map has no entry for key "{name}"')
            else:
                value = MISSING
        elif name.startswith("_") or not hasattr(receiver, name) or isinstance(
            receiver, (str, int, float, list, tuple, bytes)
        ):
            self.fail(f"can't evaluate field {name} in type {_go_type(receiver)}")
        else:
            value = getattr(receiver, name)
        if callable(value) and not isinstance(value, type):
            return self.invoke(name, value, self.eval_args(dot, args[1:], final))
        if has_args:
            self.fail(f"{name} has arguments but cannot be invoked as function")
        return value

    def eval_args(self, dot: object, nodes: list[_Node], final: object) -> list[object]:
        values = [self.arg(dot, n) for n in nodes]
        if final is not _NOFINAL:
            values.append(final)
        # Go hands a function the zero (nil) interface for an invalid value.
        return [None if v is MISSING else v for v in values]

    def function(self, dot: object, ident: _Ident, args: list[_Node], final: object) -> object:
        fn, least, most = self.funcs[ident.name]
        count = len(args) - 1 + (final is not _NOFINAL)
        if count < least or (most is not None and count > most):
            want = f"at least {least}" if most is None else str(least)
            self.node = ident
            self.fail(f"wrong number of args for {ident.name}: want {want} got {count}")
        if ident.name in ("and", "or"):
            return self.and_or(dot, ident.name == "and", args[1:], final)
        values = self.eval_args(dot, args[1:], final)
        self.node = ident
        return self.invoke(ident.name, fn, values)

    def and_or(self, dot: object, is_and: bool, nodes: list[_Node], final: object) -> object:
        value: object = None
        for node in nodes:
            value = self.arg(dot, node)
            if _truth(value) != is_and:
                return None if value is MISSING else value
        if final is not _NOFINAL:  # a piped-in value is the last operand
            value = final
        return None if value is MISSING else value

    def invoke(self, name: str, fn: Callable[..., object], values: list[object]) -> object:
        try:
            return fn(*values)
        except _TemplateError as exc:
            self.fail(f"error calling {name}: {exc}")
        except (TypeError, ValueError, KeyError, IndexError) as exc:
            self.fail(f"error calling {name}: {exc}")


# ---------------------------------------------------------------------------------------------
# API


class Template:
    """A parsed template; `execute` may be called any number of times."""

    def __init__(self, text: str) -> None:
        self.text = text
        parser = _Parser(text, list(_FUNCS))
        self.nodes = parser.parse()
        self.defs = parser.defs

    def execute(self, data: object, *, strict: bool = False) -> str:
        state = _State(self, data, strict)
        try:
            state.walk(data, self.nodes)
        except _TemplateError as exc:
            raise UsageError(f"template parsing error: {exc}") from None
        except RecursionError:
            raise UsageError("template parsing error: template nests too deeply") from None
        return "".join(state.out)


@functools.lru_cache(maxsize=256)
def _compile_cached(text: str) -> Template:
    try:
        return Template(text)
    except _TemplateError as exc:
        raise UsageError(f"template parsing error: {exc}") from None


def compile(template: str) -> Template:  # noqa: A001 - the module's verb, like re.compile
    """Parse `template` (cached by its text)."""
    return _compile_cached(template)


def render(template: str, data: object, *, strict: bool = False) -> str:
    """Execute the Go template `template` with `data` as dot."""
    return compile(template).execute(data, strict=strict)
