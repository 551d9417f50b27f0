"""The rest of the header table: faults, panics, kernel BUG, UBSAN, arm, harness markers."""

from __future__ import annotations

from harness.analysis.frames import CALL_TRACE, RIP_FRAME, stall_extractor
from harness.analysis.oops import PARSE_STACK, Format, Oops, Stack, rx
from harness.analysis.table import BUG, INFO, WARNING

_RIP_TRACE = Stack(parts=(RIP_FRAME, CALL_TRACE, PARSE_STACK))
_TRACE = Stack(parts=(CALL_TRACE, PARSE_STACK))
_RIP_ONLY = Stack(parts=(RIP_FRAME,))
_UBSAN = Stack(parts=(CALL_TRACE, PARSE_STACK), skip=("ubsan", "overflow"))

OTHERS = (
    Oops(
        "Unable to handle kernel",
        (
            Format(
                rx(r"Unable to handle kernel (paging request|NULL pointer dereference|access to user memory)"),
                "BUG: unable to handle kernel {1} in {2}",
                alt=("bad-access in {2}",),
                stack=_RIP_TRACE,
            ),
        ),
    ),
    Oops(
        "general protection fault",
        (
            Format(rx(r"general protection fault.*:"), "general protection fault in {1}",
                   alt=("bad-access in {1}",), stack=_RIP_TRACE),
        ),
        # A user-space segfault message, not a kernel fault.
        suppressions=(rx(r"general protection fault .* error:\d+ in "),),
    ),
    Oops(
        "stack segment: ",
        (Format(rx(r"stack segment: 0000"), "stack segment fault in {1}", alt=("bad-access in {1}",),
                stack=_RIP_TRACE),),
    ),
    Oops(
        "Kernel panic",
        (
            # With stack corruption the kernel may fail to print the symbol or unwind.
            Format(
                rx(r"Kernel panic - not syncing: stack-protector:"),
                "kernel panic: stack is corrupted in {1}",
                report=rx(r"Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: {{FUNC}}"),
                no_stack_trace=True,
            ),
            Format(
                rx(r"Kernel panic - not syncing: stack-protector:"),
                "kernel panic: stack is corrupted in {1}",
                stack=Stack(parts=(CALL_TRACE, PARSE_STACK), skip=("stack_chk",)),
            ),
            Format(
                rx(r"Kernel panic - not syncing: corrupted stack end"),
                "kernel panic: corrupted stack end in {1}",
                alt=("stack-overflow in {1}",),
                stack=Stack(parts=(CALL_TRACE, PARSE_STACK), skip=("schedule", "retint_kernel"),
                            extractor=stall_extractor),
            ),
            Format(
                rx(r"Kernel panic - not syncing: kernel stack overflow"),
                "kernel stack overflow in {1}",
                alt=("stack-overflow in {1}",),
                stack=Stack(parts=(CALL_TRACE, PARSE_STACK), skip=("bad_stack",)),
            ),
            Format(rx(r"Kernel panic - not syncing: Attempted to kill init!"), "kernel panic: Attempted to kill init!"),
            Format(rx(r"Kernel panic - not syncing: Couldn't open N_TTY ldisc for [^ ]+ --- error -[0-9]+"),
                   "kernel panic: Couldn't open N_TTY ldisc"),
            # These follow a report whose header was lost: the log is truncated.
            Format(rx(r"Kernel panic - not syncing: Fatal exception"), "kernel panic: Fatal exception",
                   corrupted=True),
            Format(rx(r"Kernel panic - not syncing: panic_on_warn set"), "kernel panic: panic_on_warn set",
                   corrupted=True),
            Format(rx(r"Kernel panic - not syncing: hung_task: blocked tasks"),
                   "kernel panic: hung_task: blocked tasks", corrupted=True),
            Format(rx(r"Kernel panic - not syncing: (.*)"), "kernel panic: {1}", no_stack_trace=True),
        ),
    ),
    Oops(
        "PANIC: double fault",
        (Format(rx(r"PANIC: double fault"), "PANIC: double fault in {1}", stack=_RIP_ONLY),),
    ),
    Oops(
        "kernel BUG",
        (
            Format(rx(r"kernel BUG at mm/usercopy\.c"), "BUG: bad usercopy in {1}",
                   stack=Stack(parts=(CALL_TRACE, PARSE_STACK), skip=("check_memory_region", "usercopy", "__check"))),
            Format(rx(r"kernel BUG at lib/list_debug\.c"), "BUG: corrupted list in {1}",
                   alt=("bad-access in {1}",), stack=_TRACE),
            Format(
                rx(r"kernel BUG at (.*)"),
                "kernel BUG in {2}",
                # Lots of skb helpers BUG_ON their arguments; the bug is in the caller.
                stack=Stack(parts=(RIP_FRAME, CALL_TRACE, PARSE_STACK), skip=("^skb_", "^rust_helper_BUG")),
            ),
            Format(rx(r"kernel BUG (.*)"), "kernel BUG {1}", corrupted=True),
        ),
    ),
    Oops("Kernel BUG", (Format(rx(r"Kernel BUG (.*)"), "kernel BUG {1}"),)),
    Oops("BUG kmalloc-", (Format(rx(r"BUG kmalloc-.*: Object already free"), "BUG: Object already free"),)),
    Oops("divide error:", (Format(rx(r"divide error: "), "divide error in {1}", stack=_RIP_ONLY),)),
    # Spelled so since 5.9 (x86 exception names became identifiers).
    Oops("divide_error:", (Format(rx(r"divide_error: "), "divide error in {1}", stack=_RIP_ONLY),)),
    Oops("invalid opcode:", (Format(rx(r"invalid opcode: "), "invalid opcode in {1}", stack=_RIP_ONLY),)),
    Oops(
        "UBSAN:",
        (
            Format(rx(r"UBSAN: Undefined behaviour in"), "UBSAN: undefined-behaviour in {1}", stack=_UBSAN),
            Format(rx(r"UBSAN: ([a-z\-]+) in"), "UBSAN: {1} in {2}",
                   stack=Stack(parts=(CALL_TRACE, PARSE_STACK), skip=("ubsan", "overflow"))),
            Format(rx(r"UBSAN: (.*)"), "UBSAN: {1}", corrupted=True),
        ),
    ),
    Oops(
        "Booting the kernel",
        (Format(rx(r"Booting the kernel\."), "unexpected kernel reboot", no_stack_trace=True),),
        line_start=True,
        suppressions=(rx(r"Booting the kernel \("),),
    ),
    Oops(
        "unregister_netdevice: waiting for",
        (Format(rx(r"unregister_netdevice: waiting for (?:.*) to become free"),
                "unregister_netdevice: waiting for DEV to become free", no_stack_trace=True),),
    ),
    Oops(
        "VFS: Close: file count is 0",
        (Format(rx(r"VFS: Close: file count is 0"), "VFS: Close: file count is zero (use-after-free)",
                no_stack_trace=True),),
    ),
    Oops(
        "VFS: Busy inodes after unmount",
        (Format(rx(r"VFS: Busy inodes after unmount"), "VFS: Busy inodes after unmount (use-after-free)",
                no_stack_trace=True),),
    ),
    Oops(
        "Internal error:",
        (
            # arm64 calls some faults "Internal error" that arm calls paging requests.
            Format(
                rx(r"Internal error:"),
                "Internal error in {1}",
                alt=("bad-access in {1}",),
                # LR is often stale or repeats the trace, so only PC counts.
                stack=_RIP_TRACE,
            ),
        ),
    ),
    Oops(
        "Unhandled fault:",
        (Format(rx(r"Unhandled fault:"), "Unhandled fault in {1}", alt=("bad-access in {1}",), stack=_TRACE),),
    ),
    Oops("Alignment trap:", (Format(rx(r"Alignment trap:"), "Alignment trap in {1}", stack=_TRACE),)),
    Oops(
        "trusty: panic",
        (
            Format(
                rx(r"trusty: panic"),
                "trusty: ASSERT FAILED: {1}",
                report=rx(r"trusty: panic \(.*?\):(?: DEBUG)? ASSERT FAILED at \(.*?\):? *([^\n]*)"),
                no_stack_trace=True,
            ),
            Format(rx(r"trusty: panic"), "trusty: panic", no_stack_trace=True, corrupted=True),
        ),
    ),
    Oops(
        "panicked at",
        (
            # Rust: "rust_kernel: panicked at file.rs:1:2:" then the message on the next line.
            Format(
                rx(r"panicked at [^\n]*:\n([^\n]*)"),
                "{1} in {2}",
                stack=Stack(
                    parts=(CALL_TRACE, PARSE_STACK),
                    skip=("rust_begin_unwind", "panic_fmt", "panic_const", "panicking", "rust_helper_BUG",
                          "^rust_panic"),
                ),
            ),
        ),
    ),
    Oops("SYZFATAL:", (Format(rx(r"SYZFATAL:(.*)()"), "SYZFATAL:{1}", alt=("SYZFATAL{2}",),
                              no_stack_trace=True),)),
    Oops("SYZFAIL:", (Format(rx(r"SYZFAIL:(.*)()"), "SYZFAIL:{1}", alt=("SYZFAIL{2}",), no_stack_trace=True),)),
)

OOPSES: tuple[Oops, ...] = (BUG, WARNING, INFO) + OTHERS

# Headers that continue the report before them rather than start a new one.
REPORT_START_IGNORES = (
    rx(r"invalid opcode: 0000"),
    # A panic is what a report ends in; its stack belongs to that report.
    rx(r"Kernel panic - not syncing"),
    rx(r"unregister_netdevice: waiting for"),
    # arm prints its oops banner after the fault's own first line.
    rx(r"Internal error: "),
    # A Rust panic ends in BUG(); that BUG is the panic's own tail.
    rx(r"kernel BUG at rust/helpers/bug\.c"),
)
