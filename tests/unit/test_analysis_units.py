"""Small pieces: title sanitizing, frame naming, Rust demangling, line prefixes."""

from __future__ import annotations

from harness.analysis.demangle import demangle
from harness.analysis.lines import make_line
from harness.analysis.stack import strip_frame
from harness.analysis.table.stacks import hang_extractor, stall_extractor
from harness.analysis.report import title_frame
from harness.analysis.titles import sanitize


def test_sanitize_replaces_what_changes_between_runs():
    got = sanitize("KASAN: slab-out-of-bounds in f at addr ffff8801c1a2b3c4")
    assert got == "KASAN: slab-out-of-bounds in f at addr ADDR"
    assert sanitize("INFO: Allocated in g age=12 cpu=1 pid=5") == "INFO: Allocated in g age=NUM cpu=NUM pid=NUM"
    assert sanitize("WARNING in nl802154_add_llsec_key") == "WARNING in nl802154_add_llsec_key"
    assert sanitize("x in syz-executor.3/1234") == "x in syz-executor"
    # syzkaller drops control and non-ASCII bytes, and collapses spaces.
    assert sanitize("a\x00b\tc  d\u00e9") == "ab c d"
    assert sanitize("INFO: task \udcff\udcfeab:12 blocked") == "INFO: task ab:NUM blocked"
    # Each replacement runs until nothing changes.
    assert sanitize("x 1,2,3") == "x NUM,NUM,NUM"
    assert sanitize("y 10.1.2.3 z") == "y IP z"


def test_syscall_wrappers_are_named_as_syscalls():
    assert strip_frame("__x64_sys_rmdir") == "sys_rmdir"
    assert strip_frame("__se_sys_mremap") == "mremap"
    assert strip_frame("compat_SyS_mount") == "mount"
    assert strip_frame("pick_link") == "pick_link"
    # Each prefix is tried alone and the shortest result kept (not a chain).
    assert strip_frame("__do_sys_foo") == "foo"
    assert strip_frame("___sys_sendmsg") == "sendmsg"
    assert strip_frame("ksys_write") == "write"
    assert strip_frame("__ia32_compat_sys_x") == "compat_sys_x"


def test_stall_frame_is_above_the_dispatcher():
    frames = ["lock_acquire", "vcpu_enter_guest", "kvm_vcpu_ioctl", "do_vfs_ioctl", "ksys_ioctl"]
    assert stall_extractor(frames) == ("kvm_vcpu_ioctl", 2)
    assert stall_extractor(["csd_lock_wait", "smp_call_function_many_cond", "on_each_cpu"])[0] == "smp_call_function"
    assert stall_extractor(["a", "b"]) == ("", -1)


def test_hung_task_buckets():
    assert hang_extractor(["__schedule", "schedule", "synchronize_rcu_expedited", "f"])[0] == "synchronize_rcu"
    assert hang_extractor(["__schedule", "schedule", "rwsem_down_read_slowpath", "iterate_dir"])[0] == "iterate_dir"


def test_title_frame():
    assert title_frame("WARNING in umount_check") == "umount_check"
    assert title_frame("general protection fault in corrupted") is None
    rust = "<rust_binder::process::Process>::update_ref"
    assert title_frame(f"x in {rust}") == rust
    assert title_frame("BUG: workqueue lockup") is None


def test_rust_v0_demangling():
    assert demangle("_RNvMs3_NtCshgDM7dBCdno_11rust_binder7processNtB5_7Process10update_ref") == (
        "<rust_binder::process::Process>::update_ref"
    )
    assert demangle("_RNvNtCs9jEwPDbx20M_4core9panicking9panic_fmt") == "core::panicking::panic_fmt"
    assert demangle("_Rgarbage") == "_Rgarbage"
    assert demangle("pick_link") == "pick_link"


def test_line_prefixes():
    ln = make_line(7, "<4>[  12.345678][  T123]  pick_link+0x1/0x2\r")
    assert (ln.no, ln.text, ln.context, ln.questionable) == (7, " pick_link+0x1/0x2", "[  T123]", False)
    q = make_line(1, "[   1.0][    C1]  ? foo+0x1/0x2")
    assert (q.context, q.questionable, q.text) == ("[    C1]", True, " foo+0x1/0x2")
    # Without a timestamp nothing is stripped, and no frame is questionable.
    assert not make_line(1, "  ? foo+0x1/0x2").questionable
    assert make_line(1, "[ 1.0] bar+0x1/0x2 (unreliable)").questionable
    assert make_line(1, "[ 1.0]  ? foo+0x1/0x2 <EOI>").questionable is False
    assert make_line(1, "syzkaller login: [   16.3] INFO: x").text == "INFO: x"
    assert make_line(1, "plain text").context == ""
    assert make_line(1, "[ 1.0] stamped").context == "console"


def test_every_format_fills_its_placeholders():
    import re

    from harness.analysis.gore import go_re
    from harness.analysis.table import OOPSES

    for oops in OOPSES:
        for f in oops.formats:
            groups = go_re(f.report or f.title).groups
            if f.stack is not None:
                groups += 1 + sum(1 for i, p in enumerate(f.stack.parts) if i and p is f.stack.parts[0] and p is not None)
            for fmt in (f.fmt, *f.alt):
                used = [int(n) for n in re.findall(r"%\[(\d+)\]", fmt)]
                assert max(used, default=0) <= groups + 1, (oops.header, fmt)


def test_console_prefix_shortcut_agrees_with_the_full_pattern():
    from harness.analysis.lines import _CONSOLE_RE, context_of

    for raw in [
        "[   1.000000] plain",
        "[   1.000000][  T12] tagged",
        "<6>[   1.000000][    C1] leveled",
        "syzkaller login: [   1.000000][  T12] after a prompt",
        "** 3 printk messages dropped ** [   1.000000] after a drop",
        "no prefix [   1.000000] inside",
        "[x] not a timestamp",
    ]:
        m = _CONSOLE_RE.match(raw)
        assert context_of(raw) == ((m.group(1) or "console") if m else ""), raw
