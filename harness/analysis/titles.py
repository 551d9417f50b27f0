"""Title clean-up and the report type a title implies.

``sanitize`` follows syzkaller's dynamicTitleReplacement and sanitizeTitle
(pkg/report/report.go at commit 1e72964b0111319984575e60f266d1fa0a98abb5):
each replacement is applied until the title stops changing, then the title
is cut to 120 bytes, control and non-ASCII bytes are dropped, tabs become
spaces and runs of spaces collapse.
"""

from __future__ import annotations

import re

# (pattern, replacement) in syzkaller's order; "${1}" is written "\1".
DYNAMIC = (
    (r"syz-executor\.?[0-9]+((/|:)[0-9]+)?", "syz-executor"),
    (r"syzkaller[0-9]+((/|:)[0-9]+)?", "syzkaller"),
    (r"([^a-zA-Z0-9])(?:0x)?[0-9a-f]{6,}", r"\1ADDR"),
    (r"([0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3})", "IP"),
    (r"(\.\w+)(:[0-9]+)+", r"\1:LINE"),
    (r"([a-zA-Z][a-zA-Z0-9_.]+)\+0x[0-9a-z]+/0x[0-9a-z]+", r"\1"),
    (r"CPU#[0-9]+", "CPU"),
    (r"(\W)(\d+)(\W|$)", r"\1NUM\3"),
    (r"(\d+){7,}", "NUM"),
)
_DYNAMIC = tuple((re.compile(p.replace("$", "\\Z"), re.ASCII), r) for p, r in DYNAMIC)
MAX_TITLE = 120


def replace_dynamic(title: str) -> str:
    for pattern, repl in _DYNAMIC:
        while True:
            new = pattern.sub(repl, title)
            if new == title:
                break
            title = new
    return title


_sanitized: dict[str, str] = {}


def sanitize(title: str) -> str:
    """A title as syzkaller stores it (text decoded with surrogateescape keeps odd bytes as bytes)."""
    done = _sanitized.get(title)
    if done is None:
        if len(_sanitized) > 50_000:
            _sanitized.clear()
        done = _sanitized[title] = _sanitize(title)
    return done


def _sanitize(title: str) -> str:
    raw = replace_dynamic(title).encode("utf-8", "surrogateescape")[:MAX_TITLE]
    out = bytearray()
    prev = 0x20
    for ch in raw:
        if ch == 0x09:
            ch = 0x20
        elif ch < 0x20 or ch >= 0x7F:
            continue
        if ch == 0x20 and prev == 0x20:
            continue
        out.append(ch)
        prev = ch
    return out.decode("ascii").strip()


# Title prefix -> report type (syzkaller's crash types), first match wins.
_TYPES = (
    ("KASAN: use-after-free Read", "KASAN-USE-AFTER-FREE-READ"),
    ("KASAN: slab-use-after-free Read", "KASAN-USE-AFTER-FREE-READ"),
    ("KASAN: use-after-free Write", "KASAN-USE-AFTER-FREE-WRITE"),
    ("KASAN: slab-use-after-free Write", "KASAN-USE-AFTER-FREE-WRITE"),
    ("KASAN: null-ptr-deref Read", "KASAN-NULL-POINTER-DEREFERENCE-READ"),
    ("KASAN: null-ptr-deref Write", "KASAN-NULL-POINTER-DEREFERENCE-WRITE"),
    ("KASAN: invalid-free", "KASAN-INVALID-FREE"),
    ("KASAN: double-free", "KASAN-INVALID-FREE"),
    ("KASAN: ", None),  # Read/Write decided below
    ("KMSAN: kernel-infoleak", "KMSAN-INFO-LEAK"),
    ("KMSAN: kernel-usb-infoleak", "KMSAN-INFO-LEAK"),
    ("KMSAN: uninit-value", "KMSAN-UNINIT-VALUE"),
    ("KMSAN: use-after-free", "KMSAN-USE-AFTER-FREE"),
    ("KCSAN: data-race", "KCSAN-DATARACE"),
    ("KCSAN: assert", "KCSAN-ASSERT"),
    ("KFENCE: use-after-free read", "KFENCE-USE-AFTER-FREE-READ"),
    ("KFENCE: use-after-free write", "KFENCE-USE-AFTER-FREE-WRITE"),
    ("KFENCE: invalid free", "KFENCE-INVALID-FREE"),
    ("KFENCE: memory corruption", "KFENCE-MEMORY-CORRUPTION"),
    ("KFENCE: invalid read", "KFENCE-READ"),
    ("KFENCE: out-of-bounds read", "KFENCE-READ"),
    ("KFENCE: invalid write", "KFENCE-WRITE"),
    ("KFENCE: out-of-bounds write", "KFENCE-WRITE"),
    ("BUG: unable to handle kernel NULL pointer dereference", "NULL-POINTER-DEREFERENCE"),
    ("BUG: unable to handle kernel paging request", "MEMORY_SAFETY_BUG"),
    ("BUG: corrupted list", "MEMORY_SAFETY_BUG"),
    ("BUG: unable to handle kernel", "MEMORY_SAFETY_BUG"),
    ("UBSAN: array-index-out-of-bounds", "MEMORY_SAFETY_UBSAN"),
    ("UBSAN: ", "UBSAN"),
    ("BUG: soft lockup", "HANG"),
    ("INFO: rcu detected stall", "HANG"),
    ("INFO: task hung", "HANG"),
    ("INFO: task can't die", "HANG"),
    ("BUG: workqueue lockup", "HANG"),
    ("BUG: scheduling while atomic", "ATOMIC_SLEEP"),
    ("BUG: sleeping function called from invalid context", "ATOMIC_SLEEP"),
    ("BUG: spinlock", "LOCKDEP"),
    ("BUG: rwlock", "LOCKDEP"),
    ("BUG: bad unlock balance", "LOCKDEP"),
    ("BUG: held lock freed", "LOCKDEP"),
    ("BUG: still has locks held", "LOCKDEP"),
    ("BUG: using ", "LOCKDEP"),
    ("WARNING: bad unlock balance", "LOCKDEP"),
    ("WARNING: held lock freed", "LOCKDEP"),
    ("WARNING: locking bug", "LOCKDEP"),
    ("WARNING: still has locks held", "LOCKDEP"),
    ("WARNING: nested lock was not taken", "LOCKDEP"),
    ("WARNING: lock held", "LOCKDEP"),
    ("WARNING: suspicious RCU usage in", "LOCKDEP"),
    ("possible deadlock", "LOCKDEP"),
    ("inconsistent lock state", "LOCKDEP"),
    ("BUG: bad usercopy", "BUG"),
    ("kernel BUG", "BUG"),
    ("WARNING: refcount bug", "REFCOUNT_WARNING"),
    ("WARNING", "WARNING"),
    ("memory leak", "LEAK"),
    ("SYZFAIL", "SYZ_FAILURE"),
    ("SYZFATAL", "SYZ_FAILURE"),
    ("lost connection to test machine", "LOST_CONNECTION"),
    ("no output from test machine", "NO_OUTPUT"),
    ("unexpected kernel reboot", "UNEXPECTED_REBOOT"),
    ("general protection fault", "DoS"),
    ("kernel panic", "DoS"),
    ("PANIC", "DoS"),
    ("divide error", "DoS"),
    ("Internal error", "DoS"),
    ("Unhandled fault", "DoS"),
    ("Alignment trap", "DoS"),
    ("trusty", "DoS"),
    ("VFS:", "DoS"),
    ("BUG: Object already free", "DoS"),
)


def report_type(title: str) -> str:
    for prefix, kind in _TYPES:
        if title.startswith(prefix):
            if kind is None:  # KASAN: by access direction
                return "KASAN-WRITE" if " Write" in title else "KASAN-READ"
            return kind
    return "BUG" if title.startswith("BUG:") else ""
