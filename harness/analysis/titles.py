"""Title clean-up, and the report type a title implies (table/types.py).

``sanitize`` follows syzkaller's dynamicTitleReplacement and sanitizeTitle
(pkg/report/report.go at commit 1e72964b0111319984575e60f266d1fa0a98abb5):
each replacement is applied until the title stops changing, then the title
is cut to 120 bytes, control and non-ASCII bytes are dropped, tabs become
spaces and runs of spaces collapse.
"""

from __future__ import annotations

import functools
import re

# (pattern, replacement) in syzkaller's order; "${1}" is written "\1".
DYNAMIC = (
    (r"syz-executor\.?[0-9]+((/|:)[0-9]+)?", "syz-executor"),
    (r"syzkaller[0-9]+((/|:)[0-9]+)?", "syzkaller"),
    (r"([^a-zA-Z0-9])(?:0x)?[0-9a-f]{6,}", r"\1ADDR"),
    (r"([0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3})", "IP"),
    (r"(\.\w+)(:[0-9]+)+", r"\1:LINE"),
    (r"([a-zA-Z][a-zA-Z0-9_.]+)\+0x[0-9a-z]+/0x[0-9a-z]+", r"\1"),
    (r"CPU#[0-9]+", "CPU"),
    (r"(\W)(\d+)(\W|$)", r"\1NUM\3"),
    (r"(\d+){7,}", "NUM"),
)
_DYNAMIC = tuple((re.compile(p.replace("$", "\\Z"), re.ASCII), r) for p, r in DYNAMIC)
MAX_TITLE = 120


def replace_dynamic(title: str) -> str:
    for pattern, repl in _DYNAMIC:
        while True:
            new = pattern.sub(repl, title)
            if new == title:
                break
            title = new
    return title


@functools.lru_cache(maxsize=50_000)
def sanitize(title: str) -> str:
    """A title as syzkaller stores it (text decoded with surrogateescape keeps odd bytes as bytes)."""
    raw = replace_dynamic(title).encode("utf-8", "surrogateescape")[:MAX_TITLE]
    out = bytearray()
    prev = 0x20
    for ch in raw:
        if ch == 0x09:
            ch = 0x20
        elif ch < 0x20 or ch >= 0x7F:
            continue
        if ch == 0x20 and prev == 0x20:
            continue
        out.append(ch)
        prev = ch
    return out.decode("ascii").strip()


def report_type(title: str) -> str:
    """syzkaller's type for a title (see table/types.py)."""
    from harness.analysis.table.types import title_type

    return title_type(title)
