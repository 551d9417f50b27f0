"""Console lines: decoding, and the prefixes the kernel puts before the text.

A console line may carry a syslog level (``<6>``), a timestamp
(``[   12.345678]``) and a caller tag (``[  T123]`` for a task, ``[    C1]``
for a CPU in interrupt context), in that order, each optional. The caller tag
is what lets us untangle reports printed at the same time by several CPUs:
a report is read only from the lines of the context that printed its header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# One space after the prefix belongs to the prefix; call-trace lines keep the
# rest of their indentation, which frame regexes tolerate.
_PREFIX = re.compile(
    r"^(?:\*\* \d+ printk messages dropped \*\*\s*)?"
    r"(?:<\d+>)?"
    # A login prompt may swallow the line break before a kernel line.
    r"(?:(?:.*? login: )?(\[ *\d+\.\d+\]))?"
    r"(?:\[ *([CT]\d+)\])?"
    r" ?"
)
# Frames the unwinder is not sure about: " ? foo+0x1/0x2", " [<ffff>] ? foo+0x1/0x2".
_QUESTIONABLE = re.compile(r"^\s*(?:\[<?[0-9a-f]+>?\]\s*)?\? ")


@dataclass(slots=True)
class Line:
    """One console line: its number in the log (1-based), raw and stripped text."""

    no: int
    raw: str
    text: str
    # Who printed the line: the caller tag ("T123", "C1"); else STAMPED for
    # a kernel line with only a timestamp; else "" (no prefix at all, which
    # in a timestamped log means user-space output, not the kernel's).
    context: str
    questionable: bool


def decode(data: bytes) -> str:
    """Bytes of any encoding to text that never fails: bad bytes become U+FFFD."""
    return data.decode("utf-8", "replace")


STAMPED = "ts"
_PREFIX_STARTS = ("[", "<", "*")


def split_prefix(raw: str) -> tuple[str, str]:
    """(text without level/timestamp/caller prefix, context)."""
    if raw[:1] not in _PREFIX_STARTS and " login: " not in raw:
        return raw, ""  # the common case, without a regex
    m = _PREFIX.match(raw)
    if m is None or m.end() == 0:
        return raw, ""
    return raw[m.end() :], (m.group(2) or (STAMPED if m.group(1) else ""))


# A kernel prefix glued after other output: "executing program 1:[  55.1][ T12] BUG: ...".
_GLUED = re.compile(r"\[ *\d+\.\d+\](?:\[ *([CT]\d+)\])?")


def make_line(no: int, raw: str) -> Line:
    raw = raw.rstrip("\r")
    text, ctx = split_prefix(raw)
    if not ctx and "[" in raw:
        m = _GLUED.search(raw)
        if m:
            ctx = m.group(1) or STAMPED
    # powerpc marks the frames it could not verify "(unreliable)".
    questionable = ("? " in text[:64] and bool(_QUESTIONABLE.match(text))) or text.endswith("(unreliable)")
    return Line(no, raw, text, ctx, questionable)


def make_lines(data: bytes, first_no: int = 1, limit: int = -1) -> list[Line]:
    """Split a block of console bytes (LF or CRLF ends) into at most ``limit`` Lines."""
    if data.endswith(b"\n"):
        data = data[:-1]
    if not data:
        return []
    raws = data.split(b"\n", limit)[:limit] if limit >= 0 else data.split(b"\n")
    return [make_line(first_no + i, decode(raw)) for i, raw in enumerate(raws)]
