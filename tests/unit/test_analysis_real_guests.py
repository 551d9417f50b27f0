"""The analysis on consoles captured from the project's own guests (tests/data/consoles)."""

from pathlib import Path

import pytest

from harness.analysis import analyze_file

DATA = Path(__file__).resolve().parent.parent / "data" / "consoles"


@pytest.mark.parametrize(
    "name, first, alt",
    [
        ("sysrq-crash.log", "kernel panic: sysrq triggered crash", None),
        ("eventfs-file-uaf.log", "KASAN: slab-use-after-free Read in tracing_open_file_tr", None),
        ("xfs-symlink-recycle.log", "BUG: unable to handle kernel NULL pointer dereference in pick_link", None),
        ("inotify-dentry-leak.log", "BUG: Dentry still in use in unmount", "BUG: Dentry still in use [unmount of xfs vdb]"),
        ("fsnotify-rewalk-herd.log", "BUG: soft lockup in sys_inotify_add_watch", None),
    ],
)
def test_first_report_of_real_guest_consoles(name, first, alt):
    reports = analyze_file(DATA / name)
    assert reports, name
    r = reports[0]
    assert r.title == first and not r.corrupted
    if alt:
        assert alt in r.alt_titles
    assert r.frames and r.end_line > r.start_line


def test_uaf_report_names_the_call_path():
    (r,) = analyze_file(DATA / "eventfs-file-uaf.log")
    assert r.guilty_frame == "tracing_open_file_tr"
    # The generic KASAN frames stay in the stack; the guilty one is the first past them.
    assert r.frames.index("tracing_open_file_tr") < r.frames.index("do_dentry_open")
    assert "Read of size" in r.text


def test_null_deref_through_symlink_has_rip_zero_and_pick_link_frames():
    r = analyze_file(DATA / "xfs-symlink-recycle.log")[0]
    assert "RIP: 0010:0x0" in r.text
    assert "pick_link" in r.frames


def test_dentry_leak_is_followed_by_busy_inodes():
    titles = [r.title for r in analyze_file(DATA / "inotify-dentry-leak.log")]
    assert titles.count("BUG: Dentry still in use in unmount") == 4
    assert "VFS: Busy inodes after unmount (use-after-free)" in titles


def test_fsnotify_herd_shows_add_watch_spinning_behind_re_walking_openers():
    reports = analyze_file(DATA / "fsnotify-rewalk-herd.log")
    assert "fsnotify_set_children_dentry_flags" in reports[0].frames
    herd = [r for r in reports[1:] if "__fsnotify_update_child_dentry_flags" in r.frames]
    # Closers (__fput) and openers (vfs_open) alike: the frame above the dispatcher.
    assert {r.title for r in herd} == {"BUG: soft lockup in __fsnotify_parent"}
    assert len(herd) == 2
