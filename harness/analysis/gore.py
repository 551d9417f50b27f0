"""syzkaller's regex and format notation, read in Python.

The rule tables keep syzkaller's own pattern and title-format strings, byte
for byte, so that a table can be compared with the reference entry by entry
(tests/unit/test_analysis_reference.py). This module turns them into what
Python runs:

- ``go_re(source)`` expands syzkaller's shorthands ({{ADDR}}, {{PC}},
  {{FUNC}}, {{SRC}}, {{TASK}}) as its ``compile()`` does, rewrites the POSIX
  classes Python lacks, and compiles with ``re.ASCII`` because Go's ``\\d``,
  ``\\w``, ``\\s`` and ``\\W`` are ASCII-only.
- ``go_fmt(fmt, args)`` fills a ``%[2]v``-style title format.
"""

from __future__ import annotations

import re
from functools import lru_cache

# pkg/report/report.go compile(), in its order.
TEMPLATES = (
    ("{{ADDR}}", "0x[0-9a-f]+"),
    ("{{PC}}", "\\[\\<?(?:0x)?[0-9a-f]+\\>?\\]"),
    ("{{FUNC}}", "([a-zA-Z0-9_]+)(?:\\.|\\+)"),
    ("{{SRC}}", "([a-zA-Z0-9-_/.]+\\.[a-z]+:[0-9]+)"),
    ("{{TASK}}", "[\\s\\S]{0,100}?"),
)

# Go (RE2) syntax that Python's re spells differently.
_POSIX = (
    ("[[:space:]]", "[\\t\\n\\v\\f\\r ]"),
    ("[[:xdigit:]]", "[0-9A-Fa-f]"),
    ("[[:alpha:]]", "[A-Za-z]"),
    ("[[:digit:]]", "[0-9]"),
)
# "\<" and "\>" are plain escapes of < and > in RE2; in Python they are errors.
_ANGLE = re.compile(r"\\([<>])")


def expand(source: str) -> str:
    """syzkaller's compile(): the shorthands replaced, still in Go syntax."""
    for key, value in TEMPLATES:
        source = source.replace(key, value)
    return source


@lru_cache(maxsize=None)
def go_re(source: str) -> re.Pattern[str]:
    """Compile a syzkaller pattern (Go syntax, shorthands allowed) for Python."""
    pattern = expand(source)
    for posix, python in _POSIX:
        pattern = pattern.replace(posix, python)
    pattern = _ANGLE.sub(r"\1", pattern)
    # Go's $ without (?m) is the end of the text only; Python's also matches before a final \n.
    pattern = re.sub(r"(?<!\\)\$", r"\\Z", pattern)
    return re.compile(pattern, re.ASCII)


_VERB = re.compile(r"%\[(\d+)\][vs]|%%")


def go_fmt(fmt: str, args: list[str]) -> str:
    """Go's fmt.Sprintf for the explicit-index verbs the tables use."""

    def one(m: re.Match[str]) -> str:
        if m.group(0) == "%%":
            return "%"
        i = int(m.group(1))
        return args[i - 1] if 0 < i <= len(args) else "%!v(BADINDEX)"

    return _VERB.sub(one, fmt)
