"""The guilty frame(s) of a report, found by a format's stack spec.

A port of syzkaller's extractStackFrame (pkg/report/report.go at commit
1e72964b0111319984575e60f266d1fa0a98abb5). The parts are matched line by
line from the top of the report text: a pattern part consumes lines up to
its match (capturing a frame if it has a group), the PARSE_STACK marker
reads frames until the next stack-start line. A second PARSE_STACK closes
the frames read so far into one result and starts another. Frames matching
the generic list (or the format's own skip list) are dropped; the first that
remains, after the extractor if any, is the result. A result that cannot be
found is "corrupted", and so is a report that passes a fault-injection line.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from harness.analysis.demangle import demangle
from harness.analysis.gore import go_re
from harness.analysis.oops import PARSE_STACK, Part, Stack
from harness.analysis.table.params import CORRUPTED_LINES, FRAME_RES, SKIP, STACK_START, STRIP_PREFIXES

CORRUPTED = "corrupted"


@dataclass(frozen=True)
class Frame:
    canonical: str  # stripped of syscall prefixes: what the title shows
    raw: str  # as printed (demangled)


def _compiled(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(go_re(p) for p in patterns)


STACK_START_RES = _compiled(STACK_START)
FRAME_RES_C = _compiled(FRAME_RES)
# One search instead of one per pattern, where only "does any match" matters.
STACK_START_ANY = go_re("|".join(f"(?:{p})" for p in STACK_START))
CORRUPTED_ANY = go_re("|".join(f"(?:{p})" for p in CORRUPTED_LINES))
# Words without which those patterns cannot match (each pattern holds one
# of them literally): most lines have none, and a substring test is cheaper
# than the regex. tests/unit/test_analysis_rules.py checks them.
STACK_START_WORDS = ("Call ", "Allocated", "Freed", " backtrace", "Backtrace:", "Uninit was stored", "status: ")
CORRUPTED_WORDS = ("should_fail",)


def is_stack_start(line: str) -> bool:
    for word in STACK_START_WORDS:
        if word in line:
            return STACK_START_ANY.search(line) is not None
    return False


def is_corrupted_line(line: str) -> bool:
    return "should_fail" in line and CORRUPTED_ANY.search(line) is not None

_skip_cache: dict[tuple[str, ...], re.Pattern[str]] = {}


def skip_re(extra: tuple[str, ...] = ()) -> re.Pattern[str]:
    pattern = _skip_cache.get(extra)
    if pattern is None:
        pattern = _skip_cache[extra] = go_re("|".join(SKIP + extra))
    return pattern


@functools.lru_cache(maxsize=100_000)
def strip_frame(frame: str) -> str:
    """The shortest of the frame with each syscall prefix removed (one prefix, not a chain)."""
    best = frame
    for prefix in STRIP_PREFIXES:
        if frame.startswith(prefix) and len(frame) - len(prefix) < len(best):
            best = frame[len(prefix) :]
    return best


# (skip pattern, frame) -> generic? Frames repeat across reports, and the
# generic list is one long alternation: worth remembering.
_generic: dict[int, dict[str, bool]] = {}  # by id() of a pattern kept in _skip_cache


def is_generic(skip: re.Pattern[str], name: str) -> bool:
    seen = _generic.setdefault(id(skip), {})
    found = seen.get(name)
    if found is None:
        if len(seen) > 100_000:
            seen.clear()
        found = seen[name] = skip.search(name) is not None
    return found


def _append(frames: list[str], groups: tuple, skip: re.Pattern[str]) -> None:
    for name in groups:
        if name is None:
            continue
        name = demangle(name)
        if not is_generic(skip, name):
            frames.append(name)


def _frame_groups(line: str) -> tuple:
    for frame_re in FRAME_RES_C:
        m = frame_re.search(line)
        if m:
            return m.groups()
    return ()


def _extract_impl(lines: list[str], skip: re.Pattern[str], parts: tuple[Part, ...], stack: Stack) -> tuple[list[Frame], bool]:
    raw: list[str] = []
    results: list[Frame] = []
    ok = True
    traces = 0
    pos = 0
    idx = 0
    while True:
        if idx == len(parts) or (parts[idx] is PARSE_STACK and traces > 0):
            key = _pick(raw, stack)
            if key is None:
                key, ok = Frame(CORRUPTED, CORRUPTED), False
            results.append(key)
            raw = []
        if idx == len(parts):
            break
        part = parts[idx]
        if part is PARSE_STACK:
            traces += 1
            nxt = go_re(parts[idx + 1]) if idx + 1 < len(parts) and parts[idx + 1] is not PARSE_STACK else None
            # The last trace with no extractor: once it has a frame, later
            # frames cannot change the result, only a fault-injection line
            # or the trace's end still matter.
            settled = nxt is None and idx + 1 == len(parts) and stack.extractor is None
            while pos < len(lines):
                line = lines[pos]
                pos += 1
                if is_corrupted_line(line):
                    ok = False
                    break
                if is_stack_start(line):
                    break
                if settled and raw:
                    continue
                if nxt is not None:
                    m = nxt.search(line)
                    if m:
                        _append(raw, m.groups(), skip)
                        idx += 1
                        break
                _append(raw, _frame_groups(line), skip)
        else:
            part_re = go_re(part)
            while pos < len(lines):
                line = lines[pos]
                pos += 1
                if is_corrupted_line(line):
                    ok = False
                    break
                m = part_re.search(line)
                if m:
                    _append(raw, m.groups(), skip)
                    break
        idx += 1
    return results, ok


def _pick(raw: list[str], stack: Stack) -> Frame | None:
    if not raw:
        return None
    stripped = [strip_frame(f) for f in raw]
    if stack.extractor is None:
        return Frame(stripped[0], raw[0])
    frame, i = stack.extractor(stripped)
    return Frame(frame, raw[i]) if frame else None


def extract_frames(stack: Stack, text: str) -> tuple[list[Frame], bool]:
    """(one Frame per stack part group, ok); ok is False when a frame could not be found."""
    skip = skip_re(tuple(stack.skip))
    lines = text.split("\n")
    frames, ok = _extract_impl(lines, skip, stack.parts, stack)
    if ok or not stack.parts2:
        return frames, ok
    return _extract_impl(lines, skip, stack.parts2, stack)


def partially_stripped(prefix: list[str], frames: list[Frame]) -> list[list[str]]:
    """Title arguments with the raw frames, then with each syscall prefix removed alone."""
    out = []
    for i in range(len(STRIP_PREFIXES) + 1):
        strip = STRIP_PREFIXES[i - 1] if i else ""
        add = i == 0
        args = []
        for f in frames:
            trimmed = f.raw[len(strip) :] if strip and f.raw.startswith(strip) else f.raw
            add = add or trimmed != f.raw
            args.append(trimmed)
        if add:
            out.append(prefix + args)
    return out
