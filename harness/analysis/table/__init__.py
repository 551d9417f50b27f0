"""The header table, assembled in syzkaller's order.

Follows google/syzkaller pkg/report at commit
1e72964b0111319984575e60f266d1fa0a98abb5: linuxOopses (linux.go), which
ends with the Go runtime group and then commonOopses (report.go). Order
matters: on a line that carries several headers, the first entry here wins.
One module per header family; each table names the commit beside it.
"""

from __future__ import annotations

from harness.analysis.oops import Oops
from harness.analysis.table import bug, common, events, faults, info, panics, traps, warning
from harness.analysis.table.params import REFERENCE_COMMIT

OOPSES: tuple[Oops, ...] = (
    bug.BUG,
    warning.WARNING,
    info.INFO,
    faults.UNABLE_TO_HANDLE,
    faults.GENERAL_PROTECTION_FAULT,
    faults.STACK_SEGMENT,
    panics.KERNEL_PANIC,
    panics.DOUBLE_FAULT,
    panics.RUST_PANIC,
    panics.KERNEL_BUG,
    panics.KERNEL_BUG_CAPITAL,
    panics.BUG_KMALLOC,
    traps.DIVIDE_ERROR,
    traps.DIVIDE_ERROR_MISSPELLED,
    traps.INVALID_OPCODE,
    traps.INT3,
    traps.UBSAN,
    events.BOOTING,
    events.UNREGISTER_NETDEVICE,
    events.VFS_CLOSE,
    events.VFS_BUSY_INODES,
    faults.INTERNAL_ERROR,
    faults.UNHANDLED_FAULT,
    faults.ALIGNMENT_TRAP,
    panics.TRUSTY,
    common.GO_RUNTIME,
    common.SYZFAIL,
    common.SYZFATAL,
    common.PANIC,
)

__all__ = ["OOPSES", "REFERENCE_COMMIT"]
