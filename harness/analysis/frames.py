"""Stack traces: which lines are frames, which frames are generic, which one is guilty.

The guilty frame is the first frame, innermost first, that is not generic
machinery: sanitizers, lockdep, printk, locking primitives, allocators,
mem*/str* helpers, list debugging, workqueue/kobject plumbing. Those frames
appear in thousands of unrelated reports, so naming a report after them would
merge different bugs into one title.
"""

from __future__ import annotations

import re
from typing import Iterable

from harness.analysis.demangle import demangle
from harness.analysis.oops import PARSE_STACK, Stack, rx

# "RIP: 0010:foo+0x1/0x2", "IP: [<ffff>] foo+0x1/0x2", "pc : foo+0x1/0x2", "PC is at foo+0x1/0x2".
# A RIP of a bare address (a jump to 0x0) has no function: the group stays empty.
RIP_FRAME = rx(
    r"(?<![A-Za-z])(?:(?:R?IP|NIP|pc ): |NIP (?=\[)|PC is at )"
    r"(?:(?:[0-9]+:)?(?:{{PC}} +){0,2}{{FUNC}}|(?:[0-9]+:)?0x[0-9a-f]+|"
    r"(?:[0-9]+:)?{{PC}} +\[< *\(null\)>\] +\(null\)|[0-9]+: +\(null\))"
)
CALL_TRACE = rx(r"Call (?:T|t)race:|Backtrace:")

# Lines that open a stack trace; a trace being read ends at the next one.
STACK_KEYWORDS = tuple(
    re.compile(p)
    for p in (
        r"Call (?:T|t)race",
        r"Allocated:",
        r"Allocated by task [0-9]+:",
        r"Freed:",
        r"Freed by task [0-9]+:",
        # "backtrace:" of kmemleak, not lockdep's "stack backtrace:".
        r"[^k] backtrace(?: \(crc [0-9a-fA-F]+\))?:",
        r"Backtrace:",
        r"Uninit was stored to memory at",
    )
)

FRAME_RES = (
    rx(r"^ *(?:{{PC}} ){0,2}{{FUNC}}"),
    # Symbolized inline frames: "foo fs/bar.c:12 [inline]".
    rx(r"^ *(?:{{PC}} ){0,2}([a-zA-Z0-9_]+) [a-zA-Z0-9\-_/.]+\.[a-zA-Z]+:[0-9]+ \[inline\]"),
    # powerpc names the trapping function where the exception frame starts.
    rx(r"^--- interrupt: [0-9a-f]+ at {{FUNC}}"),
    # arm: "[<c0123>] (foo) from [<c0456>] (bar+0x1/0x2)"; both frames count.
    rx(r"^ *{{PC}} \(([a-zA-Z0-9_.]+)\) from {{PC}} \({{FUNC}}"),
)

# Fault injection stacks interleave with real reports and poison them.
CORRUPTED_LINES = (re.compile(r"^( \[<?(?:0x)?[0-9a-f]+>?\])? should_fail(slab)?(\.[a-z0-9.]+)?\+0x"),)

SKIP_PATTERNS = (
    # sanitizers and their reporting
    "__sanitizer", "__asan", "kasan", "hwasan", "__msan", "kmsan", "kcsan_setup_watchpoint",
    "check_memory_region", "check_heap_object", "check_object", "read_word_at_a_time",
    "(read|write)_once_.*nocheck", "print_address_description",
    # traps, panics, warnings, dumps
    "panic", "invalid_op", "report_bug", "fixup_bug", "fixup_exception", "do_error", "^do_trap", "_trap$",
    "dump_stack", "show_stack", "dump_backtrace", "warn_slowpath", "warn_alloc", "warn_bogus",
    "__warn", "__bug", "^bug_handler", "^brk_handler", "do_debug_exception", "^el1_dbg",
    "^handle_bug", "^exc_invalid_op", "^asm_exc_invalid_op", "^ud2_call",
    # allocators and page cache lookups
    "alloc_page", "alloc_frozen_pages", "k?v?(?:m|z|c)alloc", "krealloc", "kmem_cache", "allocate_slab",
    "folio_(?:alloc|unlock)", "filemap_alloc_folio", "__filemap_get_folio", "find_or_create_page",
    "do_read_cache_folio", "read_cache_page", "pagecache_get_page", "grab_cache_page_write_begin",
    "slab_", "^__kmem_", "^kmemdup", "^kstrdup", "^kstrndup",
    # object debugging and might_sleep checks
    "debug_object", "timer_is_static_object", "work_is_static_object", "__might_fault",
    "might_sleep", "might_fault", "__might_resched",
    # lockdep and locking primitives
    "print_unlock", "imbalance_bug", "lockdep", "^trace_hardirqs", "bh_enable", "bh_disable", "perf_trace",
    "lock_acquire", "lock_release", "lock_class", "mark_lock", "(reacquire|mark)_held_locks",
    "raw_spin_rq", "spin_lock", "spin_trylock", "spin_unlock", "read_lock", "read_trylock",
    "write_lock", "write_trylock", "read_unlock", "write_unlock", "^down$", "down_read",
    "down_write", "down_read_trylock", "down_write_trylock", "down_trylock", "^up$", "up_read",
    "up_write", "^mutex_", "^__mutex_", "^rt_mutex_", "owner_on_cpu", "osq_lock",
    "^queued_spin", "^native_queued_spin", "^do_raw_", "^_raw_", "^__raw_", "^rwsem_",
    "^percpu_down", "^percpu_up", "^refcount_", "^__refcount_",
    # memory and string helpers
    "memcpy", "memcmp", "memset", "memchr", "memmove", "memdup", "strcmp", "strncmp", "strcpy",
    "strlcpy", "strncpy", "strscpy", "strlen", "strstr", "strnstr", "strnlen", "strchr",
    "strdup", "strndup", "copy_to_user", "copy_from_user", "copy_to_iter", "copy_from_iter",
    "copy_page_to_iter", "copy_page_from_iter", "copy_folio_to_iter", "^copyin$", "^copyout$",
    "put_user", "get_user", "_copy_to_user", "_copy_from_user", "^rep_movs", "^fault_in_",
    "^copy_user", "^__copy_user", "^raw_copy_(?:to|from)_user", "^strncpy_from_user", "^strnlen_user",
    "^(?:__)?clear_user", "^__ubsan_handle",
    # exception and interrupt entry stubs
    "^asm_", "^sysvec_", "^__sysvec_", "^irqentry_", "^irq_exit", "^__irq_exit_rcu",
    "^(?:__)?do_page_fault", "^exc_page_fault", "^do_user_addr_fault", "^do_kern_addr_fault",
    "^page_fault_oops", "^kernelmode_fixup_or_oops", "^no_context$", "^(?:__)?bad_area_nosemaphore",
    "^csum_partial",
    # list and tree debugging
    "list_add", "list_del", "list_replace", "list_move", "list_splice", "^rb_", "^__rb_",
    "_indirect_thunk_",
    # printk and friends
    "string", "pointer", "snprintf", "scnprintf", "kasprintf", "kvasprintf", "printk",
    "va_format", "dev_info", "dev_notice", "dev_warn", "dev_err", "dev_alert", "dev_crit",
    "dev_emerg", "program_check_exception", "program_check_common",
    # timers, workqueues and device/kobject plumbing that only carries the caller's bug
    "del_timer", "flush_work", "__cancel_work_timer", "cancel_work_sync", "try_to_grab_pending",
    "flush_workqueue", "drain_workqueue", "destroy_workqueue", "queue_work", "finish_wait",
    "kthread_stop", "kobject_", "add_uevent_var", "get_device_parent", "device_add",
    "device_del", "device_unregister", "device_destroy", "device_release",
    "devres_release_all", "hwrng_unregister", "i2c_del_adapter", "__unregister_client",
    "device_for_each_child", "rollback_registered", "unregister_netdev", "sysfs_remove",
    "__free_pages", "^kfree_rcu", "^kref_put", "^kref_get",
    # file-system assertion helpers (XFS) that only say the caller is wrong
    "^assfail$", "^asswarn$", "assertfail$",
    # refcount drops that run the release path for the caller's object
    "dput$", "^iput$", "^ref_tracker_",
    # VFS state helpers whose WARN_ON says the caller's inode or buffer is wrong
    "^(?:drop|clear|inc|set)_nlink$", "^mark_buffer_dirty",
    # panic/warn plumbing and fortify checks
    "^print_tainted", "^check_panic_on_warn", "fortify_",
    # timer and workqueue plumbing
    "^lock_timer_base", "^(?:__)?mod_timer", "^add_timer", "insert_work", "queue_delayed_work",
    "mod_delayed_work",
    # page cache truncation walks the mapping the caller is tearing down
    "^find_(?:lock|get)_entries", "^truncate_inode_pages", "^truncate_pagecache",
    # unwinding noise and the unwinder itself
    "^__cfi_", "^__pfx_", "^ret_from_fork", "^ret_from_fork_asm", "walk_stackframe", "^unwind_",
    "^arch_stack_walk", "^stack_trace_", "^stack_depot", "^print_report",
    # freeing, atomics, bit operations, wait queues, generic data structures
    "^kfree", "^kvfree", "^atomic_", "^atomic64_", "^arch_atomic", "_atomic_dec_and_",
    "^(?:__)?test_and_(?:set|clear|change)_bit", "^(?:__)?(?:set|clear|change)_bit", "^test_bit",
    "__wake_up", "^wake_up_(?:bit|var|process|state|all)", "wait_for_completion", "^prepare_to_wait",
    "^xas_", "^xa_", "^klist_", "^crc[0-9_]", "^sg_(?:init|set|next|copy)",
    # port and MMIO accessors
    "^logic_(?:in|out)", "^(?:in|out)[bwl]$", "^io(?:read|write)(?:8|16|32|64)", "^__raw_(?:read|write)",
    # device and USB teardown helpers that only act on the caller's objects
    "usb_kill_urb", "usb_poison_urb", "tty_unregister_device", "^put_device", "^get_device",
)

# Syscall wrappers: "__x64_sys_foo" is "sys_foo", "__se_sys_foo" is "foo".
_STRIP_PREFIXES = (
    "__x64_", "__ia32_", "__arm64_", "__s390x_", "__s390_", "__riscv_", "__powerpc_",
    "__se_compat_sys_", "__do_compat_sys_", "compat_SYSC_", "compat_SyS_",
    "__se_sys_", "__do_sys_", "SYSC_", "SyS_",
)


def strip_frame(frame: str) -> str:
    for prefix in _STRIP_PREFIXES:
        if frame.startswith(prefix):
            frame = frame[len(prefix) :]
    return frame


_skip_cache: dict[tuple[str, ...], re.Pattern[str]] = {}


def skip_re(extra: tuple[str, ...]) -> re.Pattern[str]:
    pattern = _skip_cache.get(extra)
    if pattern is None:
        pattern = re.compile("|".join(SKIP_PATTERNS + extra))
        _skip_cache[extra] = pattern
    return pattern


def match_frame(text: str) -> list[str]:
    """Function names a stack line names (0, 1 or 2 for arm's "from" lines)."""
    for frame_re in FRAME_RES:
        m = frame_re.search(text)
        if m:
            return [g for g in m.groups() if g]
    # A WARNING's or BUG's trap shows the faulting function as a RIP line
    # in the middle of the trace, between the trap frames and its callers.
    m = RIP_FRAME.search(text)
    if m and m.group(1):
        return [m.group(1)]
    return []


def is_stack_start(text: str) -> bool:
    return any(k.search(text) for k in STACK_KEYWORDS)


def _append(frames: list[str], raw: list[str], skip: re.Pattern[str] | None, keep_raw: list[str]) -> None:
    for name in raw:
        if not name:
            continue
        name = demangle(name)
        keep_raw.append(name)
        if skip is None or not skip.search(name):
            frames.append(name)


def _run_parts(
    lines: list[str], parts: Iterable, skip: re.Pattern[str] | None, raw_out: list[str]
) -> tuple[list[str], bool]:
    """Walk the parts over the lines; return the non-generic frames in order and ok-ness.

    One cursor moves forward through the lines. A regex part consumes lines
    up to its match (all of them when it does not occur, as syzkaller does,
    so a truncated report stays "corrupted" rather than borrowing a frame
    from elsewhere). A fault-injection line abandons the current part: the
    report is flagged, and reading resumes with the next part.
    """
    parts = list(parts)
    frames: list[str] = []
    pos = 0
    n = len(lines)
    ok = True
    traces = 0
    i = 0
    while i < len(parts):
        part = parts[i]
        i += 1
        if part is PARSE_STACK:
            # A second trace is read only when the first gave nothing usable
            # (e.g. KMSAN: the use site, then where the value was created).
            if traces and frames:
                break
            traces += 1
            nxt = parts[i] if i < len(parts) else None
            seen = 0  # frame lines of this trace, generic or not
            while pos < n:
                ln = lines[pos]
                pos += 1
                if any(c.search(ln) for c in CORRUPTED_LINES):
                    ok = False
                    break
                if is_stack_start(ln):
                    if seen or frames:
                        break
                    continue  # "Call Trace:" right after a header opens this trace
                if nxt is not None and nxt is not PARSE_STACK:
                    m = nxt.search(ln)
                    if m:
                        _append(frames, [g for g in m.groups() if g], skip, raw_out)
                        i += 1
                        break
                names = match_frame(ln)
                seen += bool(names)
                _append(frames, names, skip, raw_out)
            continue
        while pos < n:
            ln = lines[pos]
            pos += 1
            if any(c.search(ln) for c in CORRUPTED_LINES):
                ok = False
                break
            m = part.search(ln)
            if m:
                _append(frames, [g for g in m.groups() if g], skip, raw_out)
                break
    return frames, ok


def extract_frame(stack: Stack, lines: list[str]) -> tuple[str, list[str], bool]:
    """(guilty frame or "", the raw frames seen, ok) for the report's stripped lines.

    ok is False when fault-injection output was spliced into the trace.
    """
    skip = skip_re(tuple(stack.skip))
    raw: list[str] = []
    all_ok = True
    for parts in (stack.parts, stack.parts2):
        if not parts:
            continue
        frames, ok = _run_parts(lines, parts, skip, raw)
        all_ok = all_ok and ok
        if frames:
            if stack.extractor is None:
                return frames[0], raw, all_ok
            frame, _ = stack.extractor(frames)
            if frame:
                return frame, raw, all_ok
    return "", raw, all_ok


# During stalls the CPU loops somewhere below a dispatcher; the interesting
# frame is the one just above the first generic dispatcher (syscall entry,
# ioctl/read/write switch, softirq, timer, workqueue, netlink, socket layer).
_STALL_ANCHORS = tuple(
    re.compile(p)
    for p in (
        r"^do_syscall_", r"^do_fast_syscall", r"^__do_fast_syscall", r"^entry_SYSCALL",
        r"^do_int80_syscall", r"^invoke_syscall", r"^el0_svc", r"^do_el0_svc", r"^ret_fast_syscall",
        # socket syscalls that dispatch to the protocol's handler
        r"^__sys_(?:setsockopt|getsockopt|connect|connect_file|bind|listen|accept4?)$",
        r"^do_vfs_ioctl", r"^vfs_ioctl", r"^ksys_ioctl", r"^ksys_(?:p?read|p?write)", r"^blkdev_ioctl",
        # compat wrappers translate arguments and call the native handler.
        r"compat_ioctl", r"^compat_blkdev_ioctl",
        r"^(?:__)?vfs_(?:read|write)$", r"^vfs_(?:readv|writev|iter_read|iter_write)$",
        r"^new_sync_(?:read|write)$", r"^do_iter_(?:read|write)$", r"^do_iter_readv_writev",
        r"^(?:__)?sock_sendmsg", r"^sock_recvmsg", r"^sock_(?:write|read)_iter",
        r"^rtnetlink_rcv_msg", r"^nfnetlink_rcv_msg", r"^__do_softirq", r"^handle_softirqs", r"^run_ksoftirqd",
        r"^__run_timers", r"^run_timer_softirq", r"^call_timer_fn", r"^expire_timers",
        r"^__run_hrtimer", r"^__hrtimer_run_queues", r"^tasklet_action", r"^tasklet_hi_action",
        r"^__tasklet_action", r"^process_one_work", r"^worker_thread", r"^kthread$",
        r"^ret_from_fork", r"^__netif_receive_skb", r"^netif_receive_skb", r"^process_backlog",
        r"^net_rx_action", r"^__napi_poll", r"^napi_poll", r"smp_call_function", r"^task_work_run",
        r"^exit_to_user_mode", r"^syscall_exit_to_user_mode",
    )
)


def stall_extractor(frames: list[str]) -> tuple[str, int]:
    prev = frames[0]
    for i, frame in enumerate(frames):
        if any(a.search(frame) for a in _STALL_ANCHORS):
            if "smp_call_function" in frame:
                # The IPI sender is the identity; its callers vary.
                return "smp_call_function", i
            if i == 0:
                return frame, 0
            return prev, i - 1
        prev = frame
    return "", -1


_HANG_ANCHORS = (
    ("rtnl_lock", ""),
    ("synchronize_rcu", "synchronize_rcu"),
    ("synchronize_srcu", "synchronize_rcu"),
    ("synchronize_net", "synchronize_rcu"),
    ("synchronize_sched", "synchronize_rcu"),
)
_HANG_SKIP = (
    "sched", "_lock", "_slowlock", "down", "rwsem", "completion", "kthread", "wait",
    "synchronize", "context_switch", "__switch_to", "cancel_delayed_work", "rcu_barrier",
)


def hang_extractor(frames: list[str]) -> tuple[str, int]:
    """Hung tasks block in a victim; group the two big buckets (RCU, RTNL) first."""
    for i, frame in enumerate(frames):
        for anchor, replacement in _HANG_ANCHORS:
            if anchor in frame:
                return (replacement or frame), i
    for i, frame in enumerate(frames):
        if not any(s in frame for s in _HANG_SKIP):
            return frame, i
    return "", -1
