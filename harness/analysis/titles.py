"""Report text -> title: format matching, title arguments, sanitizing, alt titles, type."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from harness.analysis.frames import extract_frame, strip_frame
from harness.analysis.oops import Format, Oops

CORRUPTED = "corrupted"


@dataclass
class Description:
    title: str
    corrupted_reason: str = ""
    alt_titles: list[str] = field(default_factory=list)
    format: Format | None = None
    frame: str = ""  # the guilty frame as printed, "" when none could be trusted


def _fill(fmt: str, args: list[str]) -> str:
    return fmt.format("", *args)


def frame_variants(frame: str) -> list[str]:
    """The frame as titled first, then as printed, then any half-stripped form."""
    out = [strip_frame(frame)]
    # "__se_sys_mremap" also answers to "sys_mremap": syzkaller lists both as alts.
    for prefix in ("__se_", "__do_", "compat_"):
        if frame.startswith(prefix):
            out.append(frame[len(prefix) :])
    out.append(frame)
    return list(dict.fromkeys(out))


def describe(text: str, oops: Oops) -> Description:
    """Title the report whose text (stripped lines, header first) is ``text``."""
    start = len(text) + 1
    best: Description | None = None
    matched_title = False
    for f in oops.formats:
        m = f.title.search(text)
        if m is None or m.start() > start:
            continue
        if m.start() == start and best is not None:
            continue
        if m.start() < start:
            best, start = None, m.start()
        matched_title = True
        if f.report is not None:
            m = f.report.search(text)
            if m is None:
                continue
        args = [g or "" for g in m.groups()]
        corrupted = ""
        frame = ""
        if f.stack is not None:
            frame, _, ok = extract_frame(f.stack, text[m.start() :].split("\n"))
            if not frame:
                corrupted = "no stack frame could be extracted"
            elif not ok:
                corrupted = "fault injection output is spliced into the stack trace"
        variants = frame_variants(frame) if frame else [CORRUPTED]
        if f.stack is not None:
            title = _fill(f.fmt, args + [variants[0]])
            alts = [_fill(f.fmt, args + [v]) for v in variants[1:]]
            alts += [_fill(a, args + [v]) for a in f.alt for v in variants]
        else:
            title = _fill(f.fmt, args)
            alts = [_fill(a, args) for a in f.alt]
        best = Description(title.strip(), corrupted, [a for a in dict.fromkeys(alts) if a != title], f, frame)
    if best is None:
        # An unknown variant of a known header: the header line is the title.
        pos = text.find(oops.header)
        line = text[pos:].split("\n", 1)[0] if pos >= 0 else text.split("\n", 1)[0]
        reason = "header matched a format but its report regex did not" if matched_title else ""
        best = Description(line.strip(), reason)
    if not best.corrupted_reason and best.format is not None and best.format.corrupted:
        best.corrupted_reason = "the report's first line was lost"
    return best


# Parts of titles that differ between runs of one bug.
_DYNAMIC = tuple(
    (re.compile(p), r)
    for p, r in (
        (r"syz-executor\.?[0-9]+((/|:)[0-9]+)?", "syz-executor"),
        (r"syzkaller[0-9]+((/|:)[0-9]+)?", "syzkaller"),
        (r"([^a-zA-Z0-9])(?:0x)?[0-9a-f]{6,}", r"\1ADDR"),
        (r"([^a-zA-Z0-9])(?:[0-9]{1,3}\.){3}[0-9]{1,3}", r"\1IP"),
        (r"(\.\w+)(:[0-9]+)+", r"\1:LINE"),
        (r"([a-zA-Z][a-zA-Z0-9_.]+)\+0x[0-9a-z]+/0x[0-9a-z]+", r"\1"),
        (r"CPU#[0-9]+", "CPU"),
        # Twice: "0,1,2" overlaps.
        (r"(\W)(\d+)(\W|$)", r"\1NUM\3"),
        (r"(\W)(\d+)(\W|$)", r"\1NUM\3"),
        # Digits inside names (nl802154) stay, unless too long to be a name.
        (r"\d{7,}", "NUM"),
    )
)
MAX_TITLE = 120


_UNPRINTABLE = re.compile("[\x00-\x1f\x7f\ufffd]+")


def sanitize(title: str) -> str:
    title = _UNPRINTABLE.sub(" ", title)
    for pattern, repl in _DYNAMIC:
        title = pattern.sub(repl, title)
    title = " ".join(title.split()) if "\t" in title or "  " in title else title.strip()
    return title[:MAX_TITLE]


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
