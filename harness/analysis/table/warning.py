"""Rule table: the WARNING: header: WARN() sites, lockdep and RCU reports.

Follows google/syzkaller pkg/report/linux.go (linuxOopses) at commit
1e72964b0111319984575e60f266d1fa0a98abb5, entry by entry and in order;
tests/unit/test_analysis_reference.py compares them.
"""

from __future__ import annotations

from harness.analysis.oops import PARSE_STACK, Format, Oops, Stack
from harness.analysis.table.params import CALL_TRACE
from harness.analysis.table.stacks import trace, warning_stack

WARNING = Oops(
    "WARNING:",
    (
        Format(
            title=r"WARNING: .*lib/debugobjects\.c.* (?:debug_print|debug_check|at)",
            fmt="WARNING: ODEBUG bug in %[1]v",
            stack=warning_stack("debug_", "rcu", "hrtimer_", "timer_", "work_", "percpu_", "vunmap", "vfree", "__free_", "debug_check", "kobject_"),
        ),
        Format(
            title=r"WARNING: .*mm/usercopy\.c.* (?:usercopy_warn|at)",
            fmt="WARNING: bad usercopy in %[1]v",
            stack=warning_stack("usercopy", "__check"),
        ),
        Format(
            title=r"WARNING: .*lib/kobject\.c.* (?:kobject_|at)",
            fmt="WARNING: kobject bug in %[1]v",
            stack=warning_stack("kobject_"),
        ),
        Format(
            title=r"WARNING: .*fs/proc/generic\.c.* (?:proc_register|at)",
            fmt="WARNING: proc registration bug in %[1]v",
            stack=warning_stack("proc_"),
        ),
        Format(
            title=r"WARNING: .*lib/refcount\.c.* (?:refcount_|at)",
            fmt="WARNING: refcount bug in %[1]v",
            stack=warning_stack("refcount", "kobject_"),
        ),
        Format(
            title=r"WARNING: .*kernel/locking/lockdep\.c.*lock_",
            fmt="WARNING: locking bug in %[1]v",
            stack=warning_stack("lock_sock", "release_sock"),
        ),
        Format(
            title="WARNING: .*still has locks held!",
            report=r"WARNING: .*still has locks held!(?:.*\n)+?.*at: {{FUNC}}",
            fmt="WARNING: still has locks held in %[1]v",
        ),
        Format(
            title="WARNING: Nested lock was not taken",
            fmt="WARNING: nested lock was not taken in %[1]v",
            stack=warning_stack(),
        ),
        Format(
            title="WARNING: lock held when returning to user space",
            report=r"WARNING: lock held when returning to user space(?:.*\n)+?.*leaving the kernel with locks still held(?:.*\n)+?.*at: (?:{{PC}} +)?{{FUNC}}",
            fmt="WARNING: lock held when returning to user space in %[1]v",
            no_stack_trace=True,
        ),
        Format(
            title=r"WARNING: .*mm/.*\.c.* k?.?malloc",
            fmt="WARNING: kmalloc bug in %[1]v",
            stack=warning_stack("kmalloc", "krealloc", "slab", "kmem"),
        ),
        Format(
            title="WARNING: .*mm/vmalloc.c.*__vmalloc_node",
            fmt="WARNING: zero-size vmalloc in %[1]v",
            stack=warning_stack(),
        ),
        Format(
            title="WARNING: .* usb_submit_urb",
            fmt="WARNING in %[1]v/usb_submit_urb",
            stack=warning_stack("usb_submit_urb", "usb_start_wait_urb", "usb_bulk_msg", "usb_interrupt_msg", "usb_control_msg"),
        ),
        Format(
            title=r"WARNING: {{SRC}} at 0x\d+, CPU#\d+",
            fmt="WARNING in %[2]v",
            stack=warning_stack(),
        ),
        Format(
            title="WARNING: .* at {{SRC}} {{FUNC}}",
            fmt="WARNING in %[3]v",
            stack=warning_stack(),
        ),
        Format(
            title="WARNING: {{SRC}} at {{FUNC}}",
            fmt="WARNING in %[3]v",
            stack=warning_stack(),
        ),
        Format(
            title=r"WARNING: \[.*\] {{SRC}} at {{FUNC}}.*",
            fmt="WARNING in %[3]v",
            stack=warning_stack(),
        ),
        Format(
            title="WARNING: possible circular locking dependency detected",
            report=r"WARNING: possible circular locking dependency detected(?:.*\n)+?.*is trying to acquire lock",
            fmt="possible deadlock in %[1]v",
            stack=Stack(parts=("at: (?:{{PC}} +)?{{FUNC}}", "at: (?:{{PC}} +)?{{FUNC}}", PARSE_STACK), skip=("process_one_work", "flush_workqueue", "drain_workqueue", "destroy_workqueue"),),
        ),
        Format(
            title="WARNING: possible irq lock inversion dependency detected",
            report=r"WARNING: possible irq lock inversion dependency detected(?:.*\n)+?.*just changed the state of lock(?:.*\n)+?.*at: (?:{{PC}} +)?{{FUNC}}",
            fmt="possible deadlock in %[1]v",
        ),
        Format(
            title="WARNING: .*-safe -> .*-unsafe lock order detected",
            fmt="possible deadlock in %[1]v",
            stack=Stack(parts=("which became (?:.*) at:", PARSE_STACK),),
        ),
        Format(
            title="WARNING: possible recursive locking detected",
            report=r"WARNING: possible recursive locking detected(?:.*\n)+?.*is trying to acquire lock(?:.*\n)+?.*at: (?:{{PC}} +)?{{FUNC}}",
            fmt="possible deadlock in %[1]v",
        ),
        Format(
            title="WARNING: inconsistent lock state",
            report=r"WARNING: inconsistent lock state(?:.*\n)+?.*takes(?:.*\n)+?.*at: (?:{{PC}} +)?{{FUNC}}",
            fmt="inconsistent lock state in %[2]v",
            stack=trace(),
        ),
        Format(
            title="WARNING: suspicious RCU usage",
            report="WARNING: suspicious RCU usage(?:.*\n)+?.*?{{SRC}}",
            fmt="WARNING: suspicious RCU usage in %[2]v",
            stack=trace("rcu", "kmem", "slab"),
        ),
        Format(
            title="WARNING: kernel stack regs at [0-9a-f]+ in [^ ]* has bad '([^']+)' value",
            fmt="WARNING: kernel stack regs has bad '%[1]v' value",
            no_stack_trace=True,
        ),
        Format(
            title="WARNING: kernel stack frame pointer at [0-9a-f]+ in [^ ]* has bad value",
            fmt="WARNING: kernel stack frame pointer has bad value",
            no_stack_trace=True,
        ),
        Format(
            title="WARNING: bad unlock balance detected!",
            fmt="WARNING: bad unlock balance in %[1]v",
            stack=Stack(parts=("{{PC}} +{{FUNC}}", CALL_TRACE, PARSE_STACK),),
        ),
        Format(
            title="WARNING: held lock freed!",
            report=r"WARNING: held lock freed!(?:.*\n)+?.*at:(?: {{PC}})? +{{FUNC}}",
            fmt="WARNING: held lock freed in %[1]v",
        ),
        Format(
            title="WARNING: kernel stack regs .* has bad 'bp' value",
            fmt="WARNING: kernel stack regs has bad value",
            no_stack_trace=True,
        ),
        Format(
            title="WARNING: kernel stack frame pointer .* has bad value",
            fmt="WARNING: kernel stack regs has bad value",
            no_stack_trace=True,
        ),
        Format(
            title=r"WARNING:[[:space:]]*(?:\n|$)",
            fmt="WARNING: corrupted",
            corrupted=True,
        ),
    ),
    suppressions=("WARNING: /etc/ssh/moduli does not exist, using fixed modulus", "WARNING: workqueue cpumask: online intersect > possible intersect", "WARNING: [Tt]he mand mount option", r"WARNING: Unsupported flag value\(s\) of 0x%x in DT_FLAGS_1", "WARNING: Unprivileged eBPF is enabled with eIBRS", r"WARNING: fbcon: Driver '(.*)' missed to adjust virtual screen size (\((?:\d+)x(?:\d+) vs\. (?:\d+)x(?:\d+)\))", "WARNING: See https.* for mitigation options.", "WARNING: kernel not compiled with CPU_SRSO", r"EXT4-[Ff][Ss](?: \(.*\))?:", "(?i)warning: .* uses (deprecated v2 capabilities|wireless extensions)", r"XFS \(\w+\): WARNING"),
)
