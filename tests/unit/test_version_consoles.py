"""The families' reports as 6.1 prints them still get the families' titles.

Console formats moved between 6.1 and 6.12: KASAN says "use-after-free"
where 6.4+ says "slab-use-after-free", and x86's die() prints "Oops: 0010"
where 6.12 prints "Oops: Oops: 0010". The lines below follow 6.1.192's
format strings (mm/kasan/report_generic.c, arch/x86/kernel/dumpstack.c,
fs/dcache.c, kernel/watchdog.c); the analysis must title them as syzkaller
would, so a family whose bug exists on 6.1 is still found there.
"""

from harness import analysis

PREFIX = "[   40.1{n:05d}][ T1234] "


def console(lines: list[str]) -> bytes:
    return "\n".join(PREFIX.format(n=i) + line for i, line in enumerate(lines)).encode() + b"\n"


TRACE = ["Call Trace:", " <TASK>"]
END = [" do_syscall_64+0x38/0x90", " entry_SYSCALL_64_after_hwframe+0x63/0xcd", " </TASK>"]


def titles(lines):
    return [r.title for r in analysis.analyze(console(lines))]


def test_6_1_kasan_use_after_free_in_f_show():
    got = titles([
        "==================================================================",
        "BUG: KASAN: use-after-free in f_show+0x5bf/0x640",
        "Read of size 8 at addr ffff888012345678 by task kprobe-churn/1300",
        "",
        "CPU: 0 PID: 1300 Comm: kprobe-churn Not tainted 6.1.192 #1",
        *TRACE, " dump_stack_lvl+0x5b/0x77", " print_report+0x178/0x4b0", " kasan_report+0xad/0x130",
        " f_show+0x5bf/0x640", " seq_read_iter+0x2b8/0xb70", " seq_read+0x17b/0x1f0", " vfs_read+0x15f/0x4f0",
        *END, "", "Allocated by task 1301:", " trace_probe_init+0x6a/0x2e0", "",
        "Freed by task 1302:", " kfree+0x8f/0x1a0", " trace_probe_unlink+0x1a1/0x1f0", "",
        "==================================================================",
    ])
    assert got == ["KASAN: use-after-free Read in f_show"]


def test_6_1_null_get_link_in_pick_link_with_the_old_oops_line():
    got = titles([
        "BUG: kernel NULL pointer dereference, address: 0000000000000000",
        "#PF: supervisor instruction fetch in kernel mode",
        "#PF: error_code(0x0010) - not-present page",
        "PGD 0 P4D 0 ",
        "Oops: 0010 [#1] PREEMPT SMP KASAN NOPTI",
        "CPU: 1 PID: 1234 Comm: symlink-reclaim Not tainted 6.1.192 #1",
        "RIP: 0010:0x0",
        "Code: Unable to access opcode bytes at 0xffffffffffffffd6.",
        *TRACE, " pick_link+0x3a1/0xd40", " step_into+0x5e2/0xc20", " walk_component+0x11e/0x4c0",
        " path_lookupat+0x160/0x630", " filename_lookup+0x1a0/0x3f0", " vfs_statx+0xc1/0x390", *END,
    ])
    assert len(got) == 1 and got[0].endswith("in pick_link") and "NULL pointer dereference" in got[0]


def test_6_1_dentry_still_in_use_at_unmount():
    got = titles([
        "------------[ cut here ]------------",
        "BUG: Dentry 00000000a1b2c3d4{i=2,n=dir}  still in use (1) [unmount of xfs vdb]",
        "WARNING: CPU: 1 PID: 1234 at fs/dcache.c:1675 umount_check+0x6f/0x90",
        "CPU: 1 PID: 1234 Comm: umount Not tainted 6.1.192 #1",
        "RIP: 0010:umount_check+0x6f/0x90",
        *TRACE, " d_walk+0x1d3/0x6a0", " shrink_dcache_for_umount+0x8b/0x1a0",
        " generic_shutdown_super+0x6a/0x3a0", " kill_block_super+0x5f/0xa0", *END,
        "---[ end trace 0000000000000000 ]---",
    ])
    assert got and "still in use" in got[0]


def test_6_1_soft_lockup_in_the_fsnotify_walk():
    got = titles([
        "watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [negdentry-inoti:1234]",
        "CPU: 1 PID: 1234 Comm: negdentry-inoti Not tainted 6.1.192 #1",
        "RIP: 0010:fsnotify_set_children_dentry_flags+0x9b/0x170",
        *TRACE, " fsnotify_recalc_mask+0x8e/0xa0", " fsnotify_add_mark_locked+0x2f1/0x4c0",
        " inotify_update_watch+0x1a6/0x3c0", " __x64_sys_inotify_add_watch+0x1ad/0x260", *END,
    ])
    # syzkaller skips fsnotify frames (they are in every fs stack): the title names the syscall.
    assert got == ["BUG: soft lockup in sys_inotify_add_watch"]
