"""The seed bug families (docs/bugs.md) as the console prints them, titled right."""

from __future__ import annotations

from harness.analysis import analyze

# Family 1: eventfs/tracefs use-after-free (b63db58e2fa5), a KASAN report from a task.
EVENTFS_KASAN = """\
[  812.501230][ T4321] ==================================================================
[  812.502114][ T4321] BUG: KASAN: slab-use-after-free in tracing_open_file_tr+0x3a/0x1f0
[  812.503001][ T4321] Read of size 8 at addr ffff888012345678 by task stress-eventfs/4321
[  812.503002][ T4321]
[  812.503550][ T4321] CPU: 1 UID: 0 PID: 4321 Comm: stress-eventfs Not tainted 6.12.117 #1
[  812.504100][ T4321] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
[  812.504101][ T4321] Call Trace:
[  812.504102][ T4321]  <TASK>
[  812.504103][ T4321]  dump_stack_lvl+0x76/0xa0
[  812.504104][ T4321]  print_report+0xd1/0x670
[  812.504105][ T4321]  ? __virt_addr_valid+0x5e/0x1a0
[  812.504106][ T4321]  kasan_report+0xd6/0x120
[  812.504107][ T4321]  ? tracing_open_file_tr+0x3a/0x1f0
[  812.504108][ T4321]  tracing_open_file_tr+0x3a/0x1f0
[  812.504109][ T4321]  do_dentry_open+0x2c2/0xb70
[  812.504110][ T4321]  vfs_open+0x4d/0x1c0
[  812.504111][ T4321]  path_openat+0xcf3/0x2d20
[  812.504112][ T4321]  do_filp_open+0x1a6/0x3f0
[  812.504113][ T4321]  do_sys_openat2+0x120/0x160
[  812.504114][ T4321]  __x64_sys_openat+0x11f/0x1d0
[  812.504115][ T4321]  do_syscall_64+0x82/0x170
[  812.504116][ T4321]  entry_SYSCALL_64_after_hwframe+0x76/0x7e
[  812.504117][ T4321]  </TASK>
[  812.504118][ T4321]
[  812.504119][ T4321] Allocated by task 4300:
[  812.504120][ T4321]  kasan_save_stack+0x24/0x50
[  812.504121][ T4321]  kmem_cache_alloc_noprof+0x10e/0x2b0
[  812.504122][ T4321]  trace_create_new_event+0x2f/0x270
[  812.504123][ T4321]
[  812.504124][ T4321] Freed by task 4310:
[  812.504125][ T4321]  kasan_save_stack+0x24/0x50
[  812.504126][ T4321]  kmem_cache_free+0x12e/0x480
[  812.504127][ T4321]  event_file_put+0x5c/0x80
[  812.504128][ T4321]  remove_event_file_dir+0x112/0x1b0
[  812.504129][ T4321]  __trace_remove_event_call+0x10e/0x1d0
[  812.504130][ T4321]  trace_remove_event_call+0x4c/0x80
[  812.504131][ T4321]  synth_event_release+0x44/0x90
[  812.504132][ T4321]  dyn_events_release_all+0x125/0x1d0
[  812.504133][ T4321]  synth_events_open+0x5e/0x70
[  812.504134][ T4321]
[  812.504135][ T4321] The buggy address belongs to the object at ffff888012345600
[  812.504136][ T4321]  which belongs to the cache trace_event_file of size 88
[  812.504137][ T4321] ==================================================================
"""

# Family 2: the XFS symlink/inode-reuse race: a jump through a NULL ->get_link.
PICK_LINK_NULL = """\
[ 2031.118204] BUG: kernel NULL pointer dereference, address: 0000000000000000
[ 2031.118910] #PF: supervisor instruction fetch in kernel mode
[ 2031.119433] #PF: error_code(0x0010) - not-present page
[ 2031.119921] PGD 0 P4D 0
[ 2031.120188] Oops: Oops: 0010 [#1] PREEMPT SMP NOPTI
[ 2031.120650] CPU: 0 UID: 0 PID: 812 Comm: rcuwalk Not tainted 6.12.117 #1
[ 2031.121274] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
[ 2031.122120] RIP: 0010:0x0
[ 2031.122417] Code: Unable to access opcode bytes at 0xffffffffffffffd6.
[ 2031.123000] RSP: 0018:ffffc90000c3bc58 EFLAGS: 00010246
[ 2031.123501] RAX: 0000000000000000 RBX: ffffc90000c3bd30 RCX: 0000000000000000
[ 2031.124180] Call Trace:
[ 2031.124401]  <TASK>
[ 2031.124601]  ? __die+0x1e/0x60
[ 2031.124890]  ? page_fault_oops+0x17b/0x4a0
[ 2031.125250]  ? exc_page_fault+0x6d/0x150
[ 2031.125601]  ? asm_exc_page_fault+0x26/0x30
[ 2031.125950]  pick_link+0x1b8/0x3a0
[ 2031.126300]  step_into+0x2f7/0x730
[ 2031.126650]  link_path_walk.part.0.constprop.0+0x25b/0x3a0
[ 2031.127100]  path_lookupat+0x3e/0x1a0
[ 2031.127450]  filename_lookup+0xde/0x1d0
[ 2031.127800]  vfs_statx+0x8d/0x170
[ 2031.128150]  vfs_fstatat+0x85/0xb0
[ 2031.128500]  __do_sys_newfstatat+0x3f/0x80
[ 2031.128850]  do_syscall_64+0x82/0x170
[ 2031.129200]  entry_SYSCALL_64_after_hwframe+0x76/0x7e
[ 2031.129550]  </TASK>
[ 2031.129800] Modules linked in:
[ 2031.130050] CR2: 0000000000000000
[ 2031.130300] ---[ end trace 0000000000000000 ]---
"""

# Family 3: an inotify_add_watch walk over millions of negative dentries.
FSNOTIFY_SOFT_LOCKUP = """\
[  388.002511] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [inotify-storm:733]
[  388.003180] Modules linked in:
[  388.003400] CPU: 0 UID: 0 PID: 733 Comm: inotify-storm Not tainted 6.12.117 #1
[  388.004000] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014
[  388.004800] RIP: 0010:fsnotify_set_children_dentry_flags+0x5e/0x120
[  388.005400] Code: 48 8b 5b 08 48 85 db 74 2a 48 8d 7b 80 e8 c1 2f 00 00 <48> 8b 43 80 a8 08 75 e4
[  388.006000] RSP: 0018:ffffc900009b7d88 EFLAGS: 00000246
[  388.006500] Call Trace:
[  388.006700]  <IRQ>
[  388.006900]  ? watchdog_timer_fn+0x1e0/0x260
[  388.007200]  ? __hrtimer_run_queues+0x10f/0x2a0
[  388.007500]  ? hrtimer_interrupt+0xf6/0x230
[  388.007800]  </IRQ>
[  388.008000]  <TASK>
[  388.008200]  ? asm_sysvec_apic_timer_interrupt+0x1a/0x20
[  388.008500]  ? fsnotify_set_children_dentry_flags+0x5e/0x120
[  388.008800]  fsnotify_recalc_mask+0x5c/0x70
[  388.009100]  fsnotify_add_mark_locked+0x2c6/0x4a0
[  388.009400]  inotify_new_watch+0xd5/0x150
[  388.009700]  __x64_sys_inotify_add_watch+0x173/0x1d0
[  388.010000]  do_syscall_64+0x82/0x170
[  388.010300]  entry_SYSCALL_64_after_hwframe+0x76/0x7e
[  388.010600]  </TASK>
"""

# Family 4: a leaked dentry found at unmount, then the busy inodes it pins.
DENTRY_IN_USE = """\
[ 1595.197339] BUG: Dentry 000000005f5e7197{i=67,n=nfs}  still in use (2) [unmount of rpc_pipefs rpc_pipefs]
[ 1595.198000] ------------[ cut here ]------------
[ 1595.198500] WARNING: CPU: 1 PID: 1 at fs/dcache.c:1550 umount_check+0x8e/0xa0
[ 1595.199000] Modules linked in:
[ 1595.199200] CPU: 1 UID: 0 PID: 1 Comm: systemd-shutdow Not tainted 6.12.117 #1
[ 1595.199800] RIP: 0010:umount_check+0x8e/0xa0
[ 1595.200100] Call Trace:
[ 1595.200300]  <TASK>
[ 1595.200500]  d_walk+0xd2/0x2a0
[ 1595.200700]  shrink_dcache_for_umount+0x49/0x110
[ 1595.201000]  generic_shutdown_super+0x1f/0x120
[ 1595.201300]  kill_litter_super+0x27/0x40
[ 1595.201600]  deactivate_locked_super+0x31/0xa0
[ 1595.201900]  cleanup_mnt+0xbd/0x150
[ 1595.202200]  task_work_run+0x5d/0x90
[ 1595.202500]  do_exit+0x2e3/0xa60
[ 1595.202800]  </TASK>
[ 1595.203000] ---[ end trace 0000000000000000 ]---
[ 1595.210000] VFS: Busy inodes after unmount of rpc_pipefs (rpc_pipefs)
"""


def test_eventfs_kasan_slab_use_after_free():
    (r,) = analyze(EVENTFS_KASAN.encode())
    assert r.title == "KASAN: slab-use-after-free Read in tracing_open_file_tr"
    assert r.type == "KASAN-USE-AFTER-FREE-READ"
    assert not r.corrupted
    assert r.guilty_frame == "tracing_open_file_tr"
    assert r.frames[:3] == ["dump_stack_lvl", "print_report", "kasan_report"]
    assert "bad-access in tracing_open_file_tr" in r.alt_titles
    assert (r.start_line, r.end_line) == (2, 43)
    assert "Freed by task 4310:" in r.text


def test_f_show_variant_names_f_show():
    log = EVENTFS_KASAN.replace("tracing_open_file_tr+0x3a/0x1f0", "f_show+0x43b/0x470")
    assert analyze(log.encode())[0].title == "KASAN: slab-use-after-free Read in f_show"


def test_null_deref_through_rip_zero_names_pick_link():
    (r,) = analyze(PICK_LINK_NULL.encode())
    # RIP is 0: no function there; the first trusted caller is the guilty frame.
    assert r.title == "BUG: unable to handle kernel NULL pointer dereference in pick_link"
    assert r.type == "NULL-POINTER-DEREFERENCE"
    assert r.guilty_frame == "pick_link"
    assert not r.corrupted
    assert r.frames[0] == "pick_link"
    assert r.end_line == 31  # the end-of-trace marker


def test_soft_lockup_in_fsnotify_walk():
    (r,) = analyze(FSNOTIFY_SOFT_LOCKUP.encode())
    # Stalls are grouped by the syscall that entered the looping code, as syzkaller does.
    assert r.title == "BUG: soft lockup in sys_inotify_add_watch"
    assert r.type == "HANG"
    assert not r.corrupted
    assert r.frames[0] == "fsnotify_set_children_dentry_flags"
    assert "fsnotify_recalc_mask" in r.frames
    assert "stall in sys_inotify_add_watch" in r.alt_titles


def test_soft_lockup_of_openers_spinning_in_fsnotify_parent():
    log = """\
[  401.100000] watchdog: BUG: soft lockup - CPU#1 stuck for 23s! [openclose:741]
[  401.100100] CPU: 1 UID: 0 PID: 741 Comm: openclose Not tainted 6.12.117 #1
[  401.100200] RIP: 0010:native_queued_spin_lock_slowpath+0x6e/0x2c0
[  401.100300] Call Trace:
[  401.100400]  <TASK>
[  401.100500]  _raw_spin_lock+0x29/0x30
[  401.100600]  __fsnotify_parent+0x1b5/0x330
[  401.100700]  do_dentry_open+0x181/0x4c0
[  401.100800]  vfs_open+0x2e/0x40
[  401.100900]  path_openat+0x846/0x1000
[  401.101000]  do_filp_open+0xa7/0x150
[  401.101100]  do_sys_openat2+0x8a/0xc0
[  401.101200]  __x64_sys_openat+0x59/0x80
[  401.101300]  do_syscall_64+0x82/0x170
[  401.101400]  entry_SYSCALL_64_after_hwframe+0x76/0x7e
[  401.101500]  </TASK>
"""
    (r,) = analyze(log.encode())
    # syzkaller's stall rule: the frame just above the first dispatcher
    # (do_dentry_open is one: open's file-specific work starts there).
    assert r.title == "BUG: soft lockup in __fsnotify_parent"
    assert "__fsnotify_parent" in r.frames


def test_dentry_still_in_use_keeps_its_two_spaces_and_drops_the_device():
    reports = analyze(DENTRY_IN_USE.encode())
    # syzkaller's ParseAll: the WARN() after the message is a report of its own.
    assert [r.title for r in reports] == [
        "BUG: Dentry still in use in unmount",
        "WARNING in umount_check",
        "VFS: Busy inodes after unmount (use-after-free)",
    ]
    dentry = reports[0]
    assert "BUG: Dentry still in use [unmount of rpc_pipefs rpc_pipefs]" in dentry.alt_titles
    assert "}  still in use (2)" in dentry.text  # printed as is, two spaces
    # The stack the WARN() printed is shown with the message, which has none of its own.
    assert "umount_check" in dentry.frames
    assert not dentry.corrupted
    assert (dentry.start_line, dentry.end_line) == (1, 18)


def test_dentry_message_alone_with_one_space():
    log = b"[ 1.0] BUG: Dentry ffff888119d8a000{i=0,n=.index} still in use (1) [unmount of tmpfs tmpfs]\n"
    (r,) = analyze(log)
    assert r.title == "BUG: Dentry still in use in unmount"


def test_busy_inodes_after_unmount():
    (r,) = analyze(b"[  20.1] VFS: Busy inodes after unmount of tmpfs (tmpfs)\n")
    assert r.title == "VFS: Busy inodes after unmount (use-after-free)"
    assert not r.corrupted


def test_reports_in_order_of_appearance_in_one_log():
    log = "\n".join([FSNOTIFY_SOFT_LOCKUP, "[ 500.0] random chatter\n" * 3, PICK_LINK_NULL, EVENTFS_KASAN])
    titles = [r.title for r in analyze(log.encode())]
    assert titles == [
        "BUG: soft lockup in sys_inotify_add_watch",
        "BUG: unable to handle kernel NULL pointer dereference in pick_link",
        "KASAN: slab-use-after-free Read in tracing_open_file_tr",
    ]


def test_list_corruption_names_the_list_user():
    log = b"""\
[ 77.1] list_del corruption. prev->next should be ffff888012345678, but was dead000000000100. (prev=ffff888012340000)
[ 77.1] ------------[ cut here ]------------
[ 77.1] kernel BUG at lib/list_debug.c:62!
[ 77.1] Oops: invalid opcode: 0000 [#1] PREEMPT SMP KASAN NOPTI
[ 77.1] RIP: 0010:__list_del_entry_valid_or_report+0x10f/0x130
[ 77.1] Call Trace:
[ 77.1]  <TASK>
[ 77.1]  ? die+0x36/0x90
[ 77.1]  __list_del_entry+0x1d/0x60
[ 77.1]  eventfs_remove_rec+0x1a2/0x2c0
[ 77.1]  eventfs_remove_dir+0x2b/0x50
[ 77.1]  </TASK>
"""
    (r,) = analyze(log)
    assert r.title == "BUG: corrupted list in eventfs_remove_rec"
    assert r.type == "MEMORY_SAFETY_BUG"


def test_xfs_assertion_warning_names_the_xfs_caller():
    log = b"""\
[ 90.0] XFS: Assertion failed: VFS_I(ip)->i_nlink == 0, file: fs/xfs/xfs_inode.c, line: 1234
[ 90.0] ------------[ cut here ]------------
[ 90.0] WARNING: CPU: 1 PID: 900 at fs/xfs/xfs_message.c:104 assfail+0x54/0x60
[ 90.0] RIP: 0010:assfail+0x54/0x60
[ 90.0] Call Trace:
[ 90.0]  <TASK>
[ 90.0]  xfs_iget_recycle+0x2a1/0x310
[ 90.0]  xfs_iget+0x7d2/0x10b0
[ 90.0]  </TASK>
"""
    (r,) = analyze(log)
    # syzkaller skips "assertfail" frames, not XFS's "assfail": the RIP names it.
    assert r.title == "WARNING in assfail"
