"""Rule table: user-space failures: the Go runtime, syzkaller's executor, Go panics.

Follows google/syzkaller pkg/report/report.go (groupGoRuntimeErrors, commonOopses) at commit
1e72964b0111319984575e60f266d1fa0a98abb5, entry by entry and in order;
tests/unit/test_analysis_reference.py compares them.
"""

from __future__ import annotations

from harness.analysis.oops import Format, Oops

GO_RUNTIME = Oops(
    "fatal error:",
    (
        Format(
            title="fatal error:",
            fmt="go runtime error",
            no_stack_trace=True,
        ),
    ),
    suppressions=("ALSA", "fatal error: cannot create timer"),
)

SYZFAIL = Oops(
    "SYZFAIL:",
    (
        Format(
            title="SYZFAIL:(.*)",
            fmt="SYZFAIL:%[1]v",
            no_stack_trace=True,
        ),
    ),
)

SYZFATAL = Oops(
    "SYZFATAL:",
    (
        Format(
            title="SYZFATAL:(.*)()",
            fmt="SYZFATAL:%[1]v",
            alt=("SYZFATAL%[2]s",),
            no_stack_trace=True,
        ),
    ),
)

PANIC = Oops(
    "panic:",
    (
        Format(
            title="panic: Sentry detected .* stuck task",
            fmt="panic: Sentry detected stuck tasks",
            no_stack_trace=True,
        ),
        Format(
            title="panic:(.*)",
            fmt="panic:%[1]v",
            no_stack_trace=True,
        ),
    ),
    suppressions=("_panic:", "xlog_status:", r"ddb\.onpanic:", "evtlog_status:"),
)
