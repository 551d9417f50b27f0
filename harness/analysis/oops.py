"""The data model of the header table: an oops header and its title formats.

This mirrors syzkaller's ``pkg/report`` design: a cheap substring (the
header) finds a candidate line; the formats, tried in order, turn the report
text into a title. A format's ``title`` regex is searched in the report text;
the earliest match wins. Its optional ``report`` regex must then match too
and supplies the title arguments; the ``stack`` spec finds the guilty frame,
which becomes the last argument. ``fmt`` refers to arguments as ``{1}``,
``{2}``, ... in order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

# Regex shorthands shared by every table entry.
_TEMPLATES = {
    "{{ADDR}}": r"0x[0-9a-f]+",
    "{{PC}}": r"\[<?(?:0x)?[0-9a-f]+>?\]",
    # A function name is followed by ".isra.0"-like suffixes or "+0xoff/0xsize".
    "{{FUNC}}": r"([a-zA-Z0-9_]+)(?:\.|\+)",
    "{{SRC}}": r"([a-zA-Z0-9\-_/.]+\.[a-z]+:[0-9]+)",
}


def rx(pattern: str, flags: int = 0) -> re.Pattern[str]:
    for key, value in _TEMPLATES.items():
        pattern = pattern.replace(key, value)
    return re.compile(pattern, flags)


class _ParseStack:
    """Marker part: read the frames of a stack trace from here on."""

    def __repr__(self) -> str:
        return "PARSE_STACK"


PARSE_STACK = _ParseStack()

# frames (innermost first) -> (chosen frame, its index) or ("", -1)
Extractor = Callable[[list[str]], tuple[str, int]]


@dataclass(frozen=True)
class Stack:
    """Where the guilty frame is: regex parts matched in order, PARSE_STACK reads a trace."""

    parts: tuple = ()
    parts2: tuple = ()  # a second try when the first finds nothing
    skip: tuple[str, ...] = ()  # extra generic frames for this format only
    extractor: Extractor | None = None


@dataclass(frozen=True)
class Format:
    title: re.Pattern[str]
    fmt: str
    report: re.Pattern[str] | None = None
    alt: tuple[str, ...] = ()
    stack: Stack | None = None
    no_stack_trace: bool = False  # a complete report of this kind has no call trace
    corrupted: bool = False  # matching this format means the real header was lost
    # A part every complete report of this kind has; without it the report was cut short.
    needs: re.Pattern[str] | None = None


@dataclass(frozen=True)
class Oops:
    header: str
    formats: tuple[Format, ...]
    suppressions: tuple[re.Pattern[str], ...] = ()
    # The header counts only at the start of the line's text (messages that
    # userspace can echo back in the middle of another line).
    line_start: bool = False

    def matches(self, text: str) -> bool:
        if self.line_start:
            if not text.lstrip().startswith(self.header):
                return False
        elif self.header not in text:
            return False
        return not any(s.search(text) for s in self.suppressions)
