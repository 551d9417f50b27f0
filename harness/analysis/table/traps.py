"""Rule table: CPU exceptions without a fault address, and UBSAN.

Follows google/syzkaller pkg/report/linux.go (linuxOopses) at commit
1e72964b0111319984575e60f266d1fa0a98abb5, entry by entry and in order;
tests/unit/test_analysis_reference.py compares them.
"""

from __future__ import annotations

from harness.analysis.oops import Format, Oops
from harness.analysis.table.stacks import rip_only, rip_trace, trace

DIVIDE_ERROR = Oops(
    "divide error:",
    (
        Format(
            title="divide error: ",
            fmt="divide error in %[1]v",
            stack=rip_only(),
        ),
    ),
)

DIVIDE_ERROR_MISSPELLED = Oops(
    "divide_error:",
    (
        Format(
            title="divide_error: ",
            fmt="divide error in %[1]v",
            stack=rip_only(),
        ),
    ),
)

INVALID_OPCODE = Oops(
    "invalid opcode:",
    (
        Format(
            title="invalid opcode: ",
            fmt="invalid opcode in %[1]v",
            stack=rip_only(),
        ),
    ),
)

INT3 = Oops(
    "int3:",
    (
        Format(
            title="int3: ",
            fmt="int3 in %[1]v",
            stack=rip_trace(),
        ),
    ),
)

UBSAN = Oops(
    "UBSAN:",
    (
        Format(
            title="UBSAN:",
            report="UBSAN: Undefined behaviour in",
            fmt="UBSAN: undefined-behaviour in %[1]v",
            stack=trace("ubsan", "overflow"),
        ),
        Format(
            title="UBSAN: array-index-out-of-bounds in",
            fmt="UBSAN: array-index-out-of-bounds in %[1]v",
            alt=("bad-access in %[1]v",),
            stack=trace("ubsan", "overflow"),
        ),
        Format(
            title="UBSAN:",
            report="UBSAN: (.*?) in",
            fmt="UBSAN: %[1]v in %[2]v",
            stack=trace("ubsan", "overflow"),
        ),
    ),
)
