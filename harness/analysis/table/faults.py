"""Rule table: memory access faults of x86, arm and arm64.

Follows google/syzkaller pkg/report/linux.go (linuxOopses) at commit
1e72964b0111319984575e60f266d1fa0a98abb5, entry by entry and in order;
tests/unit/test_analysis_reference.py compares them.
"""

from __future__ import annotations

from harness.analysis.oops import Format, Oops
from harness.analysis.table.stacks import rip_trace

UNABLE_TO_HANDLE = Oops(
    "Unable to handle kernel",
    (
        Format(
            title="Unable to handle kernel (paging request|NULL pointer dereference|access to user memory)",
            fmt="BUG: unable to handle kernel %[1]v in %[2]v",
            alt=("bad-access in %[2]v",),
            stack=rip_trace(),
        ),
    ),
)

GENERAL_PROTECTION_FAULT = Oops(
    "general protection fault",
    (
        Format(
            title="general protection fault.*:",
            fmt="general protection fault in %[1]v",
            alt=("bad-access in %[1]v",),
            stack=rip_trace(),
        ),
    ),
    suppressions=(r"general protection fault .* error:\d+ in ",),
)

STACK_SEGMENT = Oops(
    "stack segment: ",
    (
        Format(
            title="stack segment: ",
            fmt="stack segment fault in %[1]v",
            stack=rip_trace(),
        ),
    ),
)

INTERNAL_ERROR = Oops(
    "Internal error:",
    (
        Format(
            title="Internal error:",
            fmt="Internal error in %[1]v",
            alt=("bad-access in %[1]v",),
            stack=rip_trace(),
        ),
    ),
)

UNHANDLED_FAULT = Oops(
    "Unhandled fault:",
    (
        Format(
            title="Unhandled fault:",
            fmt="Unhandled fault in %[1]v",
            alt=("bad-access in %[1]v",),
            stack=rip_trace(),
        ),
    ),
)

ALIGNMENT_TRAP = Oops(
    "Alignment trap:",
    (
        Format(
            title="Alignment trap:",
            fmt="Alignment trap in %[1]v",
            stack=rip_trace(),
        ),
    ),
)
