"""Rule table: panics and BUG() assertions, Rust panics, trusty.

Follows google/syzkaller pkg/report/linux.go (linuxOopses) at commit
1e72964b0111319984575e60f266d1fa0a98abb5, entry by entry and in order;
tests/unit/test_analysis_reference.py compares them.
"""

from __future__ import annotations

import re

from harness.analysis.oops import Format, Oops
from harness.analysis.table.stacks import rip_only, rip_trace, stall_extractor, trace

KERNEL_PANIC = Oops(
    "Kernel panic",
    (
        Format(
            title="Kernel panic - not syncing: stack-protector:",
            report="Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: {{FUNC}}",
            fmt="kernel panic: stack is corrupted in %[1]v",
            no_stack_trace=True,
        ),
        Format(
            title="Kernel panic - not syncing: stack-protector:",
            report="Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: [a-f0-9]+",
            fmt="kernel panic: stack is corrupted in %[1]v",
            stack=trace("stack_chk"),
        ),
        Format(
            title="Kernel panic - not syncing: corrupted stack end",
            report="Kernel panic - not syncing: corrupted stack end detected inside scheduler",
            fmt="kernel panic: corrupted stack end in %[1]v",
            alt=("stack-overflow in %[1]v",),
            stack=trace("schedule", "retint_kernel", extractor=stall_extractor),
        ),
        Format(
            title="Kernel panic - not syncing: kernel stack overflow",
            fmt="kernel stack overflow in %[1]v",
            alt=("stack-overflow in %[1]v",),
            stack=trace("bad_stack", extractor=stall_extractor),
        ),
        Format(
            title="Kernel panic - not syncing: Attempted to kill init!",
            fmt="kernel panic: Attempted to kill init!",
        ),
        Format(
            title="Kernel panic - not syncing: Couldn't open N_TTY ldisc for [^ ]+ --- error -[0-9]+",
            fmt="kernel panic: Couldn't open N_TTY ldisc",
        ),
        Format(
            title="Kernel panic - not syncing: Fatal exception",
            fmt="kernel panic: Fatal exception",
            corrupted=True,
        ),
        Format(
            title="Kernel panic - not syncing: panic_on_warn set",
            fmt="kernel panic: panic_on_warn set",
            corrupted=True,
        ),
        Format(
            title="Kernel panic - not syncing: hung_task: blocked tasks",
            fmt="kernel panic: hung_task: blocked tasks",
            corrupted=True,
        ),
        Format(
            title="Kernel panic - not syncing: (.*)",
            fmt="kernel panic: %[1]v",
        ),
    ),
)

DOUBLE_FAULT = Oops(
    "PANIC: double fault",
    (
        Format(
            title="PANIC: double fault",
            fmt="PANIC: double fault in %[1]v",
            stack=rip_only(),
        ),
    ),
)

RUST_PANIC = Oops(
    "rust_kernel: panicked",
    (
        Format(
            title="rust_kernel: panicked",
            report="rust_kernel: panicked at [^\n]*?\n(.+?)\n",
            fmt="%[1]v in %[2]v",
            stack=trace(re.escape("__rustc::rust_begin_unwind")),
        ),
    ),
)

KERNEL_BUG = Oops(
    "kernel BUG",
    (
        Format(
            title="kernel BUG at mm/usercopy.c",
            fmt="BUG: bad usercopy in %[1]v",
            stack=trace("usercopy", "__check"),
        ),
        Format(
            title="kernel BUG at lib/list_debug.c",
            fmt="BUG: corrupted list in %[1]v",
            alt=("bad-access in %[1]v",),
            stack=trace(),
        ),
        Format(
            title="kernel BUG at (.*)",
            fmt="kernel BUG in %[2]v",
            stack=rip_trace("^skb_"),
        ),
    ),
)

KERNEL_BUG_CAPITAL = Oops(
    "Kernel BUG",
    (
        Format(
            title="Kernel BUG (.*)",
            fmt="kernel BUG %[1]v",
        ),
    ),
)

BUG_KMALLOC = Oops(
    "BUG kmalloc-",
    (
        Format(
            title="BUG kmalloc-.*: Object already free",
            fmt="BUG: Object already free",
        ),
    ),
)

TRUSTY = Oops(
    "trusty: panic",
    (
        Format(
            title="trusty: panic.* ASSERT FAILED",
            report=r"trusty: panic \(.*?\):(?: DEBUG)? ASSERT FAILED at \(.*?\): (.+)",
            fmt="trusty: ASSERT FAILED: %[1]v",
            no_stack_trace=True,
        ),
        Format(
            title="trusty: panic.* ASSERT FAILED.*: *(.*)",
            fmt="trusty: ASSERT FAILED: %[1]v",
            corrupted=True,
        ),
        Format(
            title="trusty: panic",
            report=r"trusty: panic \(.*?\): (.+)",
            fmt="trusty: panic: %[1]v",
            no_stack_trace=True,
        ),
    ),
)
