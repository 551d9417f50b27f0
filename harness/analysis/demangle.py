"""Symbol demangling for stack frames, without parameters (as syzkaller's
demangle.Filter(name, NoParams)).

Rust v0: ``_RNvMs3_NtCs1a2b_11rust_binder7processNtB5_7Process10update_ref``
reads ``<rust_binder::process::Process>::update_ref``. C++ (Itanium):
``_ZN4base6detail7doThingEv`` reads ``base::detail::doThing``: the name's
scopes, constructors and destructors; the parameter list is dropped.
Anything that does not parse (templates, substitutions, operators) is
returned unchanged: a frame name is never lost to demangling.
"""

from __future__ import annotations

_BASIC = {
    "a": "i8", "b": "bool", "c": "char", "d": "f64", "e": "str", "f": "f32", "h": "u8", "i": "isize",
    "j": "usize", "l": "i32", "m": "u32", "n": "i128", "o": "u128", "p": "_", "s": "i16", "t": "u16",
    "u": "()", "v": "...", "x": "i64", "y": "u64", "z": "!",
}
_B62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


class _Bad(Exception):
    pass


class _Parser:
    def __init__(self, s: str) -> None:
        self.s = s
        self.i = 0
        self.depth = 0

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def take(self) -> str:
        c = self.peek()
        if not c:
            raise _Bad
        self.i += 1
        return c

    def b62(self) -> int:
        if self.peek() == "_":
            self.i += 1
            return 0
        n = 0
        while (c := self.take()) != "_":
            k = _B62.find(c)
            if k < 0:
                raise _Bad
            n = n * 62 + k
        return n + 1

    def disambiguator(self) -> None:
        if self.peek() == "s":
            self.i += 1
            self.b62()

    def ident(self) -> str:
        self.disambiguator()
        if self.peek() == "u":
            raise _Bad  # punycode: not worth it for kernel symbols
        start = self.i
        while self.peek().isdigit():
            self.i += 1
        if start == self.i:
            raise _Bad
        n = int(self.s[start : self.i])
        if self.peek() == "_":
            self.i += 1
        name = self.s[self.i : self.i + n]
        if len(name) != n:
            raise _Bad
        self.i += n
        return name

    def backref(self, parse) -> str:
        target = self.b62()
        saved = self.i
        self.i = target
        self.depth += 1
        if self.depth > 50:
            raise _Bad
        try:
            return parse()
        finally:
            self.depth -= 1
            self.i = saved

    def path(self) -> str:
        c = self.take()
        if c == "C":
            return self.ident()
        if c == "N":
            ns = self.take()
            inner = self.path()
            name = self.ident()
            if ns == "C":
                return f"{inner}::{{closure}}"
            return f"{inner}::{name}" if name else inner
        if c == "M":
            self.disambiguator()
            self.path()  # the impl's own path is not printed
            return f"<{self.type()}>"
        if c == "X":
            self.disambiguator()
            self.path()
            ty = self.type()
            return f"<{ty} as {self.path()}>"
        if c == "Y":
            ty = self.type()
            return f"<{ty} as {self.path()}>"
        if c == "I":
            base = self.path()
            args = []
            while self.peek() != "E":
                args.append(self.generic_arg())
            self.i += 1
            return f"{base}::<{', '.join(args)}>"
        if c == "B":
            return self.backref(self.path)
        raise _Bad

    def generic_arg(self) -> str:
        if self.peek() == "L":
            self.i += 1
            self.b62()
            return "'_"
        if self.peek() == "K":
            self.i += 1
            return self.const()
        return self.type()

    def const(self) -> str:
        if self.peek() == "B":
            self.i += 1
            return self.backref(self.const)
        self.type()
        if self.peek() == "p":
            self.i += 1
            return "_"
        digits = []
        while (c := self.take()) != "_":
            digits.append(c)
        return "0x" + "".join(digits) if digits else "0"

    def type(self) -> str:
        c = self.peek()
        if c in _BASIC:
            self.i += 1
            return _BASIC[c]
        self.i += 1
        if c == "R" or c == "Q":
            if self.peek() == "L":
                self.i += 1
                self.b62()
            return ("&" if c == "R" else "&mut ") + self.type()
        if c == "P" or c == "O":
            return ("*const " if c == "P" else "*mut ") + self.type()
        if c == "A":
            ty = self.type()
            return f"[{ty}; {self.const()}]"
        if c == "S":
            return f"[{self.type()}]"
        if c == "T":
            items = []
            while self.peek() != "E":
                items.append(self.type())
            self.i += 1
            return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
        if c == "B":
            return self.backref(self.type)
        if c in "CNMXYI":
            self.i -= 1
            return self.path()
        raise _Bad


def _source_name(s: str, i: int) -> tuple[str, int]:
    j = i
    while j < len(s) and s[j].isdigit():
        j += 1
    if j == i:
        raise _Bad
    n = int(s[i:j])
    if j + n > len(s):
        raise _Bad
    return s[j : j + n], j + n


def demangle_cxx(name: str) -> str:
    """An Itanium C++ function name without its parameters; unchanged when not understood."""
    s = name
    try:
        i = 2
        parts: list[str] = []
        if s.startswith("N", i):
            i += 1
            while i < len(s) and s[i] in "rVKRO":  # cv- and ref-qualifiers of a method
                i += 1
            if s.startswith("St", i):
                parts.append("std")
                i += 2
            while i < len(s) and s[i] != "E":
                if s[i] in "CD" and parts and i + 1 < len(s) and s[i + 1].isdigit():
                    ctor = s[i] == "C"
                    parts.append(("" if ctor else "~") + parts[-1])
                    i += 2
                    continue
                part, i = _source_name(s, i)
                parts.append(part)
            if i >= len(s) or not parts:
                raise _Bad
            i += 1
        else:
            if s.startswith("St", i):
                parts.append("std")
                i += 2
            part, i = _source_name(s, i)
            parts.append(part)
        # What follows is the parameter list (or nothing): dropped. A template
        # argument list or anything else we cannot read leaves the name alone.
        if i < len(s) and s[i] in "IS":
            raise _Bad
        return "::".join(parts)
    except (_Bad, ValueError):
        return name


def demangle(name: str) -> str:
    """Rust v0 and C++ symbols to their path; any other name unchanged."""
    if name.startswith("_Z") and len(name) > 3:
        return demangle_cxx(name)
    if not name.startswith("_R") or len(name) < 4:
        return name
    p = _Parser(name[2:])
    try:
        if p.peek().isdigit():  # encoding version
            while p.peek().isdigit():
                p.i += 1
        return p.path()
    except (_Bad, IndexError, ValueError, RecursionError):
        return name
