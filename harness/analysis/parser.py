"""One report window (the lines from a header on) -> a Report.

The window is read only in the header's caller context when the console has
caller tags, so that a report interleaved with other CPUs' output reads as
if printed alone. The title is computed on the text up to the next report's
header, as syzkaller does. The report's extent (its lines and text) ends at
its last end-of-trace marker, or, without one, where report-like lines stop.
"""

from __future__ import annotations

import re

from harness.analysis.corrupt import corrupted_reason
from harness.analysis.frames import RIP_FRAME, is_stack_start, match_frame
from harness.analysis.lines import Line
from harness.analysis.oops import Oops
from harness.analysis.report import Report, title_frame
from harness.analysis.table_misc import OOPSES, REPORT_START_IGNORES
from harness.analysis.titles import describe, report_type, sanitize

# A WARN() whose message is a report header of its own prints its WARNING
# (and the stack) right after it: one report, not two.
_WARN_MESSAGES = re.compile(r"BUG: Dentry .* still in use|VFS: Busy inodes after unmount|VFS: Close: file count is 0")
_WARN_GRACE = 4  # lines
# Messages that dump a stack of their own: what follows is not the report's.
_INFO_WITH_STACK = (
    "vmalloc: allocation failure:",
    "FAULT_INJECTION: forcing a failure",
    "FAULT_FLAG_ALLOW_RETRY missing",
)
_END_MARKERS = re.compile(r"^\s*(?:---\[ end (?:trace|Kernel panic)|={20,}\s*$)")
# Lines a report is made of: indented frames, "Key: value" registers and
# headings, PC frames, <TASK>-like markers, banners.
_REPORTISH = re.compile(r"^(?:\s|\[<|<|---|===|[\w#() .-]{1,30}:|\? )")
_GAP = 20  # so many non-report lines in a row end a report that has no end marker


def _tokens() -> tuple[str, ...]:
    """Substrings that every header contains; fewer, shorter tokens scan faster."""
    shared = ("BUG", "panic", "VFS: ", "SYZFA")
    out: list[str] = []
    for oops in OOPSES:
        token = next((t for t in shared if t in oops.header), oops.header)
        if token not in out:
            out.append(token)
    return tuple(out)


TOKENS = _tokens()
_TOKEN_RE = re.compile("|".join(re.escape(t) for t in TOKENS))


def header_oops(text: str) -> Oops | None:
    """The table entry whose header this line's text carries, if any."""
    if _TOKEN_RE.search(text) is None:
        return None
    for oops in OOPSES:
        if oops.matches(text):
            return oops
    return None


def starts_report(text: str) -> bool:
    """A header line that may begin a report (not the tail of the one before it)."""
    return header_oops(text) is not None and not any(r.search(text) for r in REPORT_START_IGNORES)


def ends_report(text: str, head: str = "", distance: int = 0) -> bool:
    """Does this line, ``distance`` lines after the header line ``head``, end that report?"""
    if not starts_report(text):
        return False
    if distance <= _WARN_GRACE and "WARNING:" in text and _WARN_MESSAGES.search(head):
        return False
    return True


def _primary_frames(lines: list[str]) -> list[str]:
    """The RIP function, then the first call trace, innermost first."""
    frames: list[str] = []
    for ln in lines:
        m = RIP_FRAME.search(ln)
        if m and m.group(1):
            frames.append(m.group(1))
            break
    in_trace = False
    for ln in lines:
        if is_stack_start(ln):
            if in_trace and frames:
                break
            in_trace = True
            continue
        if in_trace:
            frames.extend(match_frame(ln))
    return frames


def _text(lines: list[Line], ctx: str, questionable: bool) -> str:
    keep = [lines[0].text]
    for ln in lines[1:]:
        if ln.context != ctx or (ln.questionable and not questionable):
            continue
        keep.append(ln.text)
    return "\n".join(keep) + "\n"


def _extent(own: list[Line]) -> list[Line]:
    """The report's own lines: through the last end marker, else until report lines stop."""
    for j in range(len(own) - 1, 0, -1):
        if _END_MARKERS.match(own[j].text):
            return own[: j + 1]
    last = 0
    for j in range(1, len(own)):
        text = own[j].text
        if _REPORTISH.match(text) or match_frame(text):
            last = j
        elif j - last > _GAP:
            break
    return own[: last + 1]


def parse_window(window: list[Line], oops: Oops) -> tuple[Report, int]:
    """(the report, the line number where the next report of its context may start).

    window[0] is the header line; the rest is what follows it in the log.
    """
    head = window[0]
    ctx = head.context
    title_end = len(window)  # exclusive
    end = len(window)
    for i in range(1, len(window)):
        ln = window[i]
        if ln.context != ctx:
            continue
        if any(m in ln.text for m in _INFO_WITH_STACK):
            title_end = min(title_end, i)
            continue
        if not ends_report(ln.text, head.text, i):
            continue
        end = i
        title_end = min(title_end, i)
        break
    title_lines = window[:title_end]
    text = _text(title_lines, ctx, questionable=False)
    desc = describe(text, oops)
    if desc.format is not None and desc.format.stack is not None and not desc.frame and ctx:
        # Unreliable unwinders mark every frame questionable; better those than none.
        text2 = _text(title_lines, ctx, questionable=True)
        desc2 = describe(text2, oops)
        if desc2.frame:
            desc, text = desc2, text2
    reason = desc.corrupted_reason or corrupted_reason(desc.title, text, desc.format)
    title = sanitize(desc.title)
    own = _extent([ln for ln in window[:end] if ln.context == ctx])
    next_start = window[end].no if end < len(window) else window[-1].no + 1
    report = Report(
        title=title,
        type=report_type(title),
        corrupted=bool(reason),
        guilty_frame=title_frame(title),
        frames=_primary_frames(text.split("\n")),
        start_line=head.no,
        end_line=own[-1].no,
        text="\n".join(ln.text for ln in own),
        alt_titles=[sanitize(a) for a in desc.alt_titles],
        corrupted_reason=reason,
    )
    return report, next_start
