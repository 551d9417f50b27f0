"""Rule table: one-line events: a reboot, a leaked netdev, old VFS refcount checks.

Follows google/syzkaller pkg/report/linux.go (linuxOopses) at commit
1e72964b0111319984575e60f266d1fa0a98abb5, entry by entry and in order;
tests/unit/test_analysis_reference.py compares them.
"""

from __future__ import annotations

from harness.analysis.oops import Format, Oops

BOOTING = Oops(
    "Booting the kernel.",
    (
        Format(
            title="^Booting the kernel",
            fmt="unexpected kernel reboot",
            no_stack_trace=True,
        ),
    ),
    suppressions=("Parsing ELF|Decompressing Linux|Unknown parameter '",),
)

UNREGISTER_NETDEVICE = Oops(
    "unregister_netdevice: waiting for",
    (
        Format(
            title="unregister_netdevice: waiting for (?:.*) to become free",
            fmt="unregister_netdevice: waiting for DEV to become free",
            no_stack_trace=True,
        ),
    ),
)

VFS_CLOSE = Oops(
    "VFS: Close: file count is 0",
    (
        Format(
            title="VFS: Close: file count is 0",
            fmt="VFS: Close: file count is zero (use-after-free)",
            no_stack_trace=True,
        ),
    ),
)

VFS_BUSY_INODES = Oops(
    "VFS: Busy inodes after unmount",
    (
        Format(
            title="VFS: Busy inodes after unmount",
            fmt="VFS: Busy inodes after unmount (use-after-free)",
            no_stack_trace=True,
        ),
    ),
)
