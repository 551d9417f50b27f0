"""One synthetic console per class of syzkaller rule the analysis follows.

Each log is made up here (not taken from a corpus) to exercise one rule:
generic frames, stall anchors and syscall prefixes, per-format stack rules,
special formats, title variants, corruption, report extent, architectures,
C++ names.
"""

from __future__ import annotations

from harness.analysis import analyze


def ts(text: str, tag: str = "") -> bytes:
    """Timestamp every line (and add a caller tag if given)."""
    out = []
    for i, ln in enumerate(text.strip("\n").split("\n")):
        out.append(f"[  100.{i:06d}]{tag} {ln}")
    return ("\n".join(out) + "\n").encode()


def first(log: bytes):
    reports = analyze(log)
    assert reports, log
    return reports[0]


def kasan(frames: str) -> bytes:
    return ts(
        "BUG: KASAN: slab-use-after-free in memcpy+0x10/0x20\n"
        "Read of size 8 at addr ffff888012345678 by task a.out/100\n"
        "CPU: 0 PID: 100 Comm: a.out Not tainted 6.12.0 #1\n"
        "Call Trace:\n <TASK>\n dump_stack_lvl+0x1/0x2\n print_report+0x1/0x2\n kasan_report+0x1/0x2\n"
        + frames
        + " do_syscall_64+0x1/0x2\n </TASK>\n\nAllocated by task 1:\n kmalloc_trace+0x1/0x2\n"
    )


# 1. Generic frames


def test_generic_frames_of_syzkallers_list_are_skipped():
    frames = (
        " print_hex_dump+0x1/0x2\n __mod_timer+0x1/0x2\n ida_free+0x1/0x2\n usb_submit_urb+0x1/0x2\n"
        " complete+0x1/0x2\n rhashtable_lookup+0x1/0x2\n mydrv_disconnect+0x1/0x2\n"
    )
    assert first(kasan(frames)).title == "KASAN: slab-use-after-free Read in mydrv_disconnect"


def test_frames_syzkaller_does_not_skip_are_named():
    # Page-fault entry helpers are not on syzkaller's list.
    assert first(kasan(" do_user_addr_fault+0x1/0x2\n foo+0x1/0x2\n")).title == (
        "KASAN: slab-use-after-free Read in do_user_addr_fault"
    )


def test_arm64_fault_path_frames_are_generic():
    log = ts(
        "Unable to handle kernel paging request at virtual address dead000000000108\n"
        "Internal error: Oops: 96000044 [#1] PREEMPT SMP\n"
        "pc : do_mem_abort+0x1/0x2\n"
        "lr : el1_abort+0x1/0x2\n"
        "Call trace:\n do_mem_abort+0x1/0x2\n el1_abort+0x1/0x2\n el1h_64_sync_handler+0x1/0x2\n"
        " el1h_64_sync+0x1/0x2\n list_walker+0x1/0x2\n"
    )
    assert first(log).title == "BUG: unable to handle kernel paging request in list_walker"


# 2. Stalls and syscall entries


def test_stall_is_named_before_the_first_anchor():
    log = ts(
        "watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [a.out:10]\n"
        "RIP: 0010:spin_in_loop+0x1/0x2\n"
        "Call Trace:\n <TASK>\n spin_in_loop+0x1/0x2\n proc_thing_open+0x1/0x2\n do_dentry_open+0x1/0x2\n"
        " vfs_open+0x1/0x2\n path_openat+0x1/0x2\n do_syscall_64+0x1/0x2\n </TASK>\n"
    )
    assert first(log).title == "BUG: soft lockup in proc_thing_open"


def test_syscall_prefixes_shortest_result_wins():
    log = ts(
        "watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [a.out:10]\n"
        "RIP: 0010:loop_here+0x1/0x2\n"
        "Call Trace:\n <TASK>\n __do_sys_frobnicate+0x1/0x2\n do_syscall_64+0x1/0x2\n </TASK>\n"
    )
    r = first(log)
    # "__do_sys_" removed alone gives the shortest; RIP's loop_here comes first though.
    assert r.title == "BUG: soft lockup in __do_sys_frobnicate".replace("__do_sys_", "")
    assert "BUG: soft lockup in __do_sys_frobnicate" in r.alt_titles


def test_kernel_stack_overflow_uses_the_stall_extractor():
    log = ts(
        "Kernel panic - not syncing: kernel stack overflow\n"
        "Call Trace:\n recurse+0x1/0x2\n recurse+0x1/0x2\n start_recursion+0x1/0x2\n"
        " worker+0x1/0x2\n process_one_work+0x1/0x2\n worker_thread+0x1/0x2\n"
    )
    assert first(log).title == "kernel stack overflow in worker"


def test_rcu_stall_trace_starts_at_the_timer_interrupt():
    log = ts(
        "INFO: rcu_preempt self-detected stall on CPU\n"
        "rcu: 0-....: (10500 ticks this GP)\n"
        " rcu_dump_cpu_stacks+0x1/0x2\n"
        " apic_timer_interrupt+0x1/0x2\n"
        "RIP: 0010:busy_walk+0x1/0x2\n"
        " busy_walk+0x1/0x2\n netlink_dump+0x1/0x2\n"
    )
    assert first(log).title == "INFO: rcu detected stall in busy_walk"


# 3. Per-format stack rules


def test_kmsan_skips_crypto_helpers():
    log = ts(
        "BUG: KMSAN: uninit-value in crypto_sha_update+0x1/0x2\n"
        " crypto_sha_update+0x1/0x2\n aes_encrypt+0x1/0x2\n my_protocol_send+0x1/0x2\n"
        "Uninit was created at:\n kmem_cache_alloc+0x1/0x2\n my_alloc_site+0x1/0x2\n"
    )
    assert first(log).title == "KMSAN: uninit-value in my_protocol_send"


def test_lockdep_warning_skips_socket_lock_and_release():
    log = ts(
        "WARNING: CPU: 0 PID: 1 at kernel/locking/lockdep.c:5000 lock_release+0x1/0x2\n"
        "RIP: 0010:lock_release+0x1/0x2\n"
        "Call Trace:\n release_sock+0x1/0x2\n lock_sock_nested+0x1/0x2\n tcp_frob+0x1/0x2\n"
    )
    assert first(log).title == "WARNING: locking bug in tcp_frob"


def test_bad_page_state_has_its_own_skip_list():
    log = ts(
        "BUG: Bad page state in process a.out  pfn:12345\n"
        "page last allocated via order 0, migratetype Movable\n"
        " post_alloc_hook+0x1/0x2\n get_page_from_freelist+0x1/0x2\n folio_alloc+0x1/0x2\n"
        " ext4_mb_new_blocks+0x1/0x2\n"
        "Call Trace:\n dump_stack+0x1/0x2\n"
    )
    assert first(log).title == "BUG: Bad page state in ext4_mb_new_blocks"


def test_inconsistent_lock_state_takes_the_main_trace():
    log = ts(
        "WARNING: inconsistent lock state\n"
        "{SOFTIRQ-ON-W} -> {IN-SOFTIRQ-W} usage.\n"
        "a.out/10 [HC0[0]:SC1[1]:HE1:SE0] takes:\n"
        "ffff888012345678 (&lock){+.?.}-{2:2}, at: lock_site_fn+0x1/0x2\n"
        "Call Trace:\n <IRQ>\n dump_stack_lvl+0x1/0x2\n mark_lock+0x1/0x2\n softirq_handler_fn+0x1/0x2\n"
    )
    assert first(log).title == "inconsistent lock state in softirq_handler_fn"


# 4. Special formats


def test_go_runtime_fatal_error():
    r = first(b"fatal error: concurrent map writes\n\ngoroutine 1 [running]:\n")
    assert (r.title, r.corrupted) == ("go runtime error", False)


def test_int3():
    log = ts("int3: 0000 [#1] SMP\nRIP: 0010:patched_fn+0x1/0x2\nCall Trace:\n caller_fn+0x1/0x2\n")
    assert first(log).title == "int3 in patched_fn"


def test_trusty_panic_with_a_message():
    assert first(b"trusty: panic (notifier): out of memory in heap\n").title == "trusty: panic: out of memory in heap"
    log = b"trusty: panic (x): ASSERT FAILED at (lib/heap.c:12): size > 0\n"
    assert first(log).title == "trusty: ASSERT FAILED: size > NUM"


# 5. Title variants


def test_usercopy_warning_form():
    log = ts(
        "WARNING: CPU: 0 PID: 1 at mm/usercopy.c:80 usercopy_warn+0x1/0x2\n"
        "RIP: 0010:usercopy_warn+0x1/0x2\n"
        "Call Trace:\n __check_object_size+0x1/0x2\n my_read+0x1/0x2\n"
    )
    # The RIP frame is skipped, so the call trace (the second recipe) names it.
    assert first(log).title == "WARNING: bad usercopy in my_read"


def test_bad_page_map():
    r = first(ts("BUG: Bad page map in process a.out  pte:8000 pmd:1234\nCall Trace:\n zap_pte_range+0x1/0x2\n"))
    assert r.title == "BUG: Bad page map"


def test_warning_with_a_bracketed_condition_before_the_path():
    log = ts(
        "WARNING: [!list_empty(&x->list)] fs/frob.c:12 at frob_release+0x1/0x2, CPU#0: a.out/1\n"
        "RIP: 0010:frob_release+0x1/0x2\nCall Trace:\n __fput+0x1/0x2\n"
    )
    assert first(log).title == "WARNING in frob_release"


def test_hung_task_name_with_odd_bytes():
    log = (
        b"[  100.0] INFO: task kworker/u4:1 \xff\xfe:55 blocked for more than 143 seconds.\n"
        b"[  100.1] Call Trace:\n[  100.2]  __schedule+0x1/0x2\n[  100.3]  schedule+0x1/0x2\n"
        b"[  100.4]  rwsem_down_write_slowpath+0x1/0x2\n[  100.5]  frob_flush_all+0x1/0x2\n"
    )
    assert first(log).title == "INFO: task hung in frob_flush_all"


# 6. Corrupted judgement


def test_bare_info_header_is_corrupted():
    r = first(ts("INFO:\nsomething else\n"))
    assert (r.title, r.corrupted) == ("INFO: corrupted", True)


def test_warning_second_recipe_when_the_first_is_not_clean():
    # The RIP's function is generic: the call trace is read instead, and the title is clean.
    log = ts(
        "WARNING: CPU: 0 PID: 1 at lib/refcount.c:25 refcount_warn_saturate+0x1/0x2\n"
        "RIP: 0010:refcount_warn_saturate+0x1/0x2\n"
        "Call Trace:\n refcount_dec+0x1/0x2\n frob_put+0x1/0x2\n"
    )
    r = first(log)
    assert (r.title, r.corrupted) == ("WARNING: refcount bug in frob_put", False)


def test_questionable_frames_are_never_used():
    log = ts(
        "BUG: scheduling while atomic: a.out/1/0x00000002\n"
        "Call Trace:\n ? frob_a+0x1/0x2\n ? frob_b+0x1/0x2\n",
        tag="[  T1]",
    )
    r = first(log)
    assert (r.title, r.corrupted) == ("BUG: scheduling while atomic in corrupted", True)


def test_corruption_is_judged_on_the_whole_report():
    # The title comes from the part before the next report; the whole report
    # then has an "Allocated by task" with no frame after it.
    log = ts(
        "BUG: spinlock bad magic on CPU#0, a.out/1\n"
        "Call Trace:\n frob_spin+0x1/0x2\n frob_main+0x1/0x2\n"
        "BUG: KASAN: use-after-free in other+0x1/0x2\n"
        "Allocated by task 1:\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n"
    )
    r = first(log)
    assert r.title == "BUG: spinlock bad magic in frob_spin"
    assert r.corrupted and r.corrupted_reason == "call trace is missed"
    # The same report without what follows the next header is sound.
    cut = log[: log.index(b"[  100.000004]")]
    assert not first(cut).corrupted


# 7. Report extent


def test_caller_tagged_report_runs_past_another_contexts_header():
    log = (
        ts("BUG: scheduling while atomic: a.out/1/0x00000002", "[  T1]")
        + ts("WARNING: CPU: 1 PID: 2 at fs/x.c:1 other_fn+0x1/0x2", "[  T2]")
        + ts("Call Trace:\n sleeper_fn+0x1/0x2\n", "[  T1]")
    )
    reports = analyze(log)
    assert reports[0].title == "BUG: scheduling while atomic in sleeper_fn"
    # Without caller tags the next header ends the title's text.
    plain = ts(
        "BUG: scheduling while atomic: a.out/1/0x00000002\n"
        "WARNING: CPU: 1 PID: 2 at fs/x.c:1 other_fn+0x1/0x2\n"
        "Call Trace:\n sleeper_fn+0x1/0x2\n"
    )
    assert analyze(plain)[0].title == "BUG: scheduling while atomic in corrupted"


def test_double_fault_does_not_start_a_report():
    log = ts(
        "general protection fault, probably for non-canonical address 0xdead: 0000 [#1]\n"
        "PANIC: double fault, error_code: 0x0\n"
        "RIP: 0010:frob_deref+0x1/0x2\n"
        "Call Trace:\n frob_caller+0x1/0x2\n"
    )
    assert [r.title for r in analyze(log)] == ["general protection fault in frob_deref"]


# 8. Architectures


def test_riscv_epc_line():
    log = ts(
        "Unable to handle kernel paging request at virtual address 0000000000001000\n"
        "epc : frob_riscv+0x1/0x2\n ra : caller+0x1/0x2\n"
        "status: 0000000200000120 badaddr: 0000000000001000 cause: 000000000000000d\n"
        "[<ffffffff80001234>] frob_riscv+0x1/0x2\n[<ffffffff80001300>] caller+0x1/0x2\n"
        "[<ffffffff80001400>] ret_from_exception+0x0/0x64\n"
    )
    r = first(log)
    assert r.title == "BUG: unable to handle kernel paging request in frob_riscv"
    assert not r.corrupted  # riscv's register dump opens a trace with no heading


# 9. C++ names


def test_cpp_names_demangled_without_parameters():
    log = ts(
        "general protection fault: 0000 [#1]\n"
        "RIP: 0010:_ZN4frob6detail7doThingEv+0x1/0x2\n"
        "Call Trace:\n _ZN4frob6detail7doThingEv+0x1/0x2\n"
    )
    assert first(log).title == "general protection fault in frob::detail::doThing"


def test_prefilter_words_are_necessary_for_the_patterns():
    """stack.py tests cheap words before the stack-start and fault-injection
    patterns; every pattern must hold one of the words literally, so the
    shortcut never hides a match (this fails when the reference adds one)."""
    from harness.analysis.stack import CORRUPTED_WORDS, STACK_START_WORDS
    from harness.analysis.table.params import CORRUPTED_LINES, STACK_START

    samples = {
        "Call Trace": True, "Call trace:": True, "Allocated:": True, "Allocated by task 5:": True,
        "Freed:": True, "Freed by task 7:": True, "unreferenced object: backtrace (crc 1a2b):": True,
        "Backtrace:": True, "Uninit was stored to memory at:": True,
        "status: 0000000200000120 badaddr: 0000000000001000 cause: 000000000000000d": True,
        "stack backtrace:": False, " foo+0x1/0x2": False,
    }
    from harness.analysis.stack import STACK_START_ANY, is_stack_start

    for line, want in samples.items():
        assert is_stack_start(line) == want == bool(STACK_START_ANY.search(line)), line
    for pattern in STACK_START:
        plain = pattern.replace("(?:T|t)", "T").replace("\\", "")
        assert any(w.strip() in plain or w in plain for w in STACK_START_WORDS), pattern
    for pattern in CORRUPTED_LINES:
        assert any(w in pattern for w in CORRUPTED_WORDS), pattern
