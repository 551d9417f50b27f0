"""Report text -> title, alternative titles, corruption reason.

A port of syzkaller's extractDescription (pkg/report/report.go at commit
1e72964b0111319984575e60f266d1fa0a98abb5). Every format of the header's
entry is tried; the one whose title pattern matches earliest in the text
wins, ties going to the first. A format with a report pattern that does not
match is passed over (and, if nothing else matches, the report is
corrupted). The title arguments are the pattern's groups, then the stack
spec's frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.analysis.gore import go_fmt
from harness.analysis.oops import Format, Oops
from harness.analysis.stack import extract_frames, partially_stripped

NO_FRAMES = "extracted no frames"
TITLE_NOT_REPORT = "matched title but not report regexp"
FORMAT_CORRUPTED = "report format is marked as corrupted"


@dataclass
class Description:
    title: str
    corrupted_reason: str = ""
    alt_titles: list[str] = field(default_factory=list)
    format: Format | None = None
    frame: str = ""  # the first extracted frame as printed; "" when none was trusted


def describe(text: str, oops: Oops) -> Description:
    """Title the report whose text (stripped lines, header first) is ``text``."""
    start = len(text)
    best: Description | None = None
    matched_title = False
    # As in syzkaller, alternative titles of a format that later loses to an
    # earlier match are kept: they still name the same report.
    alts: list[str] = []
    for f in oops.formats:
        m = f.title_re.search(text)
        if m is None or m.start() > start:
            continue
        if m.start() == start and best is not None:
            continue
        if m.start() < start:
            best = None
            start = m.start()
        matched_title = True
        if f.report is not None:
            m = f.report_re.search(text)
            if m is None:
                continue
        prefix = [g if g is not None else "" for g in m.groups()]
        frames = []
        corrupted = ""
        if f.stack is not None:
            frames, ok = extract_frames(f.stack, text[m.start() :])
            if not ok:
                corrupted = NO_FRAMES
        args = prefix + [fr.canonical for fr in frames]
        title = go_fmt(f.fmt, args)
        alts.extend(go_fmt(a, args) for a in f.alt)
        for variant in partially_stripped(prefix, frames):
            alt_title = go_fmt(f.fmt, variant)
            if alt_title != title:
                alts.append(alt_title)
            alts.extend(go_fmt(a, variant) for a in f.alt)
        raw = next((fr.raw for fr in frames if fr.raw != "corrupted"), "")
        best = Description(title, corrupted, list(dict.fromkeys(alts)), f, raw)
    if best is None:
        # A header with no format that fits: the header line is the title.
        reason = TITLE_NOT_REPORT if matched_title else ""
        pos = text.find(oops.header)
        if pos < 0:
            return Description("", reason)
        end = text.find("\n", pos)
        return Description(text[pos : end if end >= 0 else len(text)], reason)
    if not best.corrupted_reason and best.format is not None and best.format.corrupted:
        best.corrupted_reason = FORMAT_CORRUPTED
    return best
