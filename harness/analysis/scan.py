"""Streaming over a console log: find header lines fast, then parse each report.

One sequential pass, so a pipe or a decompressing stream works as well as a
file. Most of a log is ordinary output: blocks are searched for a few header
substrings with ``bytes.find`` (C speed, no per-line Python work) and only
the lines holding one are decoded. Each real header then gets a bounded
window of the lines after it, read ahead on demand. Lines are decoded once
and kept while a window may still need them, so a report-dense log does not
decode its lines once per report. Memory is bounded by the block size and
the window caps, whatever the size of the log.

Which headers start a report follows syzkaller's ParseAll: every header
line, except one truncated by a printk replay, and except the headers that
only continue a report (REPORT_START_IGNORES: panics, double faults) while
the report before them is still being read.
"""

from __future__ import annotations

import bisect
import io
from typing import BinaryIO, Iterator

from harness.analysis.limits import WINDOW_BYTES, WINDOW_LINES
from harness.analysis.lines import Line, decode, make_line
from harness.analysis.parser import REPLAY, SPECIAL, header_oops, parse, start_ignored
from harness.analysis.table.params import INFO_MESSAGES_WITH_STACK
from harness.analysis.report import Report
from harness.analysis.table import OOPSES

BLOCK = 8 << 20
# A line longer than this is cut: no kernel line is, binary garbage may be.
MAX_LINE = 1 << 20
_BATCH = 8 << 10  # bytes of lines decoded at a time


def _tokens() -> tuple[bytes, ...]:
    """Substrings that every header contains; fewer, shorter tokens scan faster."""
    shared = ("BUG", "panic", "VFS: ", "SYZFA")
    out: list[str] = []
    for oops in OOPSES:
        token = next((t for t in shared if t in oops.header), oops.header)
        if token not in out:
            out.append(token)
    return tuple(t.encode() for t in out)


TOKENS = _tokens()
# Lines that may end a report: headers, and messages that dump a stack.
INFO_TOKENS = tuple(m.encode() for m in INFO_MESSAGES_WITH_STACK)
HOT_TOKENS = TOKENS + INFO_TOKENS
SPECIAL_TOKENS = tuple(m.encode() for m in SPECIAL)


def _candidate_starts(region: bytes, tokens: tuple[bytes, ...] = TOKENS) -> list[int]:
    starts: set[int] = set()
    for token in tokens:
        pos = region.find(token)
        while pos >= 0:
            starts.add(region.rfind(b"\n", 0, pos) + 1)
            end = region.find(b"\n", pos)
            if end < 0:
                break
            pos = region.find(token, end)
    return sorted(starts)


def _line_indexes(chunk: bytes, starts: list[int]) -> set[int]:
    """Line numbers (from 0) of the given line-start offsets in chunk."""
    out = set()
    counted = line = 0
    for st in sorted(starts):
        line += chunk.count(b"\n", counted, st)
        counted = st
        out.add(line)
    return out


class _Log:
    """The unread part of the stream, and the decoded lines a window may still need."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.data = b""
        self.base = 0  # stream offset of data[0], always a line start
        self.eof = False
        self.cache: list[Line] = []  # consecutive lines
        self.cache_no = 0  # line number of cache[0]
        self.cache_end = 0  # stream offset after the last cached line
        # Stream offsets of lines holding a header token, known up to hot_until
        # (the scan's search of a region gives them for free).
        self.hot: list[int] = []  # sorted
        self.hot_until = 0

    def read(self) -> bool:
        if self.eof:
            return False
        block = self.stream.read(BLOCK)
        if not block:
            self.eof = True
            return False
        self.data += block
        return True

    def trim(self, offset: int, line_no: int) -> None:
        """Forget the stream before ``offset`` (a line start, numbered ``line_no``)."""
        self.data = self.data[offset - self.base :]
        self.base = offset
        if self.cache_end < offset:
            self.cache = []
        elif line_no > self.cache_no:
            del self.cache[: line_no - self.cache_no]
            self.cache_no = line_no

    def window(self, no: int, offset: int) -> "Window":
        """The window whose header is line ``no`` at stream ``offset``."""
        if not (self.cache and self.cache_no <= no < self.cache_no + len(self.cache)):
            self.cache, self.cache_no, self.cache_end = [], no, offset
        elif no - self.cache_no > WINDOW_LINES:
            del self.cache[: no - self.cache_no]
            self.cache_no = no
        return Window(self, no - self.cache_no, offset)

    def _extend(self, window_start: int) -> bool:
        """Decode the next lines (a batch: one split beats a find per line)."""
        start = self.cache_end
        if start - window_start > WINDOW_BYTES:
            return False
        rel = start - self.base
        end = self.data.rfind(b"\n", rel, rel + _BATCH) + 1
        # No line ends within the batch: read on to a line end (or MAX_LINE).
        while end == 0:
            end = self.data.find(b"\n", rel, rel + MAX_LINE) + 1
            if end or len(self.data) - rel >= MAX_LINE or not self.read():
                break
        if end == 0:
            if len(self.data) == rel:
                return False  # the log ends here
            end = min(len(self.data), rel + MAX_LINE)
            chunk = self.data[rel:end]
            raws = [decode(chunk)]
        else:
            chunk = self.data[rel:end]
            # One decode for the batch: a line break is never inside a UTF-8
            # sequence, and undecodable bytes stay bytes one by one.
            raws = decode(chunk[:-1]).split("\n")
        start_abs = self.base + rel
        if start_abs + len(chunk) <= self.hot_until:
            lo = bisect.bisect_left(self.hot, start_abs)
            hi = bisect.bisect_left(self.hot, start_abs + len(chunk))
            starts = [o - start_abs for o in self.hot[lo:hi]]
            starts += _candidate_starts(chunk, INFO_TOKENS)
        else:
            starts = _candidate_starts(chunk, HOT_TOKENS)
        hot = _line_indexes(chunk, starts)
        special = _line_indexes(chunk, _candidate_starts(chunk, SPECIAL_TOKENS))
        no = self.cache_no + len(self.cache)
        self.cache.extend(make_line(no + k, raw, k in hot, k in special) for k, raw in enumerate(raws))
        self.cache_end = self.base + end
        return True


class Window:
    """The lines from a header on: ``lines[first + i]`` is the i-th; ``more()`` decodes further."""

    def __init__(self, log: _Log, first: int, offset: int) -> None:
        self.log = log
        self.lines = log.cache  # grows in place as more() decodes
        self.first = first
        self.offset = offset

    def more(self, i: int) -> bool:
        """Make line i available; False past the window's end or the log's."""
        if i >= WINDOW_LINES:
            return False
        while self.first + i >= len(self.lines):
            if not self.log._extend(self.offset):
                return False
        return True

    def __call__(self, i: int) -> Line | None:
        return self.lines[self.first + i] if self.more(i) else None


def scan(stream: BinaryIO) -> Iterator[Report]:
    """Every report in the log, in order of appearance."""
    log = _Log(stream)
    cursor, cursor_no = 0, 1  # the first line not searched yet
    read_until = 0  # the first line number after the last report's window
    first = True
    while True:
        while len(log.data) - (cursor - log.base) < BLOCK and log.read():
            pass
        rel = cursor - log.base
        end = log.data.rfind(b"\n", rel) + 1
        if end <= rel:
            if not log.eof:
                end = len(log.data)  # a giant line: search it in pieces
            elif rel >= len(log.data):
                return
            else:
                end = len(log.data)
        region = log.data[rel:end]
        counted, no = 0, cursor_no
        candidates = _candidate_starts(region)
        log.hot = [cursor + start for start in candidates]
        log.hot_until = cursor + len(region)
        for start in candidates:
            no += region.count(b"\n", counted, start)
            counted = start
            stop = region.find(b"\n", start)
            raw = decode(region[start : stop if stop >= 0 else len(region)][:MAX_LINE])
            oops = header_oops(raw)
            if oops is None:
                continue
            if not first and no < read_until and start_ignored(raw):
                continue
            window = log.window(no, cursor + start)
            nxt = window(1)
            if nxt is not None and REPLAY in nxt.raw:
                continue  # a message cut short; printk prints it again in full next
            found = parse(window, oops)
            found.report.start_offset = cursor + start
            read_until = no + found.read
            first = False
            yield found.report
        cursor_no += region.count(b"\n")
        cursor += len(region)
        log.trim(cursor, cursor_no)


def scan_bytes(data: bytes) -> Iterator[Report]:
    return scan(io.BytesIO(data))
