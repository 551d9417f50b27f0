"""A report's main stack, for people: the frames to show, and which is guilty.

Titles do not use this (stack.py finds their frames, as syzkaller does).
This lists the report's main trace, innermost first: the faulting PC's
function, then the first call trace's frames. ``own_frames`` drops the
generic frames the trace starts with (dump_stack, the sanitizer's report
machinery, the trap), so a reader sees the report's own part first.
"""

from __future__ import annotations

from harness.analysis.demangle import demangle
from harness.analysis.gore import go_re
from harness.analysis.stack import FRAME_RES_C, is_stack_start, skip_re
from harness.analysis.table.params import RIP_FRAME

RIP_FRAME_RE = go_re(RIP_FRAME)


def _frame_names(line: str) -> list[str]:
    for frame_re in FRAME_RES_C:
        m = frame_re.search(line)
        if m:
            return [demangle(g) for g in m.groups() if g]
    return []


def main_frames(lines: list[str]) -> list[str]:
    """The PC line's function, then the first call trace's frames, innermost first."""
    return main_trace(lines)[0]


def main_trace(lines: list[str]) -> tuple[list[str], bool]:
    """(main_frames, whether the lines open a stack trace at all)."""
    frames: list[str] = []
    for ln in lines:
        # The pattern needs one of these words ("RIP: ", "pc : ", "PC is at "); most lines have none.
        if "IP" not in ln and "pc " not in ln and "PC is at" not in ln:
            continue
        m = RIP_FRAME_RE.search(ln)
        if m and m.group(1):
            frames.append(demangle(m.group(1)))
            break
    in_trace = False
    for ln in lines:
        if is_stack_start(ln):
            if in_trace and len(frames) > 1:
                break
            in_trace = True
            continue
        if in_trace:
            frames.extend(_frame_names(ln))
    return frames, in_trace


def own_frames(frames: list[str]) -> list[str]:
    """The frames from the first one that is not generic machinery on."""
    generic = skip_re()
    for i, f in enumerate(frames):
        if not generic.search(f):
            return frames[i:]
    return frames
