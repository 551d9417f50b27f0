"""One report: the lines from its header on -> a Report.

A port of syzkaller's findReport and Parse (pkg/report/linux.go at commit
1e72964b0111319984575e60f266d1fa0a98abb5):

- the report is its header line, then the lines of the header's context
  (a CPU's lines too once "Sending NMI from CPU" asked every CPU for a
  backtrace), unwinders' unsure frames dropped;
- the title is taken from the text up to the next report's header (any
  context), or, in a caller-tagged log, from all of the context's lines,
  since there the next header of another context does not interrupt it; a
  header of REPORT_START_IGNORES (a panic, a double fault) does not count as
  the next report, nor do lines that dump a stack without being a bug;
- lines after "Kernel panic" or a lockdep circular-dependency header are
  left out once the report has enough lines of its own;
- corruption is judged on the whole report.

The log is read through a bounded window (see scan.py), so "the whole
report" is the lines the window holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.analysis.corrupt import corrupted_reason
from harness.analysis.describe import describe
from harness.analysis.frames import main_frames, main_trace
from harness.analysis.lines import CONSOLE, Line, is_cpu_context, printable
from harness.analysis.oops import Oops
from harness.analysis.report import Report, title_frame
from harness.analysis.table import OOPSES
from harness.analysis.table.params import INFO_MESSAGES_WITH_STACK, REPORT_START_IGNORES
from harness.analysis.gore import go_re
from harness.analysis.limits import WINDOW_LINES
from harness.analysis.titles import report_type, sanitize

if TYPE_CHECKING:
    from harness.analysis.scan import Window

REPLAY = "** replaying previous printk message **"
# Lines the report reader treats specially; marked when decoded (Line.special).
SPECIAL = (
    "serialport: VM disconnected.",
    "Disabling lock debugging due to kernel taint",
    "Sending NMI from CPU",
    "Kernel panic - not syncing",
    "WARNING: possible circular locking dependency detected",
)
_HEADERS = re.compile("|".join(re.escape(o.header) for o in OOPSES))
_START_IGNORES = tuple(go_re(p) for p in REPORT_START_IGNORES)
# syzkaller's gceConsoleHangup: the console connection dropped, the report is cut.
CONSOLE_HANGUP = "serialport: VM disconnected."
# Lines of the window read past the next report's first line. They still
# belong to the report: its corruption is judged on them. A caller-tagged
# report's title also reads on through its context there, to the window's
# end (syzkaller reads to the end of the output).
TAIL_LINES = 100
TAGGED_TAIL_LINES = WINDOW_LINES



def header_oops(raw: str) -> Oops | None:
    """The first table entry whose header this console line carries."""
    if _HEADERS.search(raw) is None:
        return None
    for oops in OOPSES:
        if oops.matches(raw):
            return oops
    return None


def start_ignored(raw: str) -> bool:
    return any(p.search(raw) for p in _START_IGNORES)


def _min_lines(oops_line: str) -> int:
    # KMSAN reports have no "Call Trace:" and fewer lines before the panic.
    return 16 if "BUG: KMSAN:" in oops_line else 22


def _second_report(raw: str, replayed: bool) -> bool:
    """Does this line (not the report's first, a hot one) start the next report?"""
    info = None
    for oops in OOPSES:
        if oops.matches(raw):
            if not replayed and not start_ignored(raw):
                return True
        else:
            if info is None:
                info = any(m in raw for m in INFO_MESSAGES_WITH_STACK)
            if info:
                return True
    return False


def _special(raw: str, past_min_lines: bool) -> tuple[bool, bool, bool]:
    """What a special line does to the report's text, as syzkaller's extractor
    reads it: (skip this line, CPU tracebacks follow, skip the text from here on)."""
    if "Disabling lock debugging due to kernel taint" in raw:
        return True, False, False
    if "Sending NMI from CPU" in raw:
        return False, True, False
    if past_min_lines and (
        "Kernel panic - not syncing" in raw or "WARNING: possible circular locking dependency detected" in raw
    ):
        return True, False, True
    return False, False, False


@dataclass
class Found:
    report: Report
    read: int  # how many lines of the window were read
    second: int | None  # index of the next report's first line, if seen


def parse(window: "Window", oops: Oops) -> Found:
    """``window(i)`` is the i-th line from the header (None past the end); see scan.Window."""
    line_at = window
    lines = window.lines
    base = window.first
    more = window.more
    head = line_at(0)
    assert head is not None
    context = head.context
    tagged = context not in ("", CONSOLE)
    second: int | None = None
    text_lines = 0
    skip_text = cpu_traceback = False
    report: list[str] = []
    whole: list[Line] = []  # the context's lines read; "own" are those before the next report
    hangup = False
    min_lines = _min_lines(head.raw)
    tail = TAGGED_TAIL_LINES if tagged else TAIL_LINES
    i = 0
    # Up to the next report's first line, line by line.
    while second is None and (base + i < len(lines) or more(i)):
        ln = lines[base + i]
        if ln.special and CONSOLE_HANGUP in ln.raw:
            hangup = True  # anywhere in the output, as syzkaller checks it
        if ln.hot and i:
            nxt = line_at(i + 1)
            if _second_report(ln.raw, nxt is not None and REPLAY in nxt.raw):
                second = i
                break
        i += 1
        if i > 1 and (ln.context != context or ln.questionable):
            if ln.questionable or not (cpu_traceback and is_cpu_context(ln.context)):
                continue
        text_lines += 1
        skip_line = skip_text
        if ln.special:
            skip, nmi, stop = _special(ln.raw, text_lines > min_lines)
            skip_line, cpu_traceback, skip_text = skip_line or skip, cpu_traceback or nmi, skip_text or stop
        if i > 1 and skip_line:
            continue
        report.append(ln.text)
        whole.append(ln)
    own = list(whole)
    report_end = len(report)
    if second is not None:
        # The tail: only the context's own lines count, so take them in bulk.
        more(second + tail)
        chunk = lines[base + second : base + min(second + tail + 1, WINDOW_LINES)]
        i = second + len(chunk)
        hangup = hangup or any(CONSOLE_HANGUP in ln.raw for ln in chunk if ln.special)
        if cpu_traceback:
            mine = [ln for ln in chunk if ln.context == context or is_cpu_context(ln.context)]
        else:
            mine = [ln for ln in chunk if ln.context == context]
        for ln in mine:
            if ln.questionable:
                continue
            text_lines += 1
            skip_line = skip_text
            if ln.special:
                skip, nmi, stop = _special(ln.raw, text_lines > min_lines)
                skip_line, cpu_traceback, skip_text = skip_line or skip, cpu_traceback or nmi, skip_text or stop
            if skip_line:
                continue
            report.append(ln.text)
            whole.append(ln)
        if tagged:
            report_end = len(report)
    title_text = "\n".join(report[:report_end]) + "\n"
    desc = describe(title_text, oops)
    if not desc.title:
        raws = [line_at(j).raw for j in range(i) if line_at(j) is not None]
        desc = describe("\n".join(raws) + "\n", oops)
    full = "\n".join(report) + "\n"
    reason = desc.corrupted_reason or corrupted_reason(desc.title, full, desc.format)
    if hangup and not reason:
        reason = "the console connection dropped (serialport: VM disconnected.)"
    title = sanitize(desc.title)
    # Shown: the lines before the next report; a report whose stack is
    # printed by the next one (a WARN() after "BUG: Dentry still in use")
    # shows it too, as it is part of the report in syzkaller's sense.
    frames, has_trace = main_trace([ln.text for ln in own])
    if not has_trace and len(whole) > len(own):
        # Borrow through the next report's end-of-trace marker, not beyond.
        end = next((j for j in range(len(own), len(whole)) if _END_MARKERS.match(whole[j].text)), None)
        own = whole[: end + 1] if end is not None else whole[: len(own) + _GAP]
        frames = main_frames([ln.text for ln in own])
    shown = _extent(own)
    rep = Report(
        title=title,
        type=report_type(title),
        corrupted=bool(reason),
        guilty_frame=title_frame(title),
        frames=frames,
        start_line=head.no,
        end_line=shown[-1].no,
        text=printable("\n".join(ln.text for ln in shown)),
        alt_titles=[sanitize(a) for a in desc.alt_titles],
        corrupted_reason=reason,
    )
    return Found(rep, i, second)


_END_MARKERS = re.compile(r"^\s*(?:---\[ end (?:trace|Kernel panic)|={20,}\s*$)")
# Lines a report is made of: indented frames, "Key: value" registers and
# headings, PC frames, <TASK>-like markers, banners.
_REPORTISH = re.compile(r"^(?:\s|\[<|<|---|===|[\w#() .-]{1,30}:|\? )")
_GAP = 20


def _extent(own: list[Line]) -> list[Line]:
    """The lines shown as the report: through its last end marker, else until report-like lines stop.

    Display only: titles and corruption do not depend on it.
    """
    for j in range(len(own) - 1, 0, -1):
        if _END_MARKERS.match(own[j].text):
            return own[: j + 1]
    last = 0
    for j in range(1, len(own)):
        if _REPORTISH.match(own[j].text):
            last = j
        elif j - last > _GAP:
            break
    return own[: last + 1]
