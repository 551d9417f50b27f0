"""Stack shapes and frame extractors, as syzkaller's linux.go defines them.

Follows google/syzkaller pkg/report/linux.go at commit
1e72964b0111319984575e60f266d1fa0a98abb5: warningStackFmt,
linuxStallFrameExtractor with linuxStallAnchorFrames, and
linuxHangTaskFrameExtractor. One helper per stack shape the tables use.
"""

from __future__ import annotations

from harness.analysis.gore import expand, go_re
from harness.analysis.oops import PARSE_STACK, Extractor, Stack
from harness.analysis.table.params import CALL_TRACE, RIP_FRAME


def warning_stack(*skip: str) -> Stack:
    """A WARNING: newer kernels trap, and the stack starts at the trap's RIP
    (powerpc: "--- interrupt:"); older kernels only print a call trace."""
    return Stack(
        parts=("(?:" + expand(RIP_FRAME) + "|--- interrupt: [0-9]+ at {{FUNC}})", PARSE_STACK),
        parts2=(CALL_TRACE, PARSE_STACK),
        skip=skip,
    )


def trace(*skip: str, extractor: Extractor | None = None) -> Stack:
    """The first frames after "Call Trace:"."""
    return Stack(parts=(CALL_TRACE, PARSE_STACK), skip=skip, extractor=extractor)


def rip_trace(*skip: str, extractor: Extractor | None = None) -> Stack:
    """The faulting PC line's function, then the call trace after it."""
    return Stack(parts=(RIP_FRAME, CALL_TRACE, PARSE_STACK), skip=skip, extractor=extractor)


def rip_only() -> Stack:
    """Only the faulting PC line's function."""
    return Stack(parts=(RIP_FRAME,))


# The frames a stall or a stack overflow is named before: generic
# dispatchers (syscall entry, softirq, timers, workqueues, kthreads) and the
# discriminating entries (file and socket operations, ioctl, mmap, open,
# netlink, page fault, task work). The frame just above the first of them is
# the one that loops or recurses.
STALL_ANCHORS = (
    "process_one_work",
    "do_syscall_",
    "do_fast_syscall_",
    "sysenter_dispatch",
    "tracesys_phase2",
    "el0_svc_handler",
    "invoke_syscall",
    "ret_fast_syscall",
    "netif_receive_skb",
    "do_softirq",
    "call_timer_fn",
    "_run_timers",
    "run_timer_softirq",
    "hrtimer_run",
    "run_ksoftirqd",
    "smpboot_thread_fn",
    "^kthread$",
    "start_secondary",
    "cpu_startup_entry",
    "ret_from_fork",
    "vfs_write",
    "vfs_read",
    "vfs_iter_read",
    "vfs_iter_write",
    "do_iter_read",
    "do_iter_write",
    "call_read_iter",
    "call_write_iter",
    "new_sync_read",
    "new_sync_write",
    "vfs_ioctl",
    "ksys_ioctl",
    "compat_ioctl",
    "compat_sys_ioctl",
    "blkdev_driver_ioctl",
    "blkdev_ioctl",
    "^call_read_iter",
    "^call_write_iter",
    "do_iter_readv_writev",
    "^call_mmap",
    "mmap_region",
    "do_mmap",
    "do_dentry_open",
    "vfs_open",
    "^sock_sendmsg",
    "^sock_recvmsg",
    "^sock_release",
    "^__sock_release",
    "^setsockopt$",
    "kernel_setsockopt",
    "sock_common_setsockopt",
    "^listen$",
    "kernel_listen",
    "sk_common_release",
    "^sock_mmap",
    "^accept$",
    "kernel_accept",
    "^sock_do_ioctl",
    "^sock_ioctl",
    "^compat_sock_ioctl",
    "^nfnetlink_rcv_msg",
    "^rtnetlink_rcv_msg",
    "^netlink_dump",
    "^(sys_)?(socketpair|connect|ioctl)",
    "__do_fault",
    "do_page_fault",
    "^page_fault$",
    "__fput",
    "task_work_run",
    "exit_to_usermode",
    "smp_call_function",
    "tasklet_action",
    "tasklet_hi_action",
)


def stall_extractor(frames: list[str]) -> tuple[str, int]:
    """The frame before the first anchor (the IPI sender itself for smp_call_function)."""
    anchors = go_re("|".join(f"(?:{a})" for a in STALL_ANCHORS))
    prev, prev_idx = frames[0], 0
    for i, frame in enumerate(frames):
        if anchors.search(frame):
            if "smp_call_function" in frame:
                # Its callers vary; the IPI sender is the identity.
                prev, prev_idx = "smp_call_function", i
            return prev, prev_idx
        prev, prev_idx = frame, i
    return "", -1


_SYNCHRONIZE_RCU = "synchronize_rcu"
# A hung task waits at random victim frames; two big buckets are named by
# what they wait for, whatever the caller.
HANG_ANCHORS = {
    "rtnl_lock": "",
    "synchronize_rcu": _SYNCHRONIZE_RCU,
    "synchronize_srcu": _SYNCHRONIZE_RCU,
    "synchronize_net": _SYNCHRONIZE_RCU,
    "synchronize_sched": _SYNCHRONIZE_RCU,
}
HANG_SKIP = (
    "sched", "_lock", "_slowlock", "down", "rwsem", "completion", "kthread",
    "wait", "synchronize", "context_switch", "__switch_to", "cancel_delayed_work",
    "rcu_barrier",
)


def hang_extractor(frames: list[str]) -> tuple[str, int]:
    for i, frame in enumerate(frames):
        for anchor, replacement in HANG_ANCHORS.items():
            if anchor in frame:
                return (replacement or frame), i
    for i, frame in enumerate(frames):
        if not any(s in frame for s in HANG_SKIP):
            return frame, i
    return "", -1
