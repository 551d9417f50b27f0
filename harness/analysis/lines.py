"""Console lines: who printed them, and their text without the kernel's prefix.

Follows syzkaller's extractContext and stripLinePrefix (pkg/report/linux.go
at commit 1e72964b0111319984575e60f266d1fa0a98abb5). A kernel line may carry
a timestamp (``[   12.345678]``) and then a caller tag (``[  T123]`` for a
task, ``[    C1]`` for a CPU in interrupt context). The context is the
caller tag as printed; ``CONSOLE`` for a timestamp without one; "" for a line
with no timestamp at all. A report is read from its own context's lines, so
one interleaved with other CPUs' output reads as if printed alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.analysis.gore import go_re
from harness.analysis.table.params import CONSOLE_OUTPUT, CPU_CONTEXT, QUESTIONABLE_FRAME

CONSOLE = "console"
_CONSOLE_RE = go_re(CONSOLE_OUTPUT)
# The same for the common line: its two leading optional groups need "** "
# and " login: ", and without them they can only match empty. Leaving them
# out spares the ".* login: " group a scan of the whole line.
_PLAIN_CONSOLE_RE = go_re(r"^(?:\<[0-9]+\>)?\[ *[0-9]+\.[0-9]+\](\[ *(?:C|T)[0-9]+\])? ")
_CPU_RE = go_re(CPU_CONTEXT)
_QUESTIONABLE_RE = go_re(QUESTIONABLE_FRAME)


@dataclass(slots=True)
class Line:
    """One console line: its number in the log (1-based), raw and stripped text."""

    no: int
    raw: str
    text: str
    context: str
    questionable: bool  # an unwinder's unsure frame ("? foo", "(unreliable)")
    hot: bool = False  # holds a header or an info message: may start a report
    special: bool = False  # holds one of parser.SPECIAL


def decode(data: bytes) -> str:
    """Bytes to text that never fails; undecodable bytes stay bytes (as lone surrogates)."""
    return data.decode("utf-8", "surrogateescape")


def printable(text: str) -> str:
    """Text for people and JSON: undecodable bytes shown as U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def context_of(raw: str) -> str:
    if "[" not in raw:
        return ""  # the common case of a prefix-less line, without a regex
    m = (_CONSOLE_RE if " login: " in raw or raw.startswith("** ") else _PLAIN_CONSOLE_RE).match(raw)
    if m is None:
        return ""
    return m.group(1) or CONSOLE


def is_cpu_context(context: str) -> bool:
    return bool(_CPU_RE.search(context))


def strip_prefix(raw: str, context: str) -> tuple[str, bool]:
    """(text after the timestamp and caller tag, questionable)."""
    if not context:
        return raw, False
    line = raw[raw.find("] ") + 2 :]
    if "<EOI>" not in line:
        if " ? " in line and _QUESTIONABLE_RE.search(line):
            return line[line.find(" ? ") + 2 :], True
        if line.endswith(" (unreliable)"):
            return line[:-13], True
    return line, False


def make_line(no: int, raw: str, hot: bool = False, special: bool = True) -> Line:
    # context_of and strip_prefix inlined: this runs for every line a window reads.
    if raw.endswith("\r"):
        raw = raw[:-1]
    if "[" not in raw:
        return Line(no, raw, raw, "", False, hot, special)
    m = (_CONSOLE_RE if " login: " in raw or raw.startswith("** ") else _PLAIN_CONSOLE_RE).match(raw)
    if m is None:
        return Line(no, raw, raw, "", False, hot, special)
    context = m.group(1) or CONSOLE
    text = raw[raw.find("] ") + 2 :]
    questionable = False
    if " ? " in text or text.endswith(" (unreliable)"):
        text, questionable = strip_prefix(raw, context)
    return Line(no, raw, text, context, questionable, hot, special)
