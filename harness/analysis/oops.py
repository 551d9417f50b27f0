"""The data model of the rule tables: an oops header and its title formats.

It mirrors syzkaller's pkg/report (report.go: ``oops``, ``oopsFormat``,
``stackFmt``). Every pattern is kept as syzkaller writes it (Go syntax, with
its {{FUNC}}-like shorthands) and compiled on first use by ``gore.go_re``;
title formats keep Go's ``%[1]v`` verbs. So a table here reads entry by entry
like the reference, and a test compares them.

A cheap substring (the header) finds a candidate line; the formats, tried in
order, turn the report text into a title: the one whose ``title`` matches
earliest wins, ties going to the first. Its ``report`` regex, when present,
must match too (else the report is corrupted) and supplies the title
arguments; the stack spec then adds the guilty frame(s) as the last ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Union

from harness.analysis.gore import go_re


class ParseStack:
    """syzkaller's parseStackTrace marker: read a stack trace from here on."""

    def __repr__(self) -> str:
        return "parseStackTrace"


PARSE_STACK = ParseStack()

# A part of a stack spec: a pattern source (Go syntax) or the marker.
Part = Union[str, ParseStack]
# stripped frames (innermost first) -> (chosen frame, its index) or ("", -1)
Extractor = Callable[[list[str]], tuple[str, int]]


@dataclass(frozen=True)
class Stack:
    """syzkaller's stackFmt: where the guilty frame is."""

    parts: tuple[Part, ...] = ()
    parts2: tuple[Part, ...] = ()  # tried when the first parts fail
    skip: tuple[str, ...] = ()  # extra generic frames for this format only
    extractor: Extractor | None = None


@dataclass(frozen=True)
class Format:
    """syzkaller's oopsFormat."""

    title: str
    fmt: str
    report: str | None = None
    alt: tuple[str, ...] = ()
    stack: Stack | None = None
    no_stack_trace: bool = False
    corrupted: bool = False

    @property
    def title_re(self) -> re.Pattern[str]:
        return go_re(self.title)

    @property
    def report_re(self) -> re.Pattern[str] | None:
        return go_re(self.report) if self.report is not None else None


@dataclass(frozen=True)
class Oops:
    """syzkaller's oops: a header substring, its formats, and lines that look like it but are not."""

    header: str
    formats: tuple[Format, ...]
    suppressions: tuple[str, ...] = ()

    def matches(self, line: str) -> bool:
        """syzkaller's matchOops on a whole console line (prefix included)."""
        if self.header not in line:
            return False
        return not any(go_re(s).search(line) for s in self.suppressions)
