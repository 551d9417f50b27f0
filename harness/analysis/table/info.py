"""Rule table: the INFO: header: old lockdep wording, RCU stalls, hung tasks.

Follows google/syzkaller pkg/report/linux.go (linuxOopses) at commit
1e72964b0111319984575e60f266d1fa0a98abb5, entry by entry and in order;
tests/unit/test_analysis_reference.py compares them.
"""

from __future__ import annotations

from harness.analysis.oops import PARSE_STACK, Format, Oops, Stack
from harness.analysis.table.params import RIP_FRAME
from harness.analysis.table.stacks import hang_extractor, stall_extractor, trace

INFO = Oops(
    "INFO:",
    (
        Format(
            title="INFO: possible circular locking dependency detected",
            report=r"INFO: possible circular locking dependency detected \](?:.*\n)+?.*is trying to acquire lock(?:.*\n)+?.*at: {{PC}} +{{FUNC}}",
            fmt="possible deadlock in %[1]v",
        ),
        Format(
            title="INFO: possible irq lock inversion dependency detected",
            report=r"INFO: possible irq lock inversion dependency detected \](?:.*\n)+?.*just changed the state of lock(?:.*\n)+?.*at: {{PC}} +{{FUNC}}",
            fmt="possible deadlock in %[1]v",
        ),
        Format(
            title="INFO: SOFTIRQ-safe -> SOFTIRQ-unsafe lock order detected",
            report=r"INFO: SOFTIRQ-safe -> SOFTIRQ-unsafe lock order detected \](?:.*\n)+?.*is trying to acquire(?:.*\n)+?.*at: {{PC}} +{{FUNC}}",
            fmt="possible deadlock in %[1]v",
        ),
        Format(
            title="INFO: possible recursive locking detected",
            report=r"INFO: possible recursive locking detected \](?:.*\n)+?.*is trying to acquire lock(?:.*\n)+?.*at: {{PC}} +{{FUNC}}",
            fmt="possible deadlock in %[1]v",
        ),
        Format(
            title="INFO: inconsistent lock state",
            report=r"INFO: inconsistent lock state \](?:.*\n)+?.*takes(?:.*\n)+?.*at: {{PC}} +{{FUNC}}",
            fmt="inconsistent lock state in %[1]v",
        ),
        Format(
            title="INFO: rcu_(?:preempt|sched|bh|tasks) (?:self-)?detected(?: expedited)? stall",
            fmt="INFO: rcu detected stall in %[1]v",
            alt=("stall in %[1]v",),
            stack=Stack(parts=("apic_timer_interrupt", RIP_FRAME, PARSE_STACK), parts2=("(?:apic_timer_interrupt|Exception stack|el1h_64_irq)", PARSE_STACK), skip=("apic_timer_interrupt", "rcu"), extractor=stall_extractor,),
        ),
        Format(
            title="INFO: trying to register non-static key",
            fmt="INFO: trying to register non-static key in %[1]v",
            stack=trace("stack", "lock", "IRQ"),
        ),
        Format(
            title="INFO: suspicious RCU usage",
            report="INFO: suspicious RCU usage(?:.*\n)+?.*?{{SRC}}",
            fmt="INFO: suspicious RCU usage in %[2]v",
            stack=trace("rcu", "kmem", "slab"),
        ),
        Format(
            title="INFO: task {{TASK}} blocked (?:in I/O wait )?for more than [0-9]+ seconds",
            fmt="INFO: task hung in %[1]v",
            alt=("hang in %[1]v",),
            stack=trace(extractor=hang_extractor),
        ),
        Format(
            title="INFO: task {{TASK}} can't die for more than .* seconds",
            fmt="INFO: task can't die in %[1]v",
            alt=("hang in %[1]v",),
            stack=trace("schedule"),
        ),
        Format(
            title="INFO: (Freed|Allocated) in (.*)",
            fmt="INFO: %[1]v in %[2]v",
            corrupted=True,
        ),
        Format(
            title=r"INFO:[[:space:]]*(?:\n|$)",
            fmt="INFO: corrupted",
            corrupted=True,
        ),
    ),
    suppressions=("INFO: lockdep is turned off", "INFO: Stall ended before state dump start", "INFO: NMI handler", "INFO: recovery required on readonly filesystem", "(handler|interrupt).*took too long", "INFO: sys_.* is not present in /proc/kallsyms", "INFO: no syscalls can create resource", "rmt_storage:INFO:", "_INFO:"),
)
