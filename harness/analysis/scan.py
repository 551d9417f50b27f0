"""Streaming over a console log: find header lines fast, then parse each report's window.

Two speeds. Most of a log is ordinary output, so the first pass looks for a
few header substrings with ``bytes.find`` over large blocks (C speed, no
per-line Python work) and decodes only the lines that contain one. Each real
header then gets a bounded window of following lines, read on demand, which
the parser turns into a Report. Memory is bounded by the block size and the
window caps, whatever the size of the log.
"""

from __future__ import annotations

import io
from typing import BinaryIO, Callable, Iterator

from harness.analysis.lines import Line, decode, make_line
from harness.analysis.parser import TOKENS as _TOKENS
from harness.analysis.parser import ends_report, header_oops, parse_window
from harness.analysis.report import Report

BLOCK = 8 << 20
# A line longer than this is cut: no kernel line is, binary garbage may be.
MAX_LINE = 1 << 20
WINDOW_LINES = 1000
WINDOW_BYTES = 256 << 10
_FIRST_READ = 64 << 10
_REPLAY = "** replaying previous printk message **"
_REPLAY_B = _REPLAY.encode()


TOKENS = tuple(t.encode() for t in _TOKENS)

Reader = Callable[[int, int], bytes]


def _candidate_starts(region: bytes) -> list[int]:
    starts: set[int] = set()
    for token in TOKENS:
        pos = region.find(token)
        while pos >= 0:
            starts.add(region.rfind(b"\n", 0, pos) + 1)
            end = region.find(b"\n", pos)
            if end < 0:
                break
            pos = region.find(token, end)
    return sorted(starts)


def iter_headers(stream: BinaryIO) -> Iterator[tuple[int, Line]]:
    """(byte offset, Line) of every line that carries an oops header, in order."""
    base = 0  # offset of buf[0] in the stream
    line_no = 1  # line number of buf[0]
    buf = b""
    eof = False
    while not eof:
        block = stream.read(BLOCK)
        eof = not block
        buf += block
        if eof:
            cut = len(buf)
        else:
            cut = buf.rfind(b"\n") + 1
            if cut == 0:
                if len(buf) < MAX_LINE:
                    continue
                cut = len(buf)  # a giant line: process it in pieces
        region = buf[:cut]
        counted = 0
        no = line_no
        for start in _candidate_starts(region):
            no += region.count(b"\n", counted, start)
            counted = start
            end = region.find(b"\n", start)
            raw = region[start : end if end >= 0 else len(region)][:MAX_LINE]
            line = make_line(no, decode(raw))
            if header_oops(line.text) is not None:
                yield base + start, line
        line_no += region.count(b"\n")
        base += cut
        buf = buf[cut:]


def _window(read: Reader, offset: int, head: Line) -> list[Line]:
    """The header line and its context's lines after it, up to the context's next report.

    The end is looked for with the same token scan as the first pass, and
    lines of other caller contexts are dropped before decoding, so a report
    interleaved with busy CPUs costs its own lines, not theirs.
    """
    size = _FIRST_READ
    while True:
        data = read(offset, size)
        complete = len(data) < size  # the log ends inside this read
        if not complete:
            cut = data.rfind(b"\n") + 1
            data = data[:cut] if cut else data
        end = _find_end(data, head)
        lines = _own_lines(data, head, end)
        if end is not None or complete or size >= WINDOW_BYTES or len(lines) >= WINDOW_LINES:
            return lines[:WINDOW_LINES]
        size *= 4


def _own_lines(data: bytes, head: Line, end: int | None) -> list[Line]:
    if data.endswith(b"\n"):
        data = data[:-1]
    raws = data.split(b"\n") if end is None else data.split(b"\n", end + 1)[: end + 1]
    tag = head.context.encode() + b"]" if head.context[:1] in ("T", "C") else b""
    out = []
    for i, raw in enumerate(raws):
        if i and tag and tag not in raw and not (i == 1 and _REPLAY_B in raw):
            continue  # another task's or CPU's line: cheap to drop before decoding
        out.append(make_line(head.no + i, decode(raw[:MAX_LINE])))
    return out


def _find_end(data: bytes, head: Line) -> int | None:
    """Index of the first line after the header that starts the context's next report."""
    idx = 0
    counted = 0
    for start in _candidate_starts(data):
        if start == 0:
            continue
        idx += data.count(b"\n", counted, start)
        counted = start
        if idx >= WINDOW_LINES:
            return None
        stop = data.find(b"\n", start)
        line = make_line(head.no + idx, decode(data[start : stop if stop >= 0 else len(data)][:MAX_LINE]))
        if line.context == head.context and ends_report(line.text, head.text, idx):
            return idx
    return None


def scan(stream: BinaryIO, read: Reader) -> Iterator[Report]:
    """Every report in the log, in order of appearance."""
    # Per caller context: the first line number after the last report's window.
    busy_until: dict[str, int] = {}
    for offset, line in iter_headers(stream):
        if line.no < busy_until.get(line.context, 0):
            continue  # inside the previous report of this context
        oops = header_oops(line.text)
        assert oops is not None
        window = _window(read, offset, line)
        if not window:
            continue
        window[0] = line  # the first-pass line may have been cut at MAX_LINE
        if len(window) > 1 and _REPLAY in window[1].raw:
            continue  # a message cut short; printk prints it again in full next
        report, busy_until[line.context] = parse_window(window, oops)
        report.start_offset = offset
        yield report


def scan_bytes(data: bytes) -> Iterator[Report]:
    view = memoryview(data)

    def read(offset: int, size: int) -> bytes:
        return bytes(view[offset : offset + size])

    return scan(io.BytesIO(data), read)
