"""Read syzkaller's Go rule tables as data, for comparing our tables with them.

A small reader of the Go literals the tables are written in: strings,
composite literals (keyed or not), calls such as compile("..."), string
concatenation, and identifiers. It does not run or translate Go code; it
turns a table's source text into nested Python values:

- a string literal -> str; ``a + b`` -> Concat([...]);
- ``compile(s)``, ``regexp.MustCompile(s)``, ``[]byte(s)`` -> Call(name, args);
- ``T{...}`` -> list (positional) or dict (keyed); ``&T{...}`` likewise;
- an identifier -> Ident(name); ``x.String()`` -> Call("x.String", []).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path



def shared(*parts: str) -> Path:
    """../shared from the repo (a checkout beside it, or a worktree one level deeper)."""
    repo = Path(__file__).resolve().parents[2]
    for base in (repo.parent, repo.parent.parent):
        if (base / "shared" / Path(*parts)).exists():
            return base / "shared" / Path(*parts)
    return repo.parent / "shared" / Path(*parts)


REFERENCE = shared("reference", "syzkaller-report")


@dataclass(frozen=True)
class Ident:
    name: str


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple


@dataclass(frozen=True)
class Concat:
    parts: tuple


_TOKEN = re.compile(
    r"""(?P<ws>\s+|//[^\n]*)
    |(?P<str>"(?:[^"\\\n]|\\.)*")
    |(?P<raw>`[^`]*`)
    |(?P<dots>\.\.\.)
    |(?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    |(?P<num>[0-9]+)
    |(?P<op>[{}()\[\],:&*+=])""",
    re.VERBOSE,
)
_ESC = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'", "r": "\r"}


def _unquote(s: str) -> str:
    out, i = [], 1
    while i < len(s) - 1:
        c = s[i]
        if c == "\\":
            out.append(_ESC[s[i + 1]])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            break  # past the value being read: code, not literals
        pos = m.end()
        kind = m.lastgroup
        if kind == "ws":
            continue
        value = m.group(kind)
        if kind == "str":
            kind, value = "string", _unquote(value)
        elif kind == "raw":
            kind, value = "string", value[1:-1]
        out.append((kind, value))
    return out


class _Reader:
    def __init__(self, toks: list[tuple[str, str]]) -> None:
        self.t = toks
        self.i = 0

    def peek(self, k: int = 0) -> tuple[str, str]:
        return self.t[self.i + k] if self.i + k < len(self.t) else ("eof", "")

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if value is not None and tok[1] != value:
            raise ValueError(f"expected {value!r}, got {tok!r} at token {self.i}")
        self.i += 1
        return tok

    def skip_type(self) -> None:
        """A composite literal's type: []*regexp.Regexp, [][]byte, map[string]string, &stackFmt..."""
        while True:
            kind, value = self.peek()
            if value in ("[", "]", "*", "&") or kind == "ident" and self.peek(1)[1] in ("{", "[", "]"):
                self.take()
                if value == "ident":
                    break
                continue
            if kind == "ident" and value == "map":
                self.take()
                continue
            break

    def expr(self):
        parts = [self.operand()]
        while self.peek()[1] == "+":
            self.take()
            parts.append(self.operand())
        return parts[0] if len(parts) == 1 else Concat(tuple(parts))

    def operand(self):
        kind, value = self.peek()
        if kind == "string":
            self.take()
            return value
        if value == "&" and self.peek(1)[0] == "ident" and self.peek(2)[1] != "{":
            self.take()
            return self.operand()
        if value in ("[", "&", "map") or kind == "ident" and self.peek(1)[1] == "{":
            return self.composite()
        if kind == "ident":
            self.take()
            if self.peek()[1] == "(":
                self.take("(")
                args = []
                while self.peek()[1] != ")":
                    args.append(self.expr())
                    if self.peek()[1] == "...":
                        self.take()
                    if self.peek()[1] == ",":
                        self.take()
                self.take(")")
                if value == "[]byte":
                    return args[0]
                return Call(value, tuple(args))
            return Ident(value)
        if kind == "num":
            self.take()
            return int(value)
        raise ValueError(f"unexpected {kind} {value!r} at token {self.i}")

    def composite(self):
        # The type: everything up to the opening brace.
        while self.peek()[1] != "{":
            kind, value = self.take()
            if value == "[" and self.peek()[1] == "]" and self.peek(1)[0] == "ident" and self.peek(2)[1] == "(":
                # []byte("...") conversion, not a literal.
                self.take("]")
                name = self.take()[1]
                call = self.operand_call("[]" + name)
                return call
        self.take("{")
        items: list = []
        keyed: dict = {}
        while self.peek()[1] != "}":
            if self.peek()[1] == "{":
                value = self.composite()
            else:
                value = self.expr()
            if self.peek()[1] == ":":
                self.take()
                key = value.name if isinstance(value, Ident) else value
                keyed[key] = self.expr() if self.peek()[1] != "{" else self.composite()
            else:
                items.append(value)
            if self.peek()[1] == ",":
                self.take()
        self.take("}")
        return keyed if keyed else items

    def operand_call(self, name: str):
        self.take("(")
        args = [self.expr()]
        self.take(")")
        return args[0] if name == "[]byte" else Call(name, tuple(args))


def read(text: str, start: str):
    """The Go value whose source begins right after ``start`` in ``text``."""
    pos = text.index(start) + len(start)
    return _Reader(tokens(text[pos:])).expr()


def source(name: str) -> str:
    return (REFERENCE / name).read_text()


def commit() -> str:
    m = re.search(r"commit ([0-9a-f]{40})", (REFERENCE / "SOURCE.md").read_text())
    assert m, "SOURCE.md names no commit"
    return m.group(1)
