"""Is a report complete enough to trust its title?

A report is corrupted when its header was lost (the format says so), when
another CPU's output got spliced into its first line, or when it should carry
a stack trace and does not: a keyword like "Call Trace:" with no frame after
it means the console dropped or interleaved lines.
"""

from __future__ import annotations

import re

from harness.analysis.frames import STACK_KEYWORDS, match_frame
from harness.analysis.oops import Format

# A timestamp inside the title: two console lines were glued together.
_TITLE_CORRUPTED = (re.compile(r"\[ *[0-9]+\.[0-9]+\]"),)
_GARBLED = re.compile("[\x00-\x08\x0b-\x1f\x7f\ufffd]")
_TRACE_WORDS = ("Call Trace", "Call trace", "backtrace", "Backtrace", "Allocated:", "Freed:")
# Lines that may sit between a trace keyword and its first frame.
_LOOKAHEAD = 15


def corrupted_reason(title: str, text: str, fmt: Format | None) -> str:
    """Why the report is corrupted, or "" when it is not."""
    if _GARBLED.search(title):
        return "the report's first line is garbled (undecodable or control bytes)"
    if fmt is None:
        # An unknown variant of a known header: nothing tells what it should contain.
        return ""
    if fmt.corrupted:
        return "the report's first line was lost"
    first = text.split("\n", 1)[0]
    for pattern in _TITLE_CORRUPTED:
        if pattern.search(title) or pattern.search(first):
            return "another console line is spliced into the report's first line"
    if fmt.needs is not None and not fmt.needs.search(text):
        return "the report is cut short"
    if fmt.no_stack_trace:
        return ""
    if not any(w in text for w in _TRACE_WORDS):
        return "no stack trace in the report"
    has_trace = False
    for key in STACK_KEYWORDS:
        m = key.search(text)
        if m is None:
            continue
        after = text[m.end() :].split("\n")[1 : 1 + _LOOKAHEAD]
        if not after or not after[0].strip() and len(after) == 1:
            return "a stack trace keyword ends the report"
        found = False
        for ln in after:
            if any(k.search(ln) for k in STACK_KEYWORDS):
                break
            if "(stack is not available)" in ln or match_frame(ln):
                found = True
                break
        if not found:
            return "no frames after a stack trace keyword"
        has_trace = True
    if not has_trace:
        return "no stack trace in the report"
    return ""
