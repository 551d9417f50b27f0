"""The header table: oops headers -> title formats, after syzkaller's pkg/report/linux.go.

Order matters twice: among headers, the first line of the log that matches
any header starts a report; among one header's formats, the format whose
title regex matches earliest in the report wins, ties going to the first.
"""

from __future__ import annotations

from harness.analysis.frames import CALL_TRACE, RIP_FRAME, hang_extractor, stall_extractor
from harness.analysis.oops import PARSE_STACK, Format, Oops, Stack, rx

_TRACE = Stack(parts=(CALL_TRACE, PARSE_STACK))
_WARN_START = rx(RIP_FRAME.pattern + r"|--- interrupt: [0-9a-f]+ at {{FUNC}}")
_RIP_TRACE = Stack(parts=(RIP_FRAME, CALL_TRACE, PARSE_STACK))


def _warning(*skip: str) -> Stack:
    """A WARNING's frames start at the trap's RIP (or powerpc's interrupt line); old kernels only
    print a call trace, so that is the fallback."""
    return Stack(
        parts=(_WARN_START, PARSE_STACK),
        parts2=(CALL_TRACE, PARSE_STACK),
        skip=skip,
    )


def _trace(*skip: str) -> Stack:
    return Stack(parts=(CALL_TRACE, PARSE_STACK), skip=skip)


def _rip_trace(*skip: str) -> Stack:
    return Stack(parts=(RIP_FRAME, CALL_TRACE, PARSE_STACK), skip=skip)


# Lockdep names the lock's site first; when that is a generic helper, the trace decides.
_UNLOCK = Stack(parts=(rx(r"is trying to release lock"), rx(r"{{PC}} +{{FUNC}}|at: {{FUNC}}"), CALL_TRACE, PARSE_STACK))
_FREED_HELD = Stack(parts=(rx(r"is freeing memory"), rx(r"at: (?:{{PC}} +)?{{FUNC}}"), CALL_TRACE, PARSE_STACK))
_HELD = Stack(parts=(rx(r"still has locks held!"), rx(r"at: (?:{{PC}} +)?{{FUNC}}"), CALL_TRACE, PARSE_STACK))
_RETURN_HELD = Stack(parts=(rx(r"leaving the kernel with locks still held"), rx(r"at: (?:{{PC}} +)?{{FUNC}}")))
_KASAN_HW_SKIP = ("kernel_fault", "tag_check", "mem_abort", "^el1_", "^el1h_")
_KMSAN_ORIGIN = rx(r"(?:Uninit was created at|Local variable .* created at|Uninit was stored to memory at)")
# Newer KMSAN prints the frames right after its header, older under "Call Trace:".
_KMSAN_PARTS = (
    rx(r"BUG: KMSAN:"), PARSE_STACK, rx(r"(Local variable .* created at:|Uninit was created at:)"), PARSE_STACK,
)
_STALL = Stack(
    parts=(rx(r"apic_timer_interrupt"), RIP_FRAME, PARSE_STACK),
    parts2=(rx(r"(?:apic_timer_interrupt|Exception stack|el1h_64_irq|</IRQ>)"), PARSE_STACK),
    skip=("apic_timer_interrupt", "rcu", "^irq_exit", "^sysvec_", "^asm_sysvec", "^__sysvec"),
    extractor=stall_extractor,
)

BUG = Oops(
    "BUG:",
    (
        Format(
            rx(r"BUG: KASAN: double-free or invalid-free in"),
            "KASAN: invalid-free in {2}",
            report=rx(r"BUG: KASAN: double-free or invalid-free in {{FUNC}}"),
            alt=("invalid-free in {2}",),
            stack=Stack(
                parts=(rx(r"BUG: KASAN: double-free or invalid-free in {{FUNC}}"), CALL_TRACE, PARSE_STACK),
                skip=("kmem_", "slab_", "kfree", "vunmap", "vfree"),
            ),
        ),
        Format(
            rx(r"BUG: KASAN: (?:double-free|invalid-free)"),
            "KASAN: invalid-free in {1}",
            alt=("invalid-free in {1}",),
            stack=Stack(parts=(CALL_TRACE, PARSE_STACK), skip=("kmem_", "slab_", "kfree", "vunmap", "vfree")),
        ),
        Format(
            rx(r"BUG: KASAN:"),
            "KASAN: {1} {3} in {4}",
            report=rx(r"BUG: KASAN: ([a-z\-]+) in {{FUNC}}(?:.*\n)+?.*(Read|Write) (?:of size|at addr) (?:[0-9a-f]+)"),
            alt=("bad-access in {4}",),
            stack=Stack(
                parts=(rx(r"BUG: KASAN: (?:[a-z\-]+) in {{FUNC}}"), CALL_TRACE, PARSE_STACK),
                skip=_KASAN_HW_SKIP,
            ),
        ),
        Format(
            rx(r"BUG: KASAN: ([a-z\-]+) on address(?:.*\n)+?.*(Read|Write) of size ([0-9]+)"),
            "KASAN: {1} {2}",
            corrupted=True,
        ),
        Format(rx(r"BUG: KASAN: (.*)"), "KASAN: {1}", corrupted=True),
        Format(
            rx(r"BUG: KMSAN: kernel-usb-infoleak"),
            "KMSAN: kernel-usb-infoleak in {2}",
            report=rx(r"BUG: KMSAN: kernel-usb-infoleak in {{FUNC}}"),
            stack=Stack(
                parts=_KMSAN_PARTS,
                skip=("alloc_skb", "usb_submit_urb", "usb_start_wait_urb", "usb_bulk_msg",
                      "usb_interrupt_msg", "usb_control_msg"),
            ),
            no_stack_trace=True,
        ),
        Format(
            rx(r"BUG: KMSAN:"),
            "KMSAN: {1} in {3}",
            report=rx(r"BUG: KMSAN: ([a-z\-]+) in {{FUNC}}"),
            alt=("bad-access in {3}",),
            stack=Stack(parts=_KMSAN_PARTS, skip=("alloc_skb", "netlink_ack", "netlink_rcv_skb")),
            no_stack_trace=True,
            needs=_KMSAN_ORIGIN,
        ),
        Format(rx(r"BUG: KCSAN: data-race"), "KCSAN: data-race in {1}", report=rx(r"BUG: KCSAN: data-race in (.*)"),
               no_stack_trace=True),
        Format(rx(r"BUG: KCSAN: (.*)"), "KCSAN: {1}", no_stack_trace=True),
        Format(
            rx(r"BUG: KFENCE: (use-after-free|out-of-bounds) ([a-z\-]+)"),
            "KFENCE: {1} {2} in {3}",
            alt=("bad-access in {3}",),
            stack=Stack(parts=(rx(r"BUG: KFENCE: (?:[a-z\- ]+) in {{FUNC}}"), PARSE_STACK)),
            no_stack_trace=True,
        ),
        Format(
            rx(r"BUG: KFENCE: invalid free"),
            "KFENCE: invalid free in {1}",
            alt=("invalid-free in {1}",),
            stack=Stack(parts=(rx(r"BUG: KFENCE: (?:[a-z\- ]+) in {{FUNC}}"), PARSE_STACK)),
            no_stack_trace=True,
        ),
        Format(
            rx(r"BUG: KFENCE: invalid (read|write)"),
            "KFENCE: invalid {1} in {2}",
            alt=("bad-access in {2}",),
            stack=Stack(parts=(rx(r"BUG: KFENCE: (?:[a-z\- ]+) in {{FUNC}}"), PARSE_STACK)),
            no_stack_trace=True,
        ),
        Format(
            rx(r"BUG: KFENCE: memory corruption"),
            "KFENCE: memory corruption in {1}",
            stack=Stack(parts=(rx(r"BUG: KFENCE: (?:[a-z\- ]+) in {{FUNC}}"), PARSE_STACK)),
            no_stack_trace=True,
        ),
        Format(
            rx(r"BUG: (?:unable to handle kernel paging request|unable to handle page fault for address|"
               r"Unable to handle kernel data access)"),
            "BUG: unable to handle kernel paging request in {1}",
            alt=("bad-access in {1}",),
            stack=_RIP_TRACE,
        ),
        Format(
            rx(r"BUG: (?:unable to handle kernel NULL pointer dereference|kernel NULL pointer dereference|"
               r"Kernel NULL pointer dereference)"),
            "BUG: unable to handle kernel NULL pointer dereference in {1}",
            alt=("bad-access in {1}",),
            stack=_RIP_TRACE,
        ),
        # The second half of this header is a separate printk and may be lost.
        Format(rx(r"BUG: (?:unable to handle kernel|Unable to handle kernel)"), "BUG: unable to handle kernel",
               corrupted=True),
        Format(
            rx(r"BUG: (spinlock|rwlock) (lockup suspected|already unlocked|recursion|cpu recursion|bad magic|"
               r"wrong owner|wrong CPU|trylock failure on UP)"),
            "BUG: {1} {2} in {3}",
            stack=_trace("spin_", "_lock", "_unlock"),
        ),
        Format(
            rx(r"BUG: soft lockup"),
            "BUG: soft lockup in {1}",
            alt=("stall in {1}",),
            stack=Stack(parts=(RIP_FRAME, CALL_TRACE, PARSE_STACK), extractor=stall_extractor),
        ),
        Format(rx(r"BUG: .*still has locks held!"), "BUG: still has locks held in {1}", stack=_HELD),
        Format(rx(r"BUG: scheduling while atomic"), "BUG: scheduling while atomic in {1}", stack=_trace("schedule")),
        Format(rx(r"BUG: lock held when returning to user space"), "BUG: lock held when returning to user space in {1}",
               stack=_RETURN_HELD, no_stack_trace=True),
        Format(rx(r"BUG: bad unlock balance detected!"), "BUG: bad unlock balance in {1}", stack=_UNLOCK),
        Format(rx(r"BUG: held lock freed!"), "BUG: held lock freed in {1}", stack=_FREED_HELD),
        Format(rx(r"BUG: Bad rss-counter state"), "BUG: Bad rss-counter state", no_stack_trace=True),
        Format(rx(r"BUG: non-zero (nr_ptes|nr_pmds|pgtables_bytes) on freeing mm"), "BUG: non-zero {1} on freeing mm",
               no_stack_trace=True),
        # The kernel names the file system and the device; the device (loop0,
        # loop1...) would split one bug into many, so only the alt keeps them.
        Format(
            rx(r"BUG: Dentry .* still in use"),
            "BUG: Dentry still in use in {1}",
            report=rx(r"BUG: Dentry .* still in use \([0-9]+\) \[(unmount) of ([^\]]+)\]"),
            alt=("BUG: Dentry still in use [{1} of {2}]",),
            no_stack_trace=True,
        ),
        Format(
            rx(r"BUG: Bad page (state|map)"),
            "BUG: Bad page {1} in {2}",
            stack=Stack(
                parts=(rx(r"page last allocated"), PARSE_STACK),
                skip=("(free|put|prep|post)_page", "post_alloc_hook", "alloc_pages", "page_frag_", "__alloc_pages",
                      "get_page_from_freelist", "^prep_new_page", "^free_unref", "^__page_cache_release",
                      "folio_", "^__folio_", "^release_pages", "^free_pages_prepare"),
            ),
        ),
        Format(rx(r"BUG: Bad page cache"), "BUG: Bad page cache in {1}", stack=_rip_trace()),
        Format(rx(r"BUG: workqueue lockup"), "BUG: workqueue lockup", no_stack_trace=True),
        Format(
            rx(r"BUG: sleeping function called from invalid context at (.*)"),
            "BUG: sleeping function called from invalid context in {2}",
            stack=_trace(),
        ),
        Format(
            rx(r"BUG: using ([a-z_]+)\(\) in preemptible"),
            "BUG: using {1}() in preemptible code in {2}",
            stack=_trace("dump_stack", "preemption", "preempt", "debug_", "processor_id", "this_cpu"),
        ),
        Format(
            rx(r"BUG: workqueue leaked lock or atomic"),
            "BUG: workqueue leaked lock or atomic in {1}",
            report=rx(r"BUG: workqueue leaked lock or atomic(?:.*\n)+?.*last function: ([a-zA-Z0-9_]+)\n"),
            no_stack_trace=True,
        ),
        Format(
            rx(r"BUG: memory leak"),
            "memory leak in {1}",
            stack=Stack(
                parts=(rx(r"backtrace(?: \(crc [0-9a-fA-F]+\))?:"), PARSE_STACK),
                skip=("kmemleak", "mmap", "kmem", "slab", "alloc", "create_object", "idr_get",
                      "list_lru_init", "kasprintf", "kvasprintf", "pcpu_create_chunk", "strdup",
                      "strndup", "memdup"),
            ),
        ),
        # A recursion: the frame that started it is deeper, found as for stalls.
        Format(rx(r"BUG: .*stack guard page was hit at"), "BUG: stack guard page was hit in {1}",
               alt=("stack-overflow in {1}",),
               stack=Stack(parts=(RIP_FRAME, CALL_TRACE, PARSE_STACK), extractor=stall_extractor)),
        Format(rx(r"BUG: Invalid wait context"), "WARNING: locking bug in {1}",
               stack=_trace("lock_sock", "release_sock")),
        Format(rx(r"BUG: Bad rss-counter"), "BUG: Bad rss-counter state", no_stack_trace=True),
        # Lockdep ran out of a table: MAX_LOCKDEP_KEYS, MAX_STACK_TRACE_ENTRIES, ...
        Format(rx(r"BUG: (MAX_[A-Z_]+) too low!"), "BUG: {1} too low!", no_stack_trace=True),
        Format(rx(r"BUG: unable to handle kernel"), "BUG: unable to handle kernel", corrupted=True),
        Format(rx(r"BUG:[ \t]*(?:\n|$)"), "BUG: corrupted", corrupted=True),
    ),
    suppressions=(
        # Debug-object chatter and Android's logs contain "BUG:" inside other words.
        rx(r"ODEBUG:"), rx(r"Boot_DEBUG:"), rx(r"xlog_status:"), rx(r"DEBUG:"),
        # syzkaller's own host checks.
        rx(r"BUG: no syscalls can create resource"),
    ),
)

_LOCKDEP_AT = r"at: (?:{{PC}} +)?{{FUNC}}"

WARNING = Oops(
    "WARNING:",
    (
        Format(
            rx(r"WARNING: .*lib/debugobjects\.c(?:.* (?:debug_print|debug_check)|:\d+ at )"),
            "WARNING: ODEBUG bug in {1}",
            stack=_warning("debug_", "rcu", "hrtimer_", "timer_", "work_", "percpu_", "vunmap",
                             "vfree", "__free_", "kmem_", "slab", "kfree", "kmem_cache_free",
                             "put_page", "free_pages", "__free_pages"),
        ),
        Format(rx(r"WARNING: .*mm/usercopy\.c(?:.* usercopy_warn|:\d+ at )"), "BUG: bad usercopy in {1}",
               stack=_warning("usercopy", "__check")),
        Format(rx(r"WARNING: .*lib/kobject\.c(?:.* kobject_|:\d+ at )"), "WARNING: kobject bug in {1}",
               stack=_warning("kobject_")),
        Format(rx(r"WARNING: .*fs/proc/generic\.c(?:.* proc_register|:\d+ at )"),
               "WARNING: proc registration bug in {1}",
               stack=_warning("proc_")),
        Format(rx(r"WARNING: .*lib/refcount\.c(?:.* refcount_|:\d+ at )"), "WARNING: refcount bug in {1}",
               stack=_warning("refcount")),
        Format(rx(r"WARNING: .*kernel/locking/lockdep\.c(?:.*lock_|:\d+ at )"), "WARNING: locking bug in {1}",
               stack=_warning("lockdep_", "lock_")),
        Format(rx(r"WARNING: .*still has locks held!"), "WARNING: still has locks held in {1}", stack=_HELD),
        Format(rx(r"WARNING: Nested lock was not taken"), "WARNING: nested lock was not taken in {1}",
               stack=_trace()),
        Format(rx(r"WARNING: lock held when returning to user space"),
               "WARNING: lock held when returning to user space in {1}", stack=_RETURN_HELD, no_stack_trace=True),
        Format(rx(r"WARNING: .*mm/.*\.c.* k?.?malloc"), "WARNING: kmalloc bug in {1}",
               stack=_warning("kmalloc", "krealloc", "slab", "kmem")),
        Format(rx(r"WARNING: .*mm/vmalloc\.c(?:.*__vmalloc_node|:\d+ at )"), "WARNING: zero-size vmalloc in {1}",
               stack=_warning("vmalloc")),
        Format(
            rx(r"WARNING: .* usb_submit_urb"),
            "WARNING in {1}/usb_submit_urb",
            stack=_warning("usb_submit_urb", "usb_start_wait_urb", "usb_bulk_msg", "usb_interrupt_msg",
                           "usb_control_msg"),
        ),
        Format(
            rx(r"WARNING: .* at {{SRC}} {{FUNC}}"),
            "WARNING in {3}",
            stack=_warning(),
        ),
        # Newer kernels: "WARNING: fs/dcache.c:1234 at umount_check+0x1/0x2, CPU#0: ...".
        Format(rx(r"WARNING: {{SRC}} at "), "WARNING in {2}", stack=_warning()),
        Format(
            rx(r"WARNING: possible circular locking dependency detected"),
            "possible deadlock in {1}",
            report=rx(r"WARNING: possible circular locking dependency detected(?:.*\n)+?.*is trying to acquire lock"),
            stack=Stack(
                parts=(rx(_LOCKDEP_AT), rx(_LOCKDEP_AT), PARSE_STACK),
                # These take locks on behalf of work items; the deadlock is in the work.
                skip=("process_one_work", "flush_workqueue", "drain_workqueue", "destroy_workqueue"),
            ),
        ),
        Format(
            rx(r"WARNING: possible irq lock inversion dependency detected"),
            "possible deadlock in {1}",
            report=rx(r"WARNING: possible irq lock inversion dependency detected(?:.*\n)+?.*just changed the "
                      r"state of lock(?:.*\n)+?.*" + _LOCKDEP_AT),
        ),
        Format(
            rx(r"WARNING: .*-safe -> .*-unsafe lock order detected"),
            "possible deadlock in {1}",
            stack=Stack(parts=(rx(r"which became (?:.*) at:"), PARSE_STACK)),
        ),
        Format(
            rx(r"WARNING: possible recursive locking detected"),
            "possible deadlock in {1}",
            report=rx(r"WARNING: possible recursive locking detected(?:.*\n)+?.*is trying to acquire lock"
                      r"(?:.*\n)+?.*" + _LOCKDEP_AT),
        ),
        Format(
            rx(r"WARNING: inconsistent lock state"),
            "inconsistent lock state in {2}",
            report=rx(r"WARNING: inconsistent lock state(?:.*\n)+?.*takes(?:.*\n)+?.*" + _LOCKDEP_AT),
            stack=Stack(parts=(rx(r"takes"), rx(_LOCKDEP_AT), PARSE_STACK)),
        ),
        Format(
            rx(r"WARNING: suspicious RCU usage"),
            "WARNING: suspicious RCU usage in {2}",
            report=rx(r"WARNING: suspicious RCU usage(?:.*\n)+?.*?{{SRC}}"),
            stack=_trace("rcu", "kmem", "slab"),
        ),
        Format(
            rx(r"WARNING: kernel stack regs at [0-9a-f]+ in [^ ]* has bad '([^']+)' value"),
            "WARNING: kernel stack regs has bad '{1}' value",
            no_stack_trace=True,
        ),
        Format(rx(r"WARNING: kernel stack regs at [0-9a-f]+ in [^ ]* has bad value"),
               "WARNING: kernel stack regs has bad value", no_stack_trace=True),
        Format(rx(r"WARNING: kernel stack frame pointer at [0-9a-f]+ in [^ ]* has bad value"),
               "WARNING: kernel stack frame pointer has bad value", no_stack_trace=True),
        Format(rx(r"WARNING: bad unlock balance detected!"), "WARNING: bad unlock balance in {1}", stack=_UNLOCK),
        Format(rx(r"WARNING: held lock freed!"), "WARNING: held lock freed in {1}", stack=_FREED_HELD),
        # Hashed pointers ("(ptrval)") defeat the precise forms above.
        Format(rx(r"WARNING: kernel stack (?:regs|frame pointer) at .* has bad .*value"),
               "WARNING: kernel stack regs has bad value", no_stack_trace=True),
    ),
    suppressions=(
        rx(r"WARNING: /etc/ssh/moduli does not exist, using fixed modulus"),
        rx(r"WARNING: workqueue cpumask: online intersect > possible intersect"),
        rx(r"WARNING: [Tt]he mand mount option"),
        rx(r"WARNING: Unsupported flag value\(s\) of 0x%x in DT_FLAGS_1"),
        rx(r"WARNING: Unprivileged eBPF is enabled with eIBRS"),
        rx(r"WARNING: fbcon: Driver '(.*)' missed to adjust virtual screen size"),
        rx(r"WARNING: See https?:\S* for mitigation options"),
        rx(r"WARNING: kernel not compiled with CPU_SRSO"),
        rx(r"WARNING: Clocksource .* unstable"),
        rx(r"XFS \(\w+\): WARNING"),
        rx(r"EXT4-[Ff][Ss](?: \(.*\))?:"),
    ),
)

INFO = Oops(
    "INFO:",
    (
        Format(
            rx(r"INFO: possible circular locking dependency detected"),
            "possible deadlock in {1}",
            report=rx(r"INFO: possible circular locking dependency detected \](?:.*\n)+?.*is trying to acquire lock"
                      r"(?:.*\n)+?.*at: {{PC}} +{{FUNC}}"),
        ),
        Format(
            rx(r"INFO: possible irq lock inversion dependency detected"),
            "possible deadlock in {1}",
            report=rx(r"INFO: possible irq lock inversion dependency detected \](?:.*\n)+?.*just changed the "
                      r"state of lock(?:.*\n)+?.*at: {{PC}} +{{FUNC}}"),
        ),
        Format(
            rx(r"INFO: SOFTIRQ-safe -> SOFTIRQ-unsafe lock order detected"),
            "possible deadlock in {1}",
            report=rx(r"INFO: SOFTIRQ-safe -> SOFTIRQ-unsafe lock order detected \](?:.*\n)+?.*is trying to "
                      r"acquire(?:.*\n)+?.*at: {{PC}} +{{FUNC}}"),
        ),
        Format(
            rx(r"INFO: possible recursive locking detected"),
            "possible deadlock in {1}",
            report=rx(r"INFO: possible recursive locking detected \](?:.*\n)+?.*is trying to acquire lock"
                      r"(?:.*\n)+?.*at: {{PC}} +{{FUNC}}"),
        ),
        Format(
            rx(r"INFO: inconsistent lock state"),
            "inconsistent lock state in {1}",
            report=rx(r"INFO: inconsistent lock state \](?:.*\n)+?.*takes(?:.*\n)+?.*at: {{PC}} +{{FUNC}}"),
        ),
        Format(
            rx(r"INFO: rcu_\w+ (?:self-)?detected(?: expedited)? stall"),
            "INFO: rcu detected stall in {1}",
            alt=("stall in {1}",),
            stack=_STALL,
        ),
        Format(
            rx(r"INFO: trying to register non-static key"),
            "INFO: trying to register non-static key in {1}",
            stack=_trace("stack", "lock", "IRQ"),
        ),
        Format(
            rx(r"INFO: suspicious RCU usage"),
            "INFO: suspicious RCU usage in {2}",
            report=rx(r"INFO: suspicious RCU usage(?:.*\n)+?.*?{{SRC}}"),
            stack=_trace("rcu", "kmem", "slab"),
        ),
        Format(
            rx(r"INFO: task .* blocked (?:in I/O wait )?for more than [0-9]+ seconds"),
            "INFO: task hung in {1}",
            alt=("hang in {1}",),
            stack=Stack(parts=(CALL_TRACE, PARSE_STACK), extractor=hang_extractor),
        ),
        Format(
            rx(r"INFO: task .* can't die for more than .* seconds"),
            "INFO: task can't die in {1}",
            alt=("hang in {1}",),
            stack=_trace("schedule"),
        ),
        # Old-style KASAN reports that lost their header look like this.
        Format(rx(r"INFO: (Freed|Allocated) in (.*)"), "INFO: {1} in {2}", corrupted=True),
    ),
    suppressions=(
        rx(r"INFO: lockdep is turned off"),
        rx(r"INFO: Stall ended before state dump start"),
        rx(r"INFO: NMI handler .* took too long to run"),
        rx(r"_INFO::"),
        rx(r"INFO: sys_.* is not present in /proc/kallsyms"),
        rx(r"INFO: no syscalls can create resource"),
        rx(r"INFO: rcu_(?:preempt|sched|bh) detected expedited stalls? on CPUs/tasks: \{\s*\}"),
        rx(r"EXT4-[Ff][Ss](?: \(.*\))?:"),
        rx(r"INFO: recovery required on readonly filesystem"),
    ),
)
