"""The Report: one kernel report found in a console log."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field


@dataclass
class SymFrame:
    """One frame after symbolization; inlined frames come before their caller."""

    function: str
    file: str = ""
    line: int = 0
    inline: bool = False
    offset: str = ""  # "+0x1a/0x40" as printed, "" for inlined frames

    def __str__(self) -> str:
        where = f" {self.file}:{self.line}" if self.file else ""
        return f"{self.function}{self.offset}{where}{' [inline]' if self.inline else ''}"


@dataclass
class Report:
    title: str
    type: str
    corrupted: bool
    guilty_frame: str | None
    frames: list[str]  # the report's main stack, innermost first (function names)
    start_line: int  # 1-based, inclusive, in the console log
    end_line: int
    text: str  # the report's lines as printed, prefixes stripped
    alt_titles: list[str] = field(default_factory=list)
    corrupted_reason: str = ""
    suppressed: bool = False
    symbolized: list[SymFrame] = field(default_factory=list)
    # Byte offset of the report's first line in the log: where a console
    # ledger (harness.vm.vcpu) says when the report came out.
    start_offset: int = 0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["symbolized"] = [str(f) for f in self.symbolized]
        return d


# syzkaller's rule for the frame a title names: what follows the last " in ".
_TITLE_FRAME = re.compile(r".* in ((?:<[a-zA-Z0-9_: ]+>)?[a-zA-Z0-9_:]+)")


def title_frame(title: str) -> str | None:
    m = _TITLE_FRAME.match(title)
    if m is None or m.group(1) == "corrupted":
        return None
    return m.group(1)
