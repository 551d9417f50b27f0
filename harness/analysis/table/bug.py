"""Rule table: the BUG: header: sanitizers (KASAN, KMSAN, KCSAN, KFENCE), faults, lockups, lockdep, leaks.

Follows google/syzkaller pkg/report/linux.go (linuxOopses) at commit
1e72964b0111319984575e60f266d1fa0a98abb5, entry by entry and in order;
tests/unit/test_analysis_reference.py compares them.
"""

from __future__ import annotations

from harness.analysis.oops import PARSE_STACK, Format, Oops, Stack
from harness.analysis.table.params import CALL_TRACE
from harness.analysis.table.stacks import rip_trace, stall_extractor, trace

BUG = Oops(
    "BUG:",
    (
        Format(
            title="BUG: KASAN:",
            report=r"BUG: KASAN: ([a-z\-]+) in {{FUNC}}(?:.*\n)+?.*(Read|Write) (?:of size|at addr) (?:[0-9a-f]+)",
            fmt="KASAN: %[1]v %[3]v in %[4]v",
            alt=("bad-access in %[4]v",),
            stack=Stack(parts=(r"BUG: KASAN: (?:[a-z\-]+) in {{FUNC}}", CALL_TRACE, PARSE_STACK), skip=("kernel_fault", "tag_check", "mem_abort", "^el1_", "^el1h_"),),
        ),
        Format(
            title="BUG: KASAN:",
            report="BUG: KASAN: (?:double-free or invalid-free|double-free|invalid-free) in {{FUNC}}",
            fmt="KASAN: invalid-free in %[2]v",
            alt=("invalid-free in %[2]v",),
            stack=Stack(parts=("BUG: KASAN: (?:double-free or invalid-free|double-free|invalid-free) in {{FUNC}}", CALL_TRACE, PARSE_STACK), skip=("slab_", "kfree", "vunmap", "vfree"),),
        ),
        Format(
            title=r"BUG: KASAN: ([a-z\-]+) on address(?:.*\n)+?.*(Read|Write) of size ([0-9]+)",
            fmt="KASAN: %[1]v %[2]v",
        ),
        Format(
            title="BUG: KASAN: (.*)",
            fmt="KASAN: %[1]v",
            corrupted=True,
        ),
        Format(
            title="BUG: KMSAN: kernel-usb-infoleak",
            report="BUG: KMSAN: kernel-usb-infoleak in {{FUNC}}",
            fmt="KMSAN: kernel-usb-infoleak in %[2]v",
            alt=("KMSAN origin in %[3]v",),
            stack=Stack(parts=(PARSE_STACK, "(Local variable .* created at:|Uninit was created at:)", PARSE_STACK), skip=("alloc_skb", "usb_submit_urb", "usb_start_wait_urb", "usb_bulk_msg", "usb_interrupt_msg", "usb_control_msg"),),
            no_stack_trace=True,
        ),
        Format(
            title="BUG: KMSAN:",
            report=r"BUG: KMSAN: ([a-z\-]+) in {{FUNC}}",
            fmt="KMSAN: %[1]v in %[3]v",
            alt=("bad-access in %[3]v",),
            stack=Stack(parts=(PARSE_STACK, "(Local variable .* created at:|Uninit was created at:)", PARSE_STACK), skip=("alloc_skb", "netlink_ack", "netlink_rcv_skb", "_encrypt$", "^(?:crypto|cipher|drbg|rng)_"),),
            no_stack_trace=True,
        ),
        Format(
            title="BUG: KCSAN: data-race",
            report="BUG: KCSAN: (.*)",
            fmt="KCSAN: %[1]v",
            no_stack_trace=True,
        ),
        Format(
            title="BUG: KCSAN:",
            report="BUG: KCSAN: (.*)",
            fmt="KCSAN: %[1]v",
            no_stack_trace=True,
        ),
        Format(
            title="BUG: KFENCE: (use-after-free|out-of-bounds) (read|write) in {{FUNC}}",
            fmt="KFENCE: %[1]v %[2]v in %[4]v",
            alt=("bad-access in %[4]v",),
            stack=Stack(parts=(r"BUG: KFENCE: (?:[a-z\- ]+) in {{FUNC}}", PARSE_STACK),),
        ),
        Format(
            title="BUG: KFENCE: invalid free in {{FUNC}}",
            fmt="KFENCE: invalid free in %[2]v",
            alt=("invalid-free in %[2]v",),
            stack=Stack(parts=(r"BUG: KFENCE: (?:[a-z\- ]+) in {{FUNC}}", PARSE_STACK),),
            no_stack_trace=True,
        ),
        Format(
            title="BUG: KFENCE: invalid (read|write) in {{FUNC}}",
            fmt="KFENCE: invalid %[1]v in %[3]v",
            alt=("bad-access in %[3]v",),
            stack=Stack(parts=(r"BUG: KFENCE: (?:[a-z\- ]+) in {{FUNC}}", PARSE_STACK),),
        ),
        Format(
            title="BUG: KFENCE: memory corruption in {{FUNC}}",
            fmt="KFENCE: memory corruption in %[2]v",
            stack=Stack(parts=(r"BUG: KFENCE: (?:[a-z\- ]+) in {{FUNC}}", PARSE_STACK),),
            no_stack_trace=True,
        ),
        Format(
            title="BUG: (?:unable to handle kernel paging request|unable to handle page fault for address|Unable to handle kernel data access)",
            fmt="BUG: unable to handle kernel paging request in %[1]v",
            alt=("bad-access in %[1]v",),
            stack=rip_trace(),
        ),
        Format(
            title="BUG: (?:unable to handle kernel NULL pointer dereference|kernel NULL pointer dereference|Kernel NULL pointer dereference)",
            fmt="BUG: unable to handle kernel NULL pointer dereference in %[1]v",
            alt=("bad-access in %[1]v",),
            stack=rip_trace(),
        ),
        Format(
            title="BUG: (?:unable to handle kernel|Unable to handle kernel)",
            fmt="BUG: unable to handle kernel",
            corrupted=True,
        ),
        Format(
            title="BUG: (spinlock|rwlock) (lockup suspected|already unlocked|recursion|cpu recursion|bad magic|wrong owner|wrong CPU|trylock failure on UP)",
            fmt="BUG: %[1]v %[2]v in %[3]v",
            stack=trace("spin_", "_lock", "_unlock"),
        ),
        Format(
            title="BUG: soft lockup",
            fmt="BUG: soft lockup in %[1]v",
            alt=("stall in %[1]v",),
            stack=rip_trace(extractor=stall_extractor),
        ),
        Format(
            title="BUG: .*still has locks held!",
            report=r"BUG: .*still has locks held!(?:.*\n)+?.*{{PC}} +{{FUNC}}",
            fmt="BUG: still has locks held in %[1]v",
        ),
        Format(
            title="BUG: scheduling while atomic",
            fmt="BUG: scheduling while atomic in %[1]v",
            stack=trace("schedule"),
        ),
        Format(
            title="BUG: lock held when returning to user space",
            report=r"BUG: lock held when returning to user space(?:.*\n)+?.*leaving the kernel with locks still held(?:.*\n)+?.*at: (?:{{PC}} +)?{{FUNC}}",
            fmt="BUG: lock held when returning to user space in %[1]v",
            no_stack_trace=True,
        ),
        Format(
            title="BUG: bad unlock balance detected!",
            fmt="BUG: bad unlock balance in %[1]v",
            stack=Stack(parts=("{{PC}} +{{FUNC}}", CALL_TRACE, PARSE_STACK),),
        ),
        Format(
            title="BUG: held lock freed!",
            report=r"BUG: held lock freed!(?:.*\n)+?.*{{PC}} +{{FUNC}}",
            fmt="BUG: held lock freed in %[1]v",
        ),
        Format(
            title="BUG: Bad rss-counter state",
            fmt="BUG: Bad rss-counter state",
            no_stack_trace=True,
        ),
        Format(
            title="BUG: non-zero nr_ptes on freeing mm",
            fmt="BUG: non-zero nr_ptes on freeing mm",
            no_stack_trace=True,
        ),
        Format(
            title="BUG: non-zero nr_pmds on freeing mm",
            fmt="BUG: non-zero nr_pmds on freeing mm",
            no_stack_trace=True,
        ),
        Format(
            title="BUG: Dentry .* still in use",
            report=r"BUG: Dentry .* still in use \([0-9]+\) \[(unmount) of ([^\]]+)\]",
            fmt="BUG: Dentry still in use in %[1]v",
            alt=("BUG: Dentry still in use [%[1]v of %[2]v]",),
        ),
        Format(
            title="BUG: Bad page (state|cache)",
            fmt="BUG: Bad page %[1]v in %[2]v",
            stack=Stack(parts=("page last allocated", PARSE_STACK), skip=("(free|put|get|update|release)_page", "free_unref", "^_*folio", "truncate_inode_pages", "page_frag_free", "alloc", "vmap", "page_owner"),),
        ),
        Format(
            title="BUG: Bad page map",
            fmt="BUG: Bad page map",
        ),
        Format(
            title="BUG: workqueue lockup",
            fmt="BUG: workqueue lockup",
            no_stack_trace=True,
        ),
        Format(
            title="BUG: sleeping function called from invalid context at (.*)",
            fmt="BUG: sleeping function called from invalid context in %[2]v",
            stack=trace(),
        ),
        Format(
            title=r"BUG: using ([a-z_]+)\(\) in preemptible",
            fmt="BUG: using %[1]v() in preemptible code in %[2]v",
            stack=trace("dump_stack", "preemption", "preempt", "debug_", "processor_id", "this_cpu"),
        ),
        Format(
            title="BUG: workqueue leaked lock or atomic",
            report=r"BUG: workqueue leaked lock or atomic(?:.*\n)+?.*last function: ([a-zA-Z0-9_]+)\n",
            fmt="BUG: workqueue leaked lock or atomic in %[1]v",
            no_stack_trace=True,
        ),
        Format(
            title="BUG: memory leak",
            fmt="memory leak in %[1]v",
            stack=Stack(parts=(r"backtrace(?: \(crc [[:xdigit:]]*\))?:", PARSE_STACK), skip=("kmemleak", "mmap", "kmem", "slab", "alloc", "create_object", "idr_get", "list_lru_init", "kasprintf", "kvasprintf", "pcpu_create", "strdup", "strndup", "memdup"),),
        ),
        Format(
            title="BUG: .*stack guard page was hit at",
            fmt="BUG: stack guard page was hit in %[1]v",
            alt=("stack-overflow in %[1]v",),
            stack=rip_trace(extractor=stall_extractor),
        ),
        Format(
            title="BUG: Invalid wait context",
            fmt="WARNING: locking bug in %[1]v",
            stack=trace("lock_sock", "release_sock"),
        ),
        Format(
            title=r"BUG:[[:space:]]*(?:\n|$)",
            fmt="BUG: corrupted",
            corrupted=True,
        ),
    ),
    suppressions=("ODEBUG:", "Boot_DEBUG:", "xlog_status:", "DEBUG:", "BUG: no syscalls can create resource"),
)
