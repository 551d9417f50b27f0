"""Is a report complete enough to trust its title?

A port of syzkaller's isCorrupted (pkg/report/linux.go at commit
1e72964b0111319984575e60f266d1fa0a98abb5), judged on the whole report
text, not only the part the title was taken from: a title that merged a
timestamp is corrupted; a format that expects a stack trace needs one, and
every stack-start keyword in the report needs a frame within the next 15
lines (riscv's register dump excepted, which opens a trace with no heading).
"""

from __future__ import annotations

from harness.analysis.gore import go_re
from harness.analysis.oops import Format
from harness.analysis.stack import FRAME_RES_C, STACK_START_RES, is_stack_start
from harness.analysis.table.params import CORRUPTED_TITLES, RISCV_STACK_START

_RISCV = go_re(RISCV_STACK_START)
_LOOKAHEAD = 15


def corrupted_reason(title: str, report: str, fmt: Format | None) -> str:
    """Why the report is corrupted, or "" when it is not."""
    if any(go_re(p).search(title) for p in CORRUPTED_TITLES):
        return "title matches corrupted regexp"
    if fmt is None or fmt.no_stack_trace:
        return ""
    has_trace = False
    for key in STACK_START_RES:
        m = key.search(report)
        if m is None:
            continue
        # From the keyword on (its line's rest first); the text ends in "\n".
        frames = report[m.start() :].split("\n")
        if len(frames) < 4:
            return "call trace is missed"
        corrupted = True
        for ln in frames[1 : 1 + _LOOKAHEAD]:
            if is_stack_start(ln):
                break
            if "(stack is not available)" in ln or any(r.search(ln) for r in FRAME_RES_C):
                has_trace = True
                corrupted = False
                break
        if key is not _RISCV and corrupted:
            return "no frames in a stack trace"
    if not has_trace:
        return "no stack trace in report"
    return ""
