"""Report types from titles, as syzkaller's crash.TitleToType.

Follows google/syzkaller pkg/report/crash (types.go, title_to_type.go) at
commit 1e72964b0111319984575e60f266d1fa0a98abb5: the same groups of title
prefixes in the same order, the first prefix a title starts with decides.
tests/unit/test_analysis_reference.py compares them with the reference.
"""

from __future__ import annotations

# syzkaller's Type constants: Go name -> the string a report carries.
TYPES = {
    "UnknownType": "",
    "AtomicSleep": "ATOMIC_SLEEP",
    "Bug": "BUG",
    "DoS": "DoS",
    "Hang": "HANG",
    "KASANInvalidFree": "KASAN-INVALID-FREE",
    "KASANNullPtrDerefRead": "KASAN-NULL-POINTER-DEREFERENCE-READ",
    "KASANNullPtrDerefWrite": "KASAN-NULL-POINTER-DEREFERENCE-WRITE",
    "KASANRead": "KASAN-READ",
    "KASANUnknown": "KASAN-UNKNOWN",
    "KASANUseAfterFreeRead": "KASAN-USE-AFTER-FREE-READ",
    "KASANUseAfterFreeWrite": "KASAN-USE-AFTER-FREE-WRITE",
    "KASANWrite": "KASAN-WRITE",
    "KCSANAssert": "KCSAN-ASSERT",
    "KCSANDataRace": "KCSAN-DATARACE",
    "KCSANUnknown": "KCSAN-UNKNOWN",
    "KFENCEInvalidFree": "KFENCE-INVALID-FREE",
    "KFENCEMemoryCorruption": "KFENCE-MEMORY-CORRUPTION",
    "KFENCERead": "KFENCE-READ",
    "KFENCEUnknown": "KFENCE-UNKNOWN",
    "KFENCEUseAfterFreeRead": "KFENCE-USE-AFTER-FREE-READ",
    "KFENCEUseAfterFreeWrite": "KFENCE-USE-AFTER-FREE-WRITE",
    "KFENCEWrite": "KFENCE-WRITE",
    "KMSANInfoLeak": "KMSAN-INFO-LEAK",
    "KMSANUninitValue": "KMSAN-UNINIT-VALUE",
    "KMSANUnknown": "KMSAN-UNKNOWN",
    "KMSANUseAfterFreeRead": "KMSAN-USE-AFTER-FREE-READ",
    "LockdepBug": "LOCKDEP",
    "MemoryLeak": "LEAK",
    "MemorySafetyBUG": "MEMORY_SAFETY_BUG",
    "MemorySafetyUBSAN": "MEMORY_SAFETY_UBSAN",
    "NullPtrDerefBUG": "NULL-POINTER-DEREFERENCE",
    "RefcountWARNING": "REFCOUNT_WARNING",
    "UBSAN": "UBSAN",
    "Warning": "WARNING",
    "LostConnection": "LOST_CONNECTION",
    "NoOutput": "NO_OUTPUT",
    "SyzFailure": "SYZ_FAILURE",
    "UnexpectedReboot": "REBOOT",
}

# (type name, title prefixes), in syzkaller's order.
TITLE_TO_TYPE = (
    (
        "KFENCEUseAfterFreeWrite",
        (
            "KFENCE: use-after-free write",
        ),
    ),
    (
        "KFENCEUseAfterFreeRead",
        (
            "KFENCE: use-after-free read",
            "KFENCE: use-after-free",
        ),
    ),
    (
        "KFENCEWrite",
        (
            "KFENCE: invalid write",
            "KFENCE: out-of-bounds write",
        ),
    ),
    (
        "KFENCERead",
        (
            "KFENCE: invalid read",
            "KFENCE: out-of-bounds read",
            "KFENCE: out-of-bounds",
        ),
    ),
    (
        "KFENCEMemoryCorruption",
        (
            "KFENCE: memory corruption",
        ),
    ),
    (
        "KFENCEInvalidFree",
        (
            "KFENCE: invalid free",
        ),
    ),
    (
        "KMSANUninitValue",
        (
            "KMSAN: uninit-value",
        ),
    ),
    (
        "KMSANUseAfterFreeRead",
        (
            "KMSAN: kernel-infoleak-after-free",
            "KMSAN: kernel-usb-infoleak-after-free",
            "KMSAN: use-after-free",
        ),
    ),
    (
        "KMSANInfoLeak",
        (
            "KMSAN: kernel-infoleak",
            "KMSAN: kernel-usb-infoleak",
        ),
    ),
    (
        "KASANNullPtrDerefWrite",
        (
            "KASAN: null-ptr-deref Write",
        ),
    ),
    (
        "KASANNullPtrDerefRead",
        (
            "KASAN: null-ptr-deref Read",
        ),
    ),
    (
        "NullPtrDerefBUG",
        (
            "BUG: unable to handle kernel NULL pointer dereference in",
        ),
    ),
    (
        "KASANWrite",
        (
            "KASAN: global-out-of-bounds Write",
            "KASAN: out-of-bounds Write",
            "KASAN: slab-out-of-bounds Write",
            "KASAN: stack-out-of-bounds Write",
            "KASAN: user-memory-access Write",
            "KASAN: vmalloc-out-of-bounds Write",
            "KASAN: wild-memory-access Write",
        ),
    ),
    (
        "KASANRead",
        (
            "KASAN: global-out-of-bounds Read",
            "KASAN: invalid-access Read",
            "KASAN: out-of-bounds Read",
            "KASAN: slab-out-of-bounds Read",
            "KASAN: slab-out-of-bounds",
            "KASAN: stack-out-of-bounds Read",
            "KASAN: stack-out-of-bounds",
            "KASAN: unknown-crash Read",
            "KASAN: user-memory-access Read",
            "KASAN: vmalloc-out-of-bounds Read",
            "KASAN: wild-memory-access Read",
            "KASAN: wild-memory-access",
        ),
    ),
    (
        "KASANInvalidFree",
        (
            "KASAN: double-free or invalid-free",
            "KASAN: invalid-free",
        ),
    ),
    (
        "KASANUseAfterFreeWrite",
        (
            "KASAN: slab-use-after-free Write",
            "KASAN: use-after-free Write",
        ),
    ),
    (
        "KASANUseAfterFreeRead",
        (
            "KASAN: slab-use-after-free Read",
            "KASAN: use-after-free Read",
            "KASAN: use-after-free",
        ),
    ),
    (
        "MemorySafetyBUG",
        (
            "BUG: corrupted list",
            "BUG: unable to handle kernel paging request",
        ),
    ),
    (
        "RefcountWARNING",
        (
            "WARNING: refcount bug",
        ),
    ),
    (
        "MemorySafetyUBSAN",
        (
            "UBSAN: array-index-out-of-bounds",
        ),
    ),
    (
        "KCSANDataRace",
        (
            "KCSAN: data-race",
        ),
    ),
    (
        "KCSANAssert",
        (
            "KCSAN: assert: race in",
        ),
    ),
    (
        "LockdepBug",
        (
            "BUG: bad unlock balance in",
            "BUG: held lock freed in",
            "BUG: rwlock",
            "BUG: spinlock",
            "BUG: still has locks held in",
            "BUG: using",
            "WARNING: bad unlock balance in",
            "WARNING: held lock freed in",
            "WARNING: lock held",
            "WARNING: locking bug in",
            "WARNING: nested lock was not taken in",
            "WARNING: still has locks held in",
            "WARNING: suspicious RCU usage in",
            "inconsistent lock state in",
            "possible deadlock in",
        ),
    ),
    (
        "AtomicSleep",
        (
            "BUG: scheduling while atomic in",
            "BUG: sleeping function called from invalid context in",
        ),
    ),
    (
        "MemoryLeak",
        (
            "memory leak in",
        ),
    ),
    (
        "Bug",
        (
            "BUG: bad usercopy in",
            "kernel BUG",
        ),
    ),
    (
        "Warning",
        (
            "WARNING in",
        ),
    ),
    (
        "UnknownType",
        (
            "BUG: stack guard page was hit in",
            "WARNING: corrupted",
            "WARNING: kernel stack frame pointer has bad value",
            "WARNING: kernel stack regs has bad",
        ),
    ),
    (
        "Hang",
        (
            "BUG: soft lockup in",
            "INFO: rcu detected stall in",
            "INFO: task can't die in",
            "INFO: task hung in",
        ),
    ),
    (
        "DoS",
        (
            "Alignment trap in",
            "BUG: Object already free",
            "Internal error in",
            "PANIC: double fault",
            "Unhandled fault in",
            "VFS: Busy inodes after unmount (use-after-free)",
            "VFS: Close: file count is zero (use-after-free)",
            "divide error in",
            "general protection fault in",
            "go runtime error",
            "int3 in",
            "invalid opcode in",
            "kernel panic:",
            "kernel stack overflow",
            "panic:",
            "rust_kernel panicked",
            "stack segment fault in",
            "trusty:",
            "unregister_netdevice: waiting for DEV to become free",
        ),
    ),
    (
        "NoOutput",
        (
            "no output from test machine",
        ),
    ),
    (
        "UnexpectedReboot",
        (
            "unexpected kernel reboot",
        ),
    ),
    (
        "SyzFailure",
        (
            "SYZFAIL",
            "SYZFATAL:",
        ),
    ),
    (
        "Warning",
        (
            "WARNING:",
        ),
    ),
    (
        "UnknownType",
        (
            "BUG:",
        ),
    ),
    (
        "UnknownType",
        (
            "INFO:",
        ),
    ),
    (
        "KASANUnknown",
        (
            "KASAN:",
        ),
    ),
    (
        "KFENCEUnknown",
        (
            "KFENCE:",
        ),
    ),
    (
        "KMSANUnknown",
        (
            "KMSAN:",
        ),
    ),
    (
        "UBSAN",
        (
            "UBSAN:",
        ),
    ),
    (
        "KCSANUnknown",
        (
            "KCSAN:",
        ),
    ),
)

# Harness-level titles syzkaller types outside its title table (its VM
# layer gives them these types); after the table, as a fallback.
HARNESS_TITLES = (("LostConnection", ("lost connection to test machine",)),)


def title_type(title: str) -> str:
    """The report type of a title ("" when syzkaller knows none)."""
    for name, prefixes in TITLE_TO_TYPE + HARNESS_TITLES:
        if title.startswith(prefixes):
            return TYPES[name]
    return ""
